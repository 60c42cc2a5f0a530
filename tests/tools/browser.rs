//! The login page in a real browser: headless Chromium, driven through
//! chromedriver, against a server started in this process on a temp database.
//!
//! Needs `/usr/bin/chromium` and `chromedriver` (`.ci/browser-setup` installs
//! them). Without them the test prints a banner and passes, unless
//! `AUTHLITE_REQUIRE_BROWSER=1`, as in CI, where it fails.
//!
//! WebDriver is JSON over plain HTTP, so it is spoken here with ureq:
//! fantoccini without its TLS features takes only a hyper-util connector,
//! and hyper-util is not a dependency we can name.

use std::fs::File;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::cast::{test_settings, ADA, ADA_NAME, ADA_PASSWORD, ITERATIONS};
use crate::support::in_process::{InProcess, TestDatabase};

const CHROMIUM: &str = "/usr/bin/chromium";
const EMAIL: &str = ADA;
const NAME: &str = ADA_NAME;
const PASSWORD: &str = ADA_PASSWORD;
const WAIT: Duration = Duration::from_secs(10);
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

#[test]
fn a_person_signs_in_refreshes_calls_me_lists_sessions_and_signs_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(page) = Browser::start(dir.path(), "1200,900") else {
        return;
    };
    let site = Site::start(dir.path());
    page.goto(&site.url());
    page.wait_for("the page's script", || page.count("html[data-ready]") == 1);
    page.wait_for("the sign-in form", || page.displayed("#signin-form"));

    page.type_into("#email", EMAIL);
    page.type_into("#password", "not the password");
    page.click("#signin");
    page.wait_for("the INVALID_PASSWORD error", || {
        page.attr("#error", "data-code").as_deref() == Some("INVALID_PASSWORD")
    });
    let error = page.text("#error");
    assert!(error.contains("password is not right"), "#error: {error:?}");
    assert!(error.contains("INVALID_PASSWORD"), "#error: {error:?}");
    assert!(!page.displayed("#signed-in"), "signed in anyway");

    page.clear("#password");
    page.type_into("#password", PASSWORD);
    page.click("#signin");
    page.wait_for("the signed-in view", || page.displayed("#signed-in"));
    assert!(!page.displayed("#signin-form"), "sign-in form still shown");
    assert_eq!(page.text("#user-name"), NAME);
    assert_eq!(page.text("#user-email"), EMAIL);
    assert_eq!(page.text("#user-org"), "acme");
    assert!(page.text("#expires-at").starts_with("(at "), "no time");
    page.assert_no_error();
    page.assert_countdown_ticks();

    page.click("#refresh");
    page.wait_for("new tokens", || page.text("#notice").contains("New tokens"));
    page.assert_no_error();
    page.assert_countdown_ticks();

    page.click("#me");
    let me = page.wait_until("the /user/me answer", || {
        let text = page.text("#me-result");
        text.contains(EMAIL).then_some(text)
    });
    assert!(me.contains("\"success\": true"), "#me-result: {me}");
    page.assert_no_error();

    page.click("#load-sessions");
    page.wait_for("one listed session", || page.count("#sessions li") == 1);
    assert_eq!(page.count("#sessions li[aria-current=\"true\"]"), 1);
    let session = page.text("#sessions li");
    assert!(session.contains("This device"), "session: {session:?}");
    page.assert_no_error();

    page.click("#signout");
    page.wait_for("the sign-in form again", || {
        page.displayed("#signin-form") && !page.displayed("#signed-in")
    });
    assert!(page.text("#notice").contains("signed out"), "no notice");
    assert_eq!(page.count("#sessions li"), 0, "sessions still listed");
    page.assert_no_error();
}

#[test]
fn a_set_password_link_leaves_the_address_bar_at_once_and_still_sets_the_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(page) = Browser::start(dir.path(), "1200,900") else {
        return;
    };
    let site = Site::start(dir.path());
    let base = site.url();
    let link = set_password_link(&site.database.target, &base);
    let token = link
        .rsplit_once("#set-password=")
        .expect("a link")
        .1
        .to_string();
    page.goto(&link);
    page.wait_for("the page's script", || page.count("html[data-ready]") == 1);
    page.wait_for("the set-password form", || {
        page.displayed("#set-password-form")
    });
    let address = page.get("/url");
    assert_eq!(address.as_str(), Some(base.as_str()), "the address bar");
    let href = page.execute("return location.href;");
    assert!(!href.to_string().contains(&token), "location: {href}");

    // Kept in memory: a first try refused by the page, then the link still works.
    page.type_into("#new-password", "a long new password 1");
    page.type_into("#new-password-again", "a long new password 2");
    page.click("#set-password");
    page.wait_for("PASSWORDS_DIFFER", || {
        page.attr("#error", "data-code").as_deref() == Some("PASSWORDS_DIFFER")
    });
    page.clear("#new-password-again");
    page.type_into("#new-password-again", "a long new password 1");
    page.click("#set-password");
    page.wait_for("the signed-in view", || page.displayed("#signed-in"));
    assert_eq!(page.text("#user-email"), EMAIL);
    assert_eq!(page.get("/url").as_str(), Some(base.as_str()));
}

