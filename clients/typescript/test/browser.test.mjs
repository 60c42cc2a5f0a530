// In real Chromium (Debian's /usr/bin/chromium, driven by playwright-core; no
// browser is ever downloaded): the module as the server serves it, two tabs
// sharing storage "local", and the built-in page's password flows.
//
// Without Chromium these tests are skipped with a banner, unless
// AUTHLITE_REQUIRE_CLIENT=1 or AUTHLITE_REQUIRE_BROWSER=1, which make them fail.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { ADA, hasPath, sleep, startServer } from "./helpers.mjs";

const CHROMIUM = "/usr/bin/chromium";
const required = process.env.AUTHLITE_REQUIRE_CLIENT === "1" || process.env.AUTHLITE_REQUIRE_BROWSER === "1";
const missing = !existsSync(CHROMIUM);
if (missing) {
  const why = `BROWSER TESTS OF authlite-client NOT RUN: ${CHROMIUM} is missing (apt-get install chromium, or .ci/browser-setup)`;
  if (required) throw new Error(`${why}; AUTHLITE_REQUIRE_CLIENT=1 requires it`);
  const bar = "!".repeat(78);
  process.stderr.write(`\n${bar}\n${why}\n${bar}\n`);
}

let browser;
let server;
before(async () => {
  if (missing) return;
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  server = await startServer(["--access-ttl", "4"]);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A tab of `context` on a page of the server, with `auth` = a client on storage "local". */
async function tab(context, options = "{ storage: 'local' }") {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.goto(new URL("/healthz", server.url).href);
  await page.evaluate(`(async () => {
    const { AuthliteClient, AuthliteError } = await import("/client/authlite-client.js");
    window.AuthliteError = AuthliteError;
    window.auth = new AuthliteClient(${options});
    window.changes = [];
    window.rejections = [];
    addEventListener("unhandledrejection", (e) => rejections.push(String(e.reason)));
    auth.onChange((s) => changes.push(s && s.refreshToken));
  })()`);
  page.errors = errors;
  return page;
}

const token = (page) => page.evaluate(() => auth.session && auth.session.refreshToken);

async function until(what, check) {
  const started = Date.now();
  for (;;) {
    if (await check()) return;
    if (Date.now() - started > 10_000) assert.fail(`waited 10 s for ${what}`);
    await sleep(50);
  }
}

describe("two tabs sharing storage \"local\"", { skip: missing && "no chromium" }, () => {
  test("the module from /client/authlite-client.js signs in, and the other tab follows", async () => {
    const context = await browser.newContext();
    try {
      const a = await tab(context);
      const b = await tab(context);
      assert.equal(await b.evaluate(() => auth.session), null);
      const session = await a.evaluate(([email, password]) => auth.login(email, password), [ADA.email, ADA.password]);
      await until("tab b to hear of the sign-in", async () => (await token(b)) === session.refreshToken);
      assert.deepEqual(await b.evaluate(() => changes), [session.refreshToken]);
      assert.equal(await b.evaluate(() => auth.me().then((u) => u.email)), ADA.email);

      // A third tab opened now starts signed in (b's me() refreshed: a margin of
      // 60 s is longer than these 4-second tokens).
      const c = await tab(context);
      await until("tab a to take b's refresh", async () => (await token(a)) === (await token(b)));
      assert.equal(await token(c), await token(b));

      const next = await b.evaluate(() => auth.refresh().then((s) => s.refreshToken));
      await until("tab a to take b's refresh", async () => (await token(a)) === next);
      for (const page of [a, b, c]) {
        assert.deepEqual(page.errors, []);
        assert.deepEqual(await page.evaluate(() => rejections), []);
      }
    } finally {
      await context.close();
    }
  });

  test("tabs refreshing at the same moment all stay signed in (never TOKEN_REUSED)", async () => {
    const context = await browser.newContext();
    try {
      const tabs = [await tab(context, "{ storage: 'local', refreshMargin: 1 }"), await tab(context, "{ storage: 'local', refreshMargin: 1 }")];
      await tabs[0].evaluate(([email, password]) => auth.login(email, password), [ADA.email, ADA.password]);
      await until("tab 2 signed in", async () => (await token(tabs[1])) !== null);
      for (let round = 0; round < 3; round++) {
        // Explicit refreshes, both at once.
        const pairs = await Promise.all(tabs.map((p) => p.evaluate(() => auth.refresh().then((s) => s.refreshToken, (e) => `failed: ${e.code}`))));
        for (const pair of pairs) assert.doesNotMatch(pair, /^failed/);
        // Calls that renew the token as it nears its expiry, both at once.
        const expiresAt = await tabs[0].evaluate(() => auth.session.expiresAt);
        await sleep(Math.max(0, (expiresAt - 1 - Date.now() / 1000) * 1000 + 150));
        const answers = await Promise.all(tabs.map((p) => p.evaluate(() => auth.me().then((u) => u.email, (e) => `failed: ${e.code}`))));
        assert.deepEqual(answers, [ADA.email, ADA.email], `round ${round}`);
      }
      await until("both tabs to hold the same session", async () => (await token(tabs[0])) === (await token(tabs[1])));
      for (const p of tabs) {
        assert.ok(await token(p), "still signed in");
        assert.ok(!(await p.evaluate(() => changes)).includes(null), "never signed out");
      }
    } finally {
      await context.close();
    }
  });

  test("logout in one tab reaches the other, listeners included", async () => {
    const context = await browser.newContext();
    try {
      const a = await tab(context);
      const b = await tab(context);
      await a.evaluate(([email, password]) => auth.login(email, password), [ADA.email, ADA.password]);
      await until("tab b signed in", async () => (await token(b)) !== null);
      await a.evaluate(() => auth.logout());
      await until("tab b signed out", async () => (await token(b)) === null);
      const seen = await b.evaluate(() => changes);
      assert.equal(seen.at(-1), null);
      assert.equal(seen.filter((s) => s === null).length, 1, "told once");
      const code = await b.evaluate(() => auth.me().catch((e) => `${e.status} ${e.code}`));
      assert.equal(code, "401 MISSING_TOKEN");
    } finally {
      await context.close();
    }
  });

  test("another context (another browser profile) shares nothing", async () => {
    const one = await browser.newContext();
    const two = await browser.newContext();
    try {
      const a = await tab(one);
      const b = await tab(two);
      await a.evaluate(([email, password]) => auth.login(email, password), [ADA.email, ADA.password]);
      await sleep(300);
      assert.equal(await token(b), null);
    } finally {
      await one.close();
      await two.close();
    }
  });
});

describe("the built-in page's password flows", { skip: missing && "no chromium" }, () => {
  let ready = false;
  before(async () => {
    if (!missing) ready = (await hasPath(server.url, "/user/password")) && (await hasPath(server.url, "/user/password/reset"));
  });

  async function open(context, url) {
    const page = await context.newPage();
    page.errors = [];
    page.on("pageerror", (e) => page.errors.push(e));
    // The browser logs each 4xx answer; those are expected here. Anything else is not.
    page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && page.errors.push(m.text()));
    await page.goto(url);
    await page.waitForSelector("html[data-ready]", { state: "attached" });
    return page;
  }

  async function expectError(page, code, words) {
    await page.waitForSelector(`#error[data-code="${code}"]`, { timeout: 10_000 });
    const text = await page.textContent("#error");
    assert.ok(text.includes(words), `#error: ${text}`);
  }

  async function link(email, flags = []) {
    const out = await server.cli("user", "link", email, "--public-url", server.url, ...flags);
    const m = /(\S*#set-password=\S+)/.exec(out);
    assert.ok(m, `no link in: ${out}`);
    return m[1];
  }

  test("a set-password link: asks twice, refuses what it must, sets it and signs in; the link works once", async (t) => {
    if (!ready) return t.skip("this server has no POST /user/password/reset yet");
    const context = await browser.newContext();
    try {
      const url = await link("invited@acme.test");
      const page = await open(context, url);
      await page.waitForSelector("#set-password-form", { state: "visible" });
      assert.equal(await page.isVisible("#signin-form"), false);
      assert.equal(new URL(page.url()).hash, "", "the link's token left the address bar at once");

      await page.fill("#new-password", "a long new password 1");
      await page.fill("#new-password-again", "a long new password 2");
      await page.click("#set-password");
      await expectError(page, "PASSWORDS_DIFFER", "not the same");

      await page.fill("#new-password", "short");
      await page.fill("#new-password-again", "short");
      await page.click("#set-password");
      await expectError(page, "WEAK_PASSWORD", "stronger password");

      await page.fill("#new-password", "a long new password 1");
      await page.fill("#new-password-again", "a long new password 1");
      await page.click("#set-password");
      await page.waitForSelector("#signed-in", { state: "visible" });
      assert.equal(await page.textContent("#user-email"), "invited@acme.test");
      assert.match(await page.textContent("#notice"), /password is set/);
      assert.equal(new URL(page.url()).hash, "", "the spent link left the address bar");

      const again = await open(context, url);
      await again.fill("#new-password", "another long password");
      await again.fill("#new-password-again", "another long password");
      await again.click("#set-password");
      await expectError(again, "INVALID_TOKEN", "does not work any more");
      assert.deepEqual([...page.errors, ...again.errors], []);
    } finally {
      await context.close();
    }
  });

  test("an expired set-password link says so", async (t) => {
    if (!ready) return t.skip("this server has no POST /user/password/reset yet");
    const context = await browser.newContext();
    try {
      const url = await link(ADA.email, ["--ttl", "1"]);
      await sleep(2100);
      const page = await open(context, url);
      await page.fill("#new-password", "another long password");
      await page.fill("#new-password-again", "another long password");
      await page.click("#set-password");
      await expectError(page, "TOKEN_EXPIRED", "expired");
    } finally {
      await context.close();
    }
  });

  test("signed in, the password is changed; wrong and weak passwords are explained", async (t) => {
    if (!ready) return t.skip("this server has no POST /user/password yet");
    const context = await browser.newContext();
    try {
      await server.cli("user", "add", "--email", "pagechange@acme.test", "--name", "Page Change");
      const url = await link("pagechange@acme.test");
      const page = await open(context, url);
      await page.fill("#new-password", "first long password");
      await page.fill("#new-password-again", "first long password");
      await page.click("#set-password");
      await page.waitForSelector("#signed-in", { state: "visible" });

      await page.fill("#current-password", "not my password");
      await page.fill("#changed-password", "second long password");
      await page.fill("#changed-password-again", "second long password");
      await page.click("#change-password");
      await expectError(page, "INVALID_PASSWORD", "current password is not right");

      await page.fill("#current-password", "first long password");
      await page.fill("#changed-password", "password");
      await page.fill("#changed-password-again", "password");
      await page.click("#change-password");
      await expectError(page, "WEAK_PASSWORD", "stronger password");

      await page.fill("#changed-password", "second long password");
      await page.fill("#changed-password-again", "second long password");
      await page.click("#change-password");
      await page.waitForFunction(() => document.getElementById("notice").textContent.includes("password is changed"));
      assert.equal(await page.isVisible("#signed-in"), true, "this session goes on");

      await page.click("#signout");
      await page.waitForSelector("#signin-form", { state: "visible" });
      await page.fill("#email", "pagechange@acme.test");
      await page.fill("#password", "second long password");
      await page.click("#signin");
      await page.waitForSelector("#signed-in", { state: "visible" });
      assert.deepEqual(page.errors, []);
    } finally {
      await context.close();
    }
  });
});
