// Passkeys (SPEC section 11) in real Chromium with its DevTools virtual
// authenticator (CTAP2, internal transport, resident keys, user verification),
// against the real binary served as http://localhost:PORT (the rp id is
// "localhost"): through the client (addPasskey, passkeys, loginWithPasskey,
// removePasskey) and through the login page ("Add a passkey", "Sign in with a
// passkey", "Remove"). Every request outside localhost is aborted and recorded.
// With AUTHLITE_TEST_API_POSTGRES set, on PostgreSQL.
//
// Without Chromium these tests are skipped with a banner, unless
// AUTHLITE_REQUIRE_CLIENT=1 or AUTHLITE_REQUIRE_BROWSER=1, which make them fail.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { ADA, GRACE, ROOT, AuthliteClient, startServer } from "./helpers.mjs";

const CHROMIUM = "/usr/bin/chromium";
const required = process.env.AUTHLITE_REQUIRE_CLIENT === "1" || process.env.AUTHLITE_REQUIRE_BROWSER === "1";
const skip = !existsSync(CHROMIUM);
if (skip) {
  const why = `PASSKEY BROWSER TESTS NOT RUN: ${CHROMIUM} is missing (apt-get install chromium, or .ci/browser-setup)`;
  if (required) throw new Error(`${why}; AUTHLITE_REQUIRE_CLIENT=1 requires it`);
  const bar = "!".repeat(78);
  process.stderr.write(`\n${bar}\n${why}\n${bar}\n`);
}

/** A port free now, for a server that must know its own URL before it starts. */
async function freePort() {
  const probe = createServer();
  await new Promise((done) => probe.listen(0, "127.0.0.1", done));
  const { port } = probe.address();
  await new Promise((done) => probe.close(done));
  return port;
}

let browser;
let server;
let origin;
let api; // the admin API as root, to check the server's side
before(async () => {
  if (skip) return;
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--host-resolver-rules=MAP localhost 127.0.0.1"],
  });
  const port = await freePort();
  origin = `http://localhost:${port}`;
  server = await startServer(["--public-url", origin, "--issuer", origin], { port, postgres: true });
  const root = new AuthliteClient({ baseUrl: server.url });
  await root.login(ROOT.email, ROOT.password);
  api = root.admin;
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A page of `origin` in a fresh context with a virtual authenticator of its own. */
async function pageWithAuthenticator() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.outside = [];
  page.errors = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "localhost" || url.protocol === "data:") return route.continue();
    page.outside.push(url.href);
    return route.abort();
  });
  page.on("pageerror", (e) => page.errors.push(e));
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && page.errors.push(m.text()));
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  page.authenticator = { cdp, authenticatorId };
  await page.goto(`${origin}/`);
  await page.waitForSelector("html[data-ready]", { state: "attached" });
  return page;
}

async function credentialsOn(page) {
  const { cdp, authenticatorId } = page.authenticator;
  return (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
}

const claims = (token) => JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());

