//! authlite: email and password login that signs Ed25519 JWTs, in one binary over one SQLite file
//! (or one PostgreSQL database shared by several instances).

pub mod api_keys;
pub mod app;
pub mod backup;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod error;
pub mod gate;
pub mod ids;
pub mod known_users;
pub mod lock_notes;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod mfa;
pub mod oidc;
pub mod openapi;
pub mod password;
pub mod roles;
pub mod routes;
pub mod seed;
pub mod session_cache;
pub mod settings;
pub mod state;
pub mod store;
pub mod tokens;