/// `authlite user link EMAIL` on the database at `db`, for the server at `base`.
fn set_password_link(db: &str, base: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_authlite"))
        .arg("--db")
        .arg(db)
        .args([
            "user",
            "link",
            EMAIL,
            "--public-url",
            base.trim_end_matches('/'),
        ])
        .output()
        .expect("run authlite user link");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success() && text.contains("#set-password="),
        "{text}"
    );
    text
}

/// Writes `docs/screenshot.png`: run with `cargo test --test tools browser -- --ignored`.
#[test]
#[ignore = "writes docs/screenshot.png for the README"]
fn take_readme_screenshot() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(page) = Browser::start(dir.path(), "1000,800") else {
        panic!("the screenshot needs chromium and chromedriver");
    };
    // The window's size includes what a browser window draws around the page.
    let frame = page.execute("return [outerWidth - innerWidth, outerHeight - innerHeight];");
    let (width, height) = (frame[0].as_u64(), frame[1].as_u64());
    let rect = json!({ "width": 1000 + width.unwrap_or(0), "height": 800 + height.unwrap_or(0) });
    page.post("/window/rect", rect);
    let site = Site::start(dir.path());
    page.goto(&site.url());
    page.type_into("#email", EMAIL);
    page.type_into("#password", PASSWORD);
    page.click("#signin");
    page.wait_for("the signed-in view", || page.displayed("#signed-in"));
    page.click("#load-sessions");
    page.wait_for("the session list", || page.count("#sessions li") == 1);
    page.execute("document.activeElement.blur(); window.scrollTo(0, 0);");
    let png = base64_decode(page.get("/screenshot").as_str().expect("base64"));
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshot.png");
    std::fs::create_dir_all(out.parent().expect("docs dir")).expect("create docs/");
    std::fs::write(&out, &png).expect("write the screenshot");
    eprintln!("wrote {} ({} bytes)", out.display(), png.len());
}

/// A server started in this process over the seed cast in `dir`; stopped
/// when dropped, before its database.
struct Site {
    server: InProcess,
    database: TestDatabase,
}

impl Site {
    fn start(dir: &Path) -> Site {
        let database = TestDatabase::seeded(&dir.join("authlite.db"), ITERATIONS);
        let server = InProcess::start(&database.target, test_settings());
        Site { server, database }
    }

    /// The login page's address, as the browser's address bar shows it.
    fn url(&self) -> String {
        format!("{}/", self.server.address)
    }
}

/// The chromedriver child process, killed when dropped (also when a test panics).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One WebDriver session. Dropping it closes Chromium, then kills chromedriver.
struct Browser {
    agent: ureq::Agent,
    session: String,
    _driver: Driver,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.session).call();
    }
}

