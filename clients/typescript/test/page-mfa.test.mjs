// The built-in login page's two-step sign-in (SPEC sections 5 and 10) in real
// Chromium, against the real binary: TOTP turned on through the page with a
// code from pyotp, signed out, signed in with password and code, then with a
// recovery code, and turned off. Every request outside 127.0.0.1 is aborted
// (and none may be tried). With AUTHLITE_TEST_API_POSTGRES set, on PostgreSQL.
//
// Without Chromium or pyotp these tests are skipped with a banner, unless
// AUTHLITE_REQUIRE_CLIENT=1 or AUTHLITE_REQUIRE_BROWSER=1 (Chromium), or
// AUTHLITE_REQUIRE_EXAMPLES=1 (pyotp), which make them fail.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { ROOT, AuthliteClient, freshStep, post, pyotpMissing, startServer, totpAt } from "./helpers.mjs";

const CHROMIUM = "/usr/bin/chromium";
const required = process.env.AUTHLITE_REQUIRE_CLIENT === "1" || process.env.AUTHLITE_REQUIRE_BROWSER === "1";
const noChromium = !existsSync(CHROMIUM);
if (noChromium) {
  const why = `LOGIN PAGE TOTP BROWSER TESTS NOT RUN: ${CHROMIUM} is missing (apt-get install chromium, or .ci/browser-setup)`;
  if (required) throw new Error(`${why}; AUTHLITE_REQUIRE_CLIENT=1 requires it`);
  const bar = "!".repeat(78);
  process.stderr.write(`\n${bar}\n${why}\n${bar}\n`);
}
const noPyotp = pyotpMissing();
const skip = noChromium ? "no chromium" : noPyotp ? "no pyotp" : false;

const EMAIL = "pagetotp@acme.test";
const PASSWORD = "a long enough password";

let browser;
let server;
let api; // the admin API as root: what the test checks the page's work with
before(async () => {
  if (skip) return;
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  server = await startServer([], { postgres: true });
  const root = new AuthliteClient({ baseUrl: server.url });
  await root.login(ROOT.email, ROOT.password);
  api = root.admin;
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The login page in a fresh context, every request outside 127.0.0.1 aborted and recorded. */
async function loginPage(context) {
  const page = await context.newPage();
  page.outside = [];
  page.errors = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.protocol === "data:") return route.continue();
    page.outside.push(url.href);
    return route.abort();
  });
  page.on("pageerror", (e) => page.errors.push(e));
  // The browser logs each 4xx answer; those are expected here. Anything else is not.
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && page.errors.push(m.text()));
  await page.goto(new URL("/", server.url).href);
  await page.waitForSelector("html[data-ready]", { state: "attached" });
  return page;
}

