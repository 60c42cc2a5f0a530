//! The product seen through other tools, one test binary for all of them:
//! a real browser, the configuration table, schemathesis, the TypeScript
//! client, the token-verification examples, and the API reference with its
//! code samples.
//! Each skips with a loud banner when its tool is missing, unless the run
//! requires it (as `.ci/run` does).

mod browser;
mod code_samples;
mod console;
mod docs_page;
mod readme;
mod schemathesis;
// Each suite uses only part of it.
#[allow(dead_code, unused_imports)]
#[path = "../support/mod.rs"]
mod support;
mod typescript;
mod verify_examples;
