// The admin console (GET /admin/) in real Chromium, against the real binary:
// every flow of SPEC section 9, controls found only by role and name as the
// SPEC names them, every request outside 127.0.0.1 aborted (and none tried),
// and the result of each action checked through the admin API.
//
// Without Chromium these tests are skipped with a banner, unless
// AUTHLITE_REQUIRE_CLIENT=1 or AUTHLITE_REQUIRE_BROWSER=1, which make them fail.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, afterEach, before, describe, test } from "node:test";
import { ADA, BANNED, GRACE, ROOT, AuthliteClient, freshStep, pyotpMissing, startServer, totpAt } from "./helpers.mjs";

const CHROMIUM = "/usr/bin/chromium";
const required = process.env.AUTHLITE_REQUIRE_CLIENT === "1" || process.env.AUTHLITE_REQUIRE_BROWSER === "1";
const missing = !existsSync(CHROMIUM);
if (missing) {
  const why = `ADMIN CONSOLE BROWSER TESTS NOT RUN: ${CHROMIUM} is missing (apt-get install chromium, or .ci/browser-setup)`;
  if (required) throw new Error(`${why}; AUTHLITE_REQUIRE_CLIENT=1 requires it`);
  const bar = "!".repeat(78);
  process.stderr.write(`\n${bar}\n${why}\n${bar}\n`);
}

// The second-factor sign-in takes its codes from pyotp.
const noPyotp = missing ? null : pyotpMissing();

let browser;
let server;
let api; // the admin API as root, outside the browser: what each test checks with
before(async () => {
  if (missing) return;
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  server = await startServer();
  const root = new AuthliteClient({ baseUrl: server.url });
  await root.login(ROOT.email, ROOT.password);
  api = root.admin;
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const open = [];
afterEach(async () => {
  for (const { context, page } of open.splice(0)) {
    const problems = { outside: page.outside, errors: page.errors.map(String) };
    await context.close();
    assert.deepEqual(problems, { outside: [], errors: [] }, "no request left 127.0.0.1, no script error");
  }
});

/** A fresh browser context on the console, every request outside 127.0.0.1 aborted and recorded. */
async function consolePage({ width = 1280, height = 900, path = "/admin/" } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.outside = [];
  page.errors = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") return route.continue();
    page.outside.push(url.href);
    return route.abort();
  });
  page.on("pageerror", (e) => page.errors.push(e));
  page.on("console", (m) => m.type() === "error" && !/the server responded with a status of (4|5)\d\d/.test(m.text()) && page.errors.push(m.text()));
  open.push({ context, page });
  await page.goto(new URL(path, server.url).href);
  return page;
}