async function signIn(page, password = PASSWORD) {
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

async function expectError(page, code, words) {
  await page.waitForSelector(`#error[data-code="${code}"]`, { timeout: 10_000 });
  const text = await page.textContent("#error");
  assert.ok(text.includes(words), `#error: ${text}`);
}

const signedIn = (page) => page.waitForSelector("#signed-in", { state: "visible" });
const status = (page) => page.textContent("#totp-status");
const offShown = (page) => page.locator("#totp-status", { hasText: /^Off: you sign in with your password alone\./ }).waitFor();

/** The amr of the user's latest sign-in, from the audit log (the page keeps its tokens to itself). */
async function lastSignIn() {
  const { users } = await api.users({ query: EMAIL });
  const { events } = await api.audit({ userId: users[0].id, type: "login.succeeded", limit: 1 });
  return events[0].detail.amr;
}

describe("the login page's two-step sign-in", { skip }, () => {
  test("TOTP on through the page, then password + code, a recovery code, and off", async () => {
    const { id } = await api.createUser({ email: EMAIL, name: "Page Totp", password: PASSWORD });
    const context = await browser.newContext();
    try {
      const page = await loginPage(context);
      await signIn(page);
      await signedIn(page);
      await offShown(page);

      // On: the QR image and the key, then the first code, then the recovery codes once.
      await page.getByRole("button", { name: "Set up an authenticator app" }).click();
      const qr = page.getByRole("img", { name: "QR code to scan with your authenticator app" });
      await qr.waitFor();
      const src = await qr.getAttribute("src");
      assert.match(src, /^data:image\/svg\+xml,/);
      await page.waitForFunction(() => document.getElementById("totp-qr").complete);
      assert.ok(await qr.evaluate((img) => img.naturalWidth > 0), "the QR image renders");
      const secret = (await page.textContent("#totp-secret")).replace(/\s+/g, "");
      assert.match(secret, /^[A-Z2-7]{32}$/);
      assert.ok(decodeURIComponent(src.slice(src.indexOf(",") + 1)).includes("<svg"), "the server's SVG, as an image");

      const t0 = await freshStep();
      await page.getByLabel("First code from the app").fill(await totpAt(secret, t0 + 90));
      await page.getByRole("button", { name: "Turn on", exact: true }).click();
      await expectError(page, "INVALID_CODE", "That code is not right");
      const first = await totpAt(secret, t0);
      await page.getByLabel("First code from the app").fill(`${first.slice(0, 3)} ${first.slice(3)}`);
      await page.getByRole("button", { name: "Turn on", exact: true }).click();
      const codes = page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem");
      await codes.nth(9).waitFor();
      const recovery = (await codes.allTextContents()).map((c) => c.trim());
      assert.equal(recovery.length, 10);
      assert.equal(new Set(recovery).size, 10);
      assert.match(await status(page), /^On: .* 10 recovery codes left\.$/);
      assert.deepEqual((await api.user(id)).mfa, { totp: true, recoveryCodesLeft: 10, passkeys: 0 });
      await page.getByRole("button", { name: "I have saved them" }).click();
      assert.equal(await codes.count(), 0, "shown once");
      assert.ok(!(await page.content()).includes(recovery[0]), "no recovery code left in the page");

      // Signed out; the password alone no longer signs in: the code step asks for one.
      await page.getByRole("button", { name: "Sign out", exact: true }).click();
      await page.waitForSelector("#signin-form", { state: "visible" });
      await signIn(page);
      await page.getByRole("heading", { name: "Enter your code" }).waitFor();
      assert.equal(await page.isVisible("#signed-in"), false);
      await page.getByLabel("Code", { exact: true }).fill(first); // the confirm's step: a replay
      await page.getByRole("button", { name: "Continue" }).click();
      await expectError(page, "INVALID_CODE", "That code is not right");
      await page.getByLabel("Code", { exact: true }).fill(await totpAt(secret, t0 - 30));
      await page.getByRole("button", { name: "Continue" }).click();
      await signedIn(page);
      assert.equal(await page.textContent("#user-email"), EMAIL);
      assert.deepEqual(await lastSignIn(), ["pwd", "otp", "mfa"]);
      assert.match(await status(page), /^On: .* 10 recovery codes left\.$/);

      // A recovery code instead of the app's code.
      await page.getByRole("button", { name: "Sign out", exact: true }).click();
      await signIn(page);
      await page.getByLabel("Code", { exact: true }).fill(recovery[0]);
      await page.getByRole("button", { name: "Continue" }).click();
      await signedIn(page);
      assert.match(await status(page), /^On: .* 9 recovery codes left\.$/);

      // Off, with a code: a wrong one is refused, the right one turns it off.
      await page.getByLabel("Code from your app, or a recovery code").fill(recovery[0]);
      await page.getByRole("button", { name: "Turn off two-step sign-in" }).click();
      await expectError(page, "INVALID_CODE", "That code is not right");
      await page.getByLabel("Code from your app, or a recovery code").fill(await totpAt(secret, t0 + 30));
      await page.getByRole("button", { name: "Turn off two-step sign-in" }).click();
      await offShown(page);
      assert.match(await page.textContent("#notice"), /Two-step sign-in is off/);
      assert.deepEqual((await api.user(id)).mfa, { totp: false, recoveryCodesLeft: 0, passkeys: 0 });

      // The password alone signs in again.
      await page.getByRole("button", { name: "Sign out", exact: true }).click();
      await signIn(page);
      await signedIn(page);
      assert.deepEqual(await lastSignIn(), ["pwd"]);
      assert.deepEqual({ outside: page.outside, errors: page.errors.map(String) }, { outside: [], errors: [] });
    } finally {
      await context.close();
    }
  });

  test("a code step whose sign-in was finished elsewhere starts the sign-in again", async () => {
    const email = "pagetotp2@acme.test";
    await api.createUser({ email, name: "Page Totp 2", password: PASSWORD });
    const auth = new AuthliteClient({ baseUrl: server.url });
    await auth.login(email, PASSWORD);
    const { secret } = await auth.enableTotp();
    const t0 = await freshStep();
    await auth.confirmTotp(await totpAt(secret, t0));

    const context = await browser.newContext();
    try {
      const page = await loginPage(context);
      const answer = page.waitForResponse((r) => new URL(r.url()).pathname === "/user/login");
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      const { mfaToken } = await (await answer).json();
      await page.getByRole("heading", { name: "Enter your code" }).waitFor();
      await page.getByRole("button", { name: "Continue" }).click();
      await expectError(page, "CODE_EMPTY", "Type the code first.");

      // The page's mfaToken is spent by a sign-in finished with it elsewhere.
      const elsewhere = await post(server.url, "/user/login/mfa", { mfaToken, code: await totpAt(secret, t0 - 30) });
      assert.equal(elsewhere.status, 200);
      await page.getByLabel("Code", { exact: true }).fill(await totpAt(secret, t0 + 30));
      await page.getByRole("button", { name: "Continue" }).click();
      await expectError(page, "INVALID_TOKEN", "Sign in again");
      await page.waitForSelector("#signin-form", { state: "visible" });
      assert.deepEqual({ outside: page.outside, errors: page.errors.map(String) }, { outside: [], errors: [] });
    } finally {
      await context.close();
    }
  });
});