describe("passkeys through the client", { skip }, () => {
  test("Chromium has the JSON forms of WebAuthn that the client uses", async () => {
    const page = await pageWithAuthenticator();
    const has = await page.evaluate(() => [
      typeof PublicKeyCredential.parseCreationOptionsFromJSON,
      typeof PublicKeyCredential.parseRequestOptionsFromJSON,
      typeof PublicKeyCredential.prototype.toJSON,
    ]);
    assert.deepEqual(has, ["function", "function", "function"]);
    await page.context().close();
  });

  test("addPasskey, sign out, loginWithPasskey, passkeys, removePasskey", async () => {
    const page = await pageWithAuthenticator();
    const result = await page.evaluate(async ({ email, password }) => {
      const { AuthliteClient, AuthliteError } = await import("/client/authlite-client.js");
      const auth = new AuthliteClient();
      await auth.login(email, password);
      const added = await auth.addPasskey("Laptop");
      const listed = await auth.passkeys();
      await auth.logout();
      const session = await auth.loginWithPasskey();
      const afterLogin = await auth.passkeys();
      await auth.removePasskey(added.id);
      const left = await auth.passkeys();
      await auth.logout();
      let refused = null;
      try {
        await auth.loginWithPasskey();
      } catch (err) {
        refused = err instanceof AuthliteError ? { status: err.status, code: err.code } : String(err);
      }
      let missing = null;
      await auth.login(email, password);
      try {
        await auth.removePasskey(added.id);
      } catch (err) {
        missing = { status: err.status, code: err.code };
      }
      return { added, listed, session, afterLogin, left, refused, missing, signedIn: auth.session !== null };
    }, { email: ADA.email, password: ADA.password });

    assert.equal(result.added.name, "Laptop");
    assert.equal(result.added.lastUsedAt, null);
    assert.deepEqual(result.listed, [result.added]);
    assert.equal(result.session.user.email, ADA.email);
    assert.deepEqual(claims(result.session.accessToken).amr, ["hwk", "user", "mfa"]);
    assert.ok(result.afterLogin[0].lastUsedAt >= result.added.createdAt, JSON.stringify(result.afterLogin));
    assert.deepEqual(result.left, []);
    // The authenticator still holds the credential; the server no longer knows it.
    assert.deepEqual(result.refused, { status: 401, code: "INVALID_CREDENTIAL" });
    assert.deepEqual(result.missing, { status: 404, code: "PASSKEY_NOT_FOUND" });
    const held = await credentialsOn(page);
    assert.equal(held.length, 1);
    assert.equal(held[0].isResidentCredential, true, "a discoverable credential");
    assert.ok(held[0].signCount >= 1);
    assert.deepEqual(page.errors, []);
    assert.deepEqual(page.outside, []);
    await page.context().close();
  });
});

describe("passkeys through the login page", { skip }, () => {
  test("add a passkey, sign out, sign in with it, remove it", async () => {
    const page = await pageWithAuthenticator();
    await page.getByLabel("Email").fill(GRACE.email);
    await page.getByLabel("Password", { exact: true }).fill(GRACE.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForSelector("#signed-in:not([hidden])");
    await page.waitForSelector("#passkeys-empty:not([hidden])");

    await page.getByLabel("Passkey name").fill("Work laptop");
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await page.waitForSelector("#passkeys li");
    assert.match(await page.textContent("#notice"), /Passkey Work laptop added/);
    assert.match(await page.textContent("#passkeys"), /Work laptop/);

    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForSelector("#signin-form:not([hidden])");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.waitForSelector("#signed-in:not([hidden])");
    assert.equal(await page.textContent("#user-email"), GRACE.email);
    assert.match(await page.textContent("#notice"), /Signed in with a passkey/);
    await page.waitForSelector("#passkeys li");
    assert.match(await page.textContent("#passkeys"), /last used/);

    const { users } = await api.users({ query: GRACE.email });
    assert.equal(users[0].mfa.passkeys, 1);
    const { events } = await api.audit({ type: "login.succeeded", userId: users[0].id });
    assert.equal(events[0].detail.method, "passkey");
    assert.deepEqual(events[0].detail.amr, ["hwk", "user", "mfa"]);

    await page.getByRole("button", { name: "Remove passkey Work laptop" }).click();
    await page.waitForSelector("#passkeys-empty:not([hidden])");
    assert.equal(await page.locator("#passkeys li").count(), 0);

    // Removed: the authenticator's credential signs in no more, in words.
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForSelector("#signin-form:not([hidden])");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.waitForSelector('#error[data-code="INVALID_CREDENTIAL"]');
    assert.match(await page.textContent("#error"), /passkey was not accepted/);
    assert.deepEqual(page.errors, []);
    assert.deepEqual(page.outside, []);
    await page.context().close();
  });

  test("a passkey the user does not verify is refused in words", async () => {
    const page = await pageWithAuthenticator();
    const { cdp, authenticatorId } = page.authenticator;
    await page.getByLabel("Email").fill(ADA.email);
    await page.getByLabel("Password", { exact: true }).fill(ADA.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForSelector("#signed-in:not([hidden])");
    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: false });
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await page.waitForSelector("#error[data-code]");
    const code = await page.getAttribute("#error", "data-code");
    // Chromium itself refuses (userVerification "required"); the server's own
    // refusal of a credential without UV is tested over HTTP (tests/api/passkeys.rs).
    assert.equal(code, "PASSKEY_CANCELLED");
    assert.match(await page.textContent("#error"), /No passkey was used/);
    assert.equal(await page.locator("#passkeys li").count(), 0);
    await page.context().close();
  });
});

