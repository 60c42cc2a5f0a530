//! All SQL lives here: plain functions over a connection, no HTTP types.

pub mod failures;
pub mod keys;
pub mod links;
pub mod orgs;
pub mod sessions;
pub mod users;
