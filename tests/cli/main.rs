//! The real `authlite` binary driven from the outside, as SPEC section 1
//! describes it: every command, its exit status, its environment variables,
//! and `serve` starting, stopping on SIGTERM and restarting on the same file.

mod helpers;
mod import_cost;
mod keys;
mod link;
mod open;
mod output;
mod roles;
mod seed;
mod serve;
mod server;
mod state;
mod summary;
mod usage;
mod user;