describe("passkeys in the admin console", { skip }, () => {
  /** Registers a passkey for `who` on the page's authenticator, then leaves the console open. */
  async function consoleWithPasskeyOf(who) {
    const page = await pageWithAuthenticator();
    await page.evaluate(async ({ email, password }) => {
      const { AuthliteClient } = await import("/client/authlite-client.js");
      const auth = new AuthliteClient();
      await auth.login(email, password);
      await auth.addPasskey("Console");
      await auth.logout();
    }, { email: who.email, password: who.password });
    await page.goto(`${origin}/admin/`);
    await page.getByRole("button", { name: "Use a passkey" }).click();
    return page;
  }

  test("an admin signs in to the console with a passkey alone", async () => {
    const page = await consoleWithPasskeyOf(ROOT);
    await page.getByRole("heading", { name: "Users", exact: true }).waitFor();
    await page.getByRole("link", { name: "Audit log", exact: true }).waitFor();
    const { users } = await api.users({ query: ROOT.email });
    const { events } = await api.audit({ type: "login.succeeded", userId: users[0].id });
    assert.equal(events[0].detail.method, "passkey");
    assert.deepEqual(page.errors, []);
    assert.deepEqual(page.outside, []);
    await page.context().close();
  });

  test("a passkey of an account without the role admin is signed out again, in words", async () => {
    const page = await consoleWithPasskeyOf(ADA);
    await page.getByRole("alert").getByText("not an administrator").waitFor();
    assert.equal(await page.getByRole("link", { name: "Users", exact: true }).count(), 0);
    await page.getByRole("button", { name: "Use a passkey" }).waitFor();
    assert.deepEqual(page.outside, []);
    await page.context().close();
  });
});

describe("a passkey sign-in completes an OpenID Connect authorization", { skip }, () => {
  test("authorize → the page → Sign in with a passkey → the redirect URI with a code whose ID token says amr hwk", async () => {
    const rpPort = await freePort();
    const redirectUri = `http://localhost:${rpPort}/cb`;
    const made = await server.cli("client", "add", "--name", "Passkey tool", "--public", "--redirect-uri", redirectUri);
    const clientId = made.split("\n").find((l) => l.startsWith("client_id=")).slice("client_id=".length);
    const page = await pageWithAuthenticator();
    await page.evaluate(async ({ email, password }) => {
      const { AuthliteClient } = await import("/client/authlite-client.js");
      const auth = new AuthliteClient();
      await auth.login(email, password);
      await auth.addPasskey("For tools");
      await auth.logout();
    }, { email: GRACE.email, password: GRACE.password });

    let reached = null;
    await page.route(`${redirectUri}**`, (route) => {
      reached = new URL(route.request().url());
      return route.fulfill({ status: 200, contentType: "text/plain", body: "the tool" });
    });
    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const query = new URLSearchParams({
      response_type: "code", client_id: clientId, redirect_uri: redirectUri, scope: "openid email",
      state: "st-1", nonce: "n-1", code_challenge: challenge, code_challenge_method: "S256",
    });
    await page.goto(`${origin}/oauth/authorize?${query}`);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.waitForURL(`${redirectUri}**`);
    assert.equal(reached.searchParams.get("state"), "st-1");

    const res = await fetch(new URL("/oauth/token", server.url), {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code", code: reached.searchParams.get("code"), redirect_uri: redirectUri,
        code_verifier: verifier, client_id: clientId,
      }),
    });
    const tokens = await res.json();
    assert.equal(res.status, 200, JSON.stringify(tokens));
    const id = claims(tokens.id_token);
    assert.deepEqual([id.aud, id.email, id.nonce, id.amr], [clientId, GRACE.email, "n-1", ["hwk", "user", "mfa"]]);
    assert.deepEqual(page.outside, []);
    await page.context().close();
  });
});
