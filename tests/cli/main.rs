//! The real `authlite` binary driven from the outside, as SPEC section 1
//! describes it: every command, its exit status, its environment variables,
//! and `serve` starting, stopping on SIGTERM and restarting on the same file.

mod apikey;
mod audit;
mod copy;
mod defects;
mod import_cost;
mod keys;
mod link;
mod mail;
mod open;
mod output;
mod roles;
mod seed;
mod serve;
mod state;
mod summary;
// Each suite uses only part of it.
#[allow(dead_code, unused_imports)]
#[path = "../support/mod.rs"]
mod support;
mod usage;
mod user;

// The modules of tests/support under the names this suite has always used.
use support::{binary as helpers, serve as server};