async function signIn(page, email = ROOT.email, password = ROOT.password) {
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function signedInAsRoot(options) {
  const page = await consolePage(options);
  await signIn(page);
  await page.getByRole("heading", { name: "Users" }).waitFor();
  return page;
}

const idOf = async (email) => (await api.users({ query: email })).users.find((u) => u.email === email)?.id;
const heading = (page, name) => page.getByRole("heading", { name, exact: true });
const error = (page) => page.getByRole("alert");
const noticeText = (page) => page.getByRole("status");

async function openUser(page, email) {
  await page.goto(new URL(`/admin/#/users/${await idOf(email)}`, server.url).href);
  await heading(page, email).waitFor();
}

async function newUser(email, password = "a long enough password") {
  return api.createUser({ email, name: email.split("@")[0], password });
}

async function loginOk(email, password) {
  return new AuthliteClient({ baseUrl: server.url }).login(email, password).then(() => true, (e) => e.code);
}

const skip = missing && "no chromium";

describe("signing in", { skip }, () => {
  test("an admin signs in at /admin/ and sees the users, with links to every part", async () => {
    const page = await signedInAsRoot();
    for (const name of ["Users", "Audit log", "API keys", "Clients"]) await page.getByRole("link", { name, exact: true }).waitFor();
    await page.getByRole("link", { name: ADA.email }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    assert.equal(await page.getByRole("link", { name: "Users", exact: true }).count(), 0);
  });

  test("/admin (no slash) serves the same console", async () => {
    const page = await consolePage({ path: "/admin" });
    await signIn(page);
    await heading(page, "Users").waitFor();
  });

  test("an account without the role admin is refused in words, and signed out", async () => {
    const page = await consolePage();
    await signIn(page, ADA.email, ADA.password);
    await error(page).filter({ hasText: "not an administrator" }).waitFor();
    assert.match(await error(page).textContent(), /signs in only accounts that hold the role admin/);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    assert.equal(await page.getByRole("link", { name: "Users", exact: true }).count(), 0);
  });

  test("an admin with a second factor is asked for the code, and signed in with it", async (t) => {
    if (noPyotp) return t.skip("no pyotp");
    const email = "totp-admin@acme.test";
    await api.createUser({ email, name: "Totp Admin", password: ROOT.password, roles: ["admin"] });
    const own = new AuthliteClient({ baseUrl: server.url });
    await own.login(email, ROOT.password);
    const { secret } = await own.enableTotp();
    const t0 = await freshStep();
    await own.confirmTotp(await totpAt(secret, t0));

    const page = await consolePage();
    await signIn(page, email);
    await page.getByLabel("Code").fill(await totpAt(secret, t0)); // the confirm's step: a replay
    await page.getByRole("button", { name: "Verify" }).click();
    await error(page).filter({ hasText: "That code is not right" }).waitFor();
    const code = await totpAt(secret, t0 - 30);
    await page.getByLabel("Code").fill(`${code.slice(0, 3)} ${code.slice(3)}`);
    await page.getByRole("button", { name: "Verify" }).click();
    await heading(page, "Users").waitFor();
    const id = await idOf(email);
    const { events } = await api.audit({ userId: id, type: "login.succeeded", limit: 1 });
    assert.deepEqual(events[0].detail.amr, ["pwd", "otp", "mfa"]);
    assert.equal((await api.audit({ userId: id, type: "mfa.failed" })).events.length, 1);
    await api.deleteUser(id, { erase: true }); // the one admin of the other tests is root
  });

  test("a wrong password is told in words", async () => {
    const page = await consolePage();
    await signIn(page, ROOT.email, "not the password");
    await error(page).filter({ hasText: "That password is not right." }).waitFor();
  });
});

describe("users", { skip }, () => {
  test("Search finds by email or name; the status and role filters narrow the list", async () => {
    const page = await signedInAsRoot();
    const emails = async () => (await page.getByRole("region", { name: "Found users" }).getByRole("link").allTextContents());
    await page.getByLabel("Search").fill("LOVELACE");
    await page.getByRole("button", { name: "Find" }).click();
    await page.getByRole("link", { name: GRACE.email }).waitFor({ state: "detached" });
    assert.deepEqual(await emails(), [ADA.email]);

    await page.getByLabel("Search").fill("");
    await page.getByLabel("Filter by status").selectOption("banned");
    await page.getByRole("link", { name: ADA.email }).waitFor({ state: "detached" });
    assert.deepEqual(await emails(), [BANNED.email]);

    await page.getByLabel("Filter by status").selectOption("");
    await page.getByLabel("Filter by role").fill("admin");
    await page.getByRole("button", { name: "Find" }).click();
    await page.getByRole("link", { name: BANNED.email }).waitFor({ state: "detached" });
    assert.deepEqual(await emails(), [ROOT.email]);
  });

  test("New user with a password: created as typed, and signs in with it", async () => {
    const page = await signedInAsRoot();
    await page.getByRole("button", { name: "New user" }).click();
    await page.getByLabel("Email", { exact: true }).fill("nora@acme.test");
    await page.getByLabel("Name").fill("Nora Ng");
    await page.getByLabel("Organization").selectOption("acme");
    await page.getByLabel("Roles").fill("staff, billing");
    await page.getByLabel("Password", { exact: true }).fill("nora's long password");
    await page.getByRole("button", { name: "Create user" }).click();
    await heading(page, "nora@acme.test").waitFor();
    const user = await api.user(await idOf("nora@acme.test"));
    assert.deepEqual([user.name, user.orgId, user.roles, user.status, user.hasPassword], ["Nora Ng", "acme", ["billing", "staff"], "active", true]);
    assert.equal(await loginOk("nora@acme.test", "nora's long password"), true);
  });

  test("New user invited: the set-password link is shown to copy, and it works", async () => {
    const page = await signedInAsRoot();
    await page.getByRole("button", { name: "New user" }).click();
    await page.getByLabel("Email", { exact: true }).fill("ivy@acme.test");
    await page.getByLabel("Name").fill("Ivy");
    await page.getByLabel("Invited: a set-password link").check();
    await page.getByRole("button", { name: "Create user" }).click();
    const link = await page.getByLabel("Set-password link", { exact: true }).inputValue();
    assert.match(link, /\/#set-password=[A-Za-z0-9_-]+$/);
    await page.getByRole("button", { name: "Copy" }).waitFor();
    const user = await api.user(await idOf("ivy@acme.test"));
    assert.equal(user.hasPassword, false);
    const token = new URL(link).hash.replace("#set-password=", "");
    await new AuthliteClient({ baseUrl: server.url }).resetPassword(token, "ivy's own long password");
    assert.equal(await loginOk("ivy@acme.test", "ivy's own long password"), true);
  });

  test("New user invited by email, on a server that sends none: told in words, nothing created", async () => {
    const page = await signedInAsRoot();
    await page.getByRole("button", { name: "New user" }).click();
    await page.getByLabel("Email", { exact: true }).fill("otto@acme.test");
    await page.getByLabel("Name").fill("Otto");
    await page.getByLabel("Invited: a set-password link").check();
    await page.getByLabel("Email the link to the user").check();
    await page.getByRole("button", { name: "Create user" }).click();
    await error(page).filter({ hasText: "cannot send email" }).waitFor();
    assert.match(await error(page).textContent(), /EMAIL_DISABLED/);
    assert.equal(await idOf("otto@acme.test"), undefined);
  });
});

describe("a user's page", { skip }, () => {
  test("Name, Organization, Roles and Status are saved with Save", async () => {
    const { id } = await newUser("edna@acme.test");
    const page = await signedInAsRoot();
    await openUser(page, "edna@acme.test");
    await page.getByLabel("Name").fill("Edna Mode");
    await page.getByLabel("Organization").selectOption("acme");
    await page.getByLabel("Roles").fill("design , admin");
    await page.getByLabel("Status").selectOption("inactive");
    await page.getByRole("button", { name: "Save" }).click();
    await noticeText(page).filter({ hasText: "Saved." }).waitFor();
    const user = await api.user(id);
    assert.deepEqual([user.name, user.orgId, user.roles, user.status], ["Edna Mode", "acme", ["admin", "design"], "inactive"]);

    await page.getByLabel("Roles").fill("Not A Role");
    await page.getByRole("button", { name: "Save" }).click();
    await error(page).filter({ hasText: "The server refused that" }).waitFor();
    assert.deepEqual((await api.user(id)).roles, ["admin", "design"], "a refused change changes nothing");
  });

  test("Make link shows a working set-password link", async () => {
    const { id } = await newUser("mae@acme.test");
    const page = await signedInAsRoot();
    await openUser(page, "mae@acme.test");
    await page.getByRole("button", { name: "Make link" }).click();
    const link = await page.getByLabel("Set-password link", { exact: true }).inputValue();
    const token = new URL(link).hash.replace("#set-password=", "");
    const user = await new AuthliteClient({ baseUrl: server.url }).resetPassword(token, "mae's brand new password");
    assert.equal(user.id, id);
  });

  test("Set password sets it (a weak one is refused in words)", async () => {
    await newUser("sid@acme.test", "sid's first long password");
    const page = await signedInAsRoot();
    await openUser(page, "sid@acme.test");
    await page.getByLabel("New password").fill("short");
    await page.getByRole("button", { name: "Set password" }).click();
    await error(page).filter({ hasText: "Choose a stronger password" }).waitFor();
    await page.getByLabel("New password").fill("sid's second long password");
    await page.getByRole("button", { name: "Set password" }).click();
    await noticeText(page).filter({ hasText: "The password was set" }).waitFor();
    assert.equal(await loginOk("sid@acme.test", "sid's second long password"), true);
    assert.equal(await loginOk("sid@acme.test", "sid's first long password"), "INVALID_PASSWORD");
  });

  test("Unlock clears a lockout", async () => {
    const { id } = await newUser("lou@acme.test", "lou's long password");
    for (let i = 0; i < 5; i++) assert.equal(await loginOk("lou@acme.test", "wrong"), "INVALID_PASSWORD");
    assert.equal(await loginOk("lou@acme.test", "lou's long password"), "TOO_MANY_ATTEMPTS");
    const page = await signedInAsRoot();
    await openUser(page, "lou@acme.test");
    await page.getByText(/^until /).waitFor();
    await page.getByRole("button", { name: "Unlock" }).click();
    await noticeText(page).filter({ hasText: "Unlocked" }).waitFor();
    assert.equal((await api.user(id)).lockedUntil, null);
    assert.equal(await loginOk("lou@acme.test", "lou's long password"), true);
  });

  test("the sessions are listed; one is revoked, then Revoke all sessions (after Confirm) ends the rest", async () => {
    const { id } = await newUser("val@acme.test", "val's long password");
    for (let i = 0; i < 3; i++) assert.equal(await loginOk("val@acme.test", "val's long password"), true);
    const page = await signedInAsRoot();
    await openUser(page, "val@acme.test");
    const revokeOne = page.getByRole("button", { name: /^Revoke the session from/ });
    await revokeOne.nth(2).waitFor();
    await revokeOne.first().click();
    await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
    await noticeText(page).filter({ hasText: "The session was revoked." }).waitFor();
    assert.equal(await revokeOne.count(), 2);
    assert.equal((await api.userSessions(id)).length, 2);

    await page.getByRole("button", { name: "Revoke all sessions" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    assert.equal((await api.userSessions(id)).length, 2, "Cancel revokes nothing");
    await page.getByRole("button", { name: "Revoke all sessions" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
    await page.getByText("No live sessions.").waitFor();
    assert.deepEqual(await api.userSessions(id), []);
  });

  test("Erase asks first: Cancel does nothing, Confirm removes the user for good", async () => {
    const { id } = await newUser("zed@acme.test");
    const page = await signedInAsRoot();
    await openUser(page, "zed@acme.test");
    await page.getByRole("button", { name: "Erase" }).click();
    const dialog = page.getByRole("dialog");
    assert.match(await dialog.textContent(), /Erase zed@acme\.test for good\?/);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    assert.equal((await api.user(id)).status, "active", "Cancel erased nothing");
    await heading(page, "zed@acme.test").waitFor();

    await page.getByRole("button", { name: "Erase" }).click();
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await heading(page, "Users").waitFor();
    await noticeText(page).filter({ hasText: "zed@acme.test was erased." }).waitFor();
    await assert.rejects(api.user(id), (e) => e.code === "USER_NOT_FOUND");
  });

  test("Reset second factors asks first, then removes them", async (t) => {
    if (noPyotp) return t.skip("no pyotp");
    const { id } = await newUser("max@acme.test");
    const max = new AuthliteClient({ baseUrl: server.url });
    await max.login("max@acme.test", "a long enough password");
    const { secret } = await max.enableTotp();
    await max.confirmTotp(await totpAt(secret, await freshStep()));
    const page = await signedInAsRoot();
    await openUser(page, "max@acme.test");
    await page.getByText("authenticator app, 10 recovery codes").waitFor();
    await page.getByRole("button", { name: "Reset second factors" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
    await noticeText(page).filter({ hasText: "The second factors were removed." }).waitFor();
    assert.deepEqual((await api.user(id)).mfa, { totp: false, recoveryCodesLeft: 0, passkeys: 0 });
    assert.equal(await loginOk("max@acme.test", "a long enough password"), true, "the password alone signs in");
  });
});

describe("audit log, API keys, clients", { skip }, () => {
  test("the audit log filters by user and type, with a next page", async () => {
    await newUser("aud@acme.test", "aud's long password");
    // 52 sign-ins: one page of 50 and a bit; then 5 failures lock the account,
    // and the attempt after them is its one login.locked (one per lock, not per attempt).
    for (let i = 0; i < 52; i++) assert.equal(await loginOk("aud@acme.test", "aud's long password"), true);
    for (let i = 0; i < 5; i++) assert.equal(await loginOk("aud@acme.test", "wrong"), "INVALID_PASSWORD");
    for (let i = 0; i < 3; i++) assert.equal(await loginOk("aud@acme.test", "wrong"), "TOO_MANY_ATTEMPTS");
    const page = await signedInAsRoot();
    await page.getByRole("link", { name: "Audit log", exact: true }).click();
    await page.getByLabel("User").fill("aud@acme.test");
    await page.getByLabel("Type").selectOption("login.failed");
    await page.getByRole("button", { name: "Show" }).click();
    const events = page.getByRole("region", { name: "Events" }).getByRole("listitem");
    const shown = (n) => page.waitForFunction((n) => document.querySelectorAll('[aria-label="Events"] li').length === n, n);
    await shown(5);
    for (const text of await events.allTextContents()) assert.match(text, /^login\.failed/);
    assert.match(await events.first().textContent(), /"code":"INVALID_PASSWORD"/);

    await page.getByLabel("Type").selectOption("login.locked");
    await page.getByRole("button", { name: "Show" }).click();
    await shown(1);
    assert.match(await events.first().textContent(), /^login\.locked/);

    await page.getByLabel("Type").selectOption("login.succeeded");
    await page.getByRole("button", { name: "Show" }).click();
    await shown(50);
    await page.getByRole("button", { name: "Next page" }).click();
    await shown(2);
    for (const text of await events.allTextContents()) assert.match(text, /^login\.succeeded/);
    assert.equal(await page.getByRole("button", { name: "Next page" }).isVisible(), false);
  });

  test("an API key is created and shown once, then revoked after Confirm", async () => {
    const page = await signedInAsRoot();
    await page.getByRole("link", { name: "API keys", exact: true }).click();
    await page.getByLabel("Name").fill("billing backend");
    await page.getByLabel("users:read").check();
    await page.getByRole("button", { name: "Create key" }).click();
    const key = await page.getByLabel("New API key", { exact: true }).inputValue();
    assert.match(key, /^alk_[A-Za-z0-9_-]{32,}$/);
    const withKey = () => fetch(new URL("/admin/users", server.url), { headers: { Authorization: `Bearer ${key}` } }).then((r) => r.status);
    assert.equal(await withKey(), 200);
    const [listed] = (await api.apiKeys()).filter((k) => k.name === "billing backend");
    assert.deepEqual(listed.scopes, ["users:read"]);

    // Shown once: the page made again does not hold it.
    await page.getByRole("link", { name: "Users", exact: true }).click();
    await page.getByRole("link", { name: "API keys", exact: true }).click();
    await page.getByText("billing backend").waitFor();
    assert.ok(!(await page.content()).includes(key), "the key is not shown again");

    await page.getByRole("button", { name: "Revoke billing backend" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
    await noticeText(page).filter({ hasText: "was revoked" }).waitFor();
    assert.equal(typeof (await api.apiKeys()).find((k) => k.id === listed.id).revokedAt, "number");
    assert.equal(await withKey(), 401);
  });

  test("a client is added with its secret shown once, listed, then removed after Confirm", async () => {
    const page = await signedInAsRoot();
    await page.getByRole("link", { name: "Clients", exact: true }).click();
    await heading(page, "Clients").waitFor();
    await page.getByText("No clients yet.").waitFor();
    await page.getByLabel("Name").fill("Grafana");
    await page.getByLabel("Redirect URIs").fill("https://grafana.acme.test/login/generic_oauth");
    await page.getByLabel("Roles").fill("staff, ops");
    await page.getByRole("button", { name: "Add client" }).click();
    const secret = await page.getByLabel("Client secret", { exact: true }).inputValue();
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    const clientId = await page.getByLabel("Client ID", { exact: true }).inputValue();
    const [listed] = await api.clients();
    assert.deepEqual([listed.id, listed.name, listed.roles, listed.public, listed.redirectUris],
      [clientId, "Grafana", ["ops", "staff"], false, ["https://grafana.acme.test/login/generic_oauth"]]);
    // The secret works at the token endpoint (a made-up code: invalid_grant, not invalid_client).
    const basic = Buffer.from(`${clientId}:${secret}`).toString("base64");
    const token = await fetch(new URL("/oauth/token", server.url), {
      method: "POST", headers: { Authorization: `Basic ${basic}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: "grant_type=authorization_code&code=x&redirect_uri=https%3A%2F%2Fgrafana.acme.test%2Flogin%2Fgeneric_oauth",
    });
    assert.equal((await token.json()).error, "invalid_grant");

    // Shown once: the page made again does not hold it.
    await page.getByRole("link", { name: "Users", exact: true }).click();
    await page.getByRole("link", { name: "Clients", exact: true }).click();
    await page.getByText(`client_id ${clientId}`).waitFor();
    assert.ok(!(await page.content()).includes(secret), "the secret is not shown again");

    await page.getByRole("button", { name: "Remove Grafana" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
    await noticeText(page).filter({ hasText: "was removed" }).waitFor();
    assert.deepEqual(await api.clients(), []);
    await page.getByText("No clients yet.").waitFor();
  });

  test("a client with a bad redirect URI is refused in words, and nothing is added", async () => {
    const page = await signedInAsRoot();
    await page.getByRole("link", { name: "Clients", exact: true }).click();
    await page.getByLabel("Name").fill("Broken");
    await page.getByLabel("Redirect URIs").fill("/relative/callback");
    await page.getByRole("button", { name: "Add client" }).click();
    await page.waitForSelector('#error[data-code="INVALID_REQUEST"]');
    assert.match(await page.textContent("#error"), /redirect URI/);
    assert.deepEqual((await api.clients()).filter((c) => c.name === "Broken"), []);
  });
});

describe("at phone width (375 px)", { skip }, () => {
  test("no part of the console scrolls sideways", async () => {
    const page = await consolePage({ width: 375, height: 800 });
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(await overflow(), 0, "sign-in");
    await signIn(page);
    await heading(page, "Users").waitFor();
    await page.getByRole("link", { name: ROOT.email }).waitFor();
    assert.equal(await overflow(), 0, "users");
    await page.getByRole("button", { name: "New user" }).click();
    await heading(page, "New user").waitFor();
    assert.equal(await overflow(), 0, "new user");
    await openUser(page, ADA.email);
    await page.getByRole("button", { name: "Make link" }).click();
    await page.getByLabel("Set-password link", { exact: true }).waitFor();
    assert.equal(await overflow(), 0, "a user's page with a link");
    for (const part of ["Audit log", "API keys", "Clients"]) {
      await page.getByRole("link", { name: part, exact: true }).click();
      await heading(page, part).waitFor();
      assert.equal(await overflow(), 0, part);
    }
  });
});
