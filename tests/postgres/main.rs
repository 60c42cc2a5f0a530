//! SPEC section 7: several real `authlite serve` processes on one PostgreSQL
//! database behave as one server, and every command works against it.
//!
//! `AUTHLITE_TEST_POSTGRES` names a server through an admin URL
//! (`postgres://authlite:authlite@127.0.0.1:5432/postgres`, a role with
//! CREATEDB): each test makes a database of its own there and drops it after.
//! Without it every test prints a banner and passes, unless
//! `AUTHLITE_REQUIRE_POSTGRES=1`, as in `.ci/run` (`.ci/postgres-setup`), where
//! it fails. The outage test runs a PostgreSQL cluster of its own instead, from
//! the binaries under `/usr/lib/postgresql/*/bin`, and skips the same way
//! without them.

// Each suite uses only part of it.
#[allow(dead_code, unused_imports)]
#[path = "../support/mod.rs"]
mod support;
use support::{binary as helpers, serve as server};

mod api_keys;
mod cluster;
mod commands;
mod connect;
mod copy;
mod harness;
mod lockout;
mod mail;
mod mfa;
mod notify;
mod oidc;
mod outage;
mod passkeys;
mod propagation;
mod refresh;
mod round_trips;
mod sessions;
mod startup;
