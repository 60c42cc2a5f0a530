//! The admin console's pictures for the README. Its flows are tested in
//! Chromium by clients/typescript/test/console.test.mjs (run by typescript.rs).

use std::path::Path;
use std::process::Command;

/// Writes `docs/admin-console.png` (1280 px) and `docs/admin-console-phone.png`
/// (375 px): run with `cargo test --test tools console -- --ignored`.
#[test]
#[ignore = "writes docs/admin-console.png and docs/admin-console-phone.png for the README"]
fn take_admin_console_screenshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("node")
        .arg("scripts/console-screenshots.mjs")
        .arg(root.join("docs"))
        .current_dir(root.join("clients/typescript"))
        .env("AUTHLITE_BIN", env!("CARGO_BIN_EXE_authlite"))
        .status()
        .expect(
            "node runs (the screenshots need node, npm ci in clients/typescript, and chromium)",
        );
    assert!(status.success(), "the screenshot script failed: {status}");
}
