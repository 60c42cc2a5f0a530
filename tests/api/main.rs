//! HTTP integration tests: one binary, one module per area of the API.

mod admin_orgs;
mod admin_sessions;
mod admin_user_changes;
mod admin_users;
mod algorithms;
mod api_keys;
mod attacks;
mod audit;
mod audit_admin;
mod audit_erase;
mod audit_list;
mod audit_operator;
mod audit_secrets;
mod cli_writes;
mod console;
mod conventions;
mod docs;
mod errors;
mod hardening;
mod health;
mod helpers;
mod imported;
mod jwt;
mod keys;
mod lockout;
mod login;
mod logout;
mod ops;
mod password;
mod raw_http;
mod refresh;
mod roles;
mod sealed_rows;
mod sealed_upgrade;
mod sealing;
mod secrets;
mod session;
mod storage;
// Each suite uses only part of it.
#[allow(dead_code, unused_imports)]
#[path = "../support/mod.rs"]
mod support;
mod timing;
mod totp;
mod totp_admin;
mod totp_login;
