//! What every test binary shares, included by each as
//! `#[path = "../support/mod.rs"] mod support;`: the seed cast, the real App
//! started in-process, the real binary run to its end or spawned as a server,
//! and waits that last only as long as the clock needs.

pub mod authenticator;
pub mod binary;
pub mod cast;
pub mod clock;
pub mod fill;
pub mod in_process;
pub mod mailbox;
pub mod serve;