impl Browser {
    /// None (after a banner) when the browser is missing and not required.
    fn start(dir: &Path, window_size: &str) -> Option<Browser> {
        let Some(chromedriver) = find_tools() else {
            let why = "BROWSER TESTS NOT RUN: install chromium and chromium-driver \
                       (apt-get install chromium chromium-driver), or run .ci/browser-setup";
            if std::env::var("AUTHLITE_REQUIRE_BROWSER").as_deref() == Ok("1") {
                panic!("{why}; AUTHLITE_REQUIRE_BROWSER=1 requires them");
            }
            // Straight to stderr: the test harness hides eprintln! output of passing tests.
            let bar = "!".repeat(78);
            let banner =
                format!("\n{bar}\n{why}\n(AUTHLITE_REQUIRE_BROWSER=1 fails instead)\n{bar}\n");
            let _ = std::io::stderr().write_all(banner.as_bytes());
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("find a free port")
            .port();
        let log_path = dir.join("chromedriver.log");
        let log = File::create(&log_path).expect("create the chromedriver log");
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let mut driver = Driver(child);
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while !agent
            .get(format!("{base}/status"))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
            .is_some_and(|v| v["value"]["ready"] == json!(true))
        {
            let exited = driver.0.try_wait().ok().flatten();
            if exited.is_some() || started.elapsed() > WAIT {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("chromedriver did not start ({exited:?}); its log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let args = format!(
            "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic \
             --no-first-run --disable-background-networking --disable-component-update \
             --disable-sync --window-size={window_size}"
        );
        let args: Vec<&str> = args.split_whitespace().collect();
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args }
        }}});
        let mut browser = Browser {
            agent,
            session: format!("{base}/session"),
            _driver: driver,
        };
        let created = browser.post("", capabilities);
        let id = created["sessionId"].as_str().expect("a session id");
        browser.session = format!("{base}/session/{id}");
        Some(browser)
    }

    fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.session);
        Self::value(&url, self.agent.get(&url).call())
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.session);
        Self::value(&url, self.agent.post(&url).send_json(body))
    }

    /// A WebDriver answer's `value`, or a panic with the driver's message.
    fn value(url: &str, sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Value {
        let mut resp = sent.unwrap_or_else(|e| panic!("{url}: {e}"));
        let status = resp.status();
        let v: Value = resp
            .body_mut()
            .with_config()
            .limit(20 << 20)
            .read_json()
            .unwrap_or_else(|e| panic!("{url}: {status}, not JSON: {e}"));
        assert!(status.is_success(), "{url}: {status}: {}", v["value"]);
        v["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url }));
    }

    fn execute(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
    }

    /// The elements matching `css` now; empty rather than an error when there are none.
    fn find_all(&self, css: &str) -> Vec<String> {
        let found = self.post(
            "/elements",
            json!({ "using": "css selector", "value": css }),
        );
        let ids = found.as_array().expect("a list of elements").iter();
        ids.map(|e| e[ELEMENT_KEY].as_str().expect("an element id").to_string())
            .collect()
    }

    /// The path of the first element matching `css`, followed by `what`.
    fn element(&self, css: &str, what: &str) -> String {
        let found = self.find_all(css).into_iter().next();
        let id = found.unwrap_or_else(|| panic!("no element {css}"));
        format!("/element/{id}/{what}")
    }

    fn count(&self, css: &str) -> usize {
        self.find_all(css).len()
    }

    fn click(&self, css: &str) {
        self.post(&self.element(css, "click"), json!({}));
    }

    fn clear(&self, css: &str) {
        self.post(&self.element(css, "clear"), json!({}));
    }

    fn type_into(&self, css: &str, text: &str) {
        self.post(&self.element(css, "value"), json!({ "text": text }));
    }

    /// The rendered text, as a person sees it: empty for a hidden element.
    fn text(&self, css: &str) -> String {
        let text = self.get(&self.element(css, "text"));
        text.as_str().unwrap_or_default().to_string()
    }

    fn attr(&self, css: &str, name: &str) -> Option<String> {
        let value = self.get(&self.element(css, &format!("attribute/{name}")));
        value.as_str().map(str::to_string)
    }

    fn displayed(&self, css: &str) -> bool {
        self.get(&self.element(css, "displayed")) == json!(true)
    }

    fn wait_for(&self, what: &str, mut ready: impl FnMut() -> bool) {
        self.wait_until(what, || ready().then_some(()));
    }

    /// Polls `ready` until it gives a value; after `WAIT`, fails showing the page's messages.
    fn wait_until<T>(&self, what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
        let started = Instant::now();
        loop {
            if let Some(value) = ready() {
                return value;
            }
            if started.elapsed() > WAIT {
                let (error, notice) = (self.text("#error"), self.text("#notice"));
                panic!("waited {WAIT:?} for {what}; #error: {error:?}, #notice: {notice:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn assert_no_error(&self) {
        let (code, text) = (self.attr("#error", "data-code"), self.text("#error"));
        assert!(
            code.is_none() && text.is_empty(),
            "error: {code:?} {text:?}"
        );
    }

    /// The access token countdown shows time left and moves on by itself.
    fn assert_countdown_ticks(&self) {
        let first = self.text("#expires-in");
        assert!(first.starts_with("expires in "), "countdown: {first:?}");
        let next = self.wait_until("the countdown to tick", || {
            let now = self.text("#expires-in");
            (now != first).then_some(now)
        });
        assert!(next.starts_with("expires in "), "countdown: {next:?}");
        assert_eq!(self.attr("#expires-in", "class").unwrap_or_default(), "");
    }
}

/// The chromedriver to use, when both it and Chromium are installed.
fn find_tools() -> Option<PathBuf> {
    if !Path::new(CHROMIUM).is_file() {
        return None;
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromedriver"))
        .find(|p| p.is_file())
}

/// Standard base64, as WebDriver sends screenshots.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in text.bytes().filter(|&c| c != b'=') {
        let digit = ALPHABET.iter().position(|&a| a == c).expect("base64 digit");
        acc = (acc << 6) | digit as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
