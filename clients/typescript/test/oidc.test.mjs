// authlite as an OpenID Connect provider (SPEC §13) to a certified relying-
// party library, openid-client, with Chromium going through authlite's own
// page: the code flow with PKCE and a nonce, single sign-on, refresh,
// userinfo, logout, prompt=none with and without a session, access_denied by
// roles, and the error page for a redirect URI the client did not register.
// The relying party is a small HTTP server on 127.0.0.1 that uses only
// openid-client. With AUTHLITE_TEST_API_POSTGRES set, on PostgreSQL.
//
// Without Chromium these tests are skipped with a banner, unless
// AUTHLITE_REQUIRE_CLIENT=1 or AUTHLITE_REQUIRE_BROWSER=1, which make them fail.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import * as oidc from "openid-client";
import { ADA, startServer } from "./helpers.mjs";

const CHROMIUM = "/usr/bin/chromium";
const required = process.env.AUTHLITE_REQUIRE_CLIENT === "1" || process.env.AUTHLITE_REQUIRE_BROWSER === "1";
const skip = !existsSync(CHROMIUM) && "no chromium";
if (skip) {
  const why = `OIDC BROWSER TESTS NOT RUN: ${CHROMIUM} is missing (apt-get install chromium, or .ci/browser-setup)`;
  if (required) throw new Error(`${why}; AUTHLITE_REQUIRE_CLIENT=1 requires it`);
  const bar = "!".repeat(78);
  process.stderr.write(`\n${bar}\n${why}\n${bar}\n`);
}

/** A port free on 127.0.0.1 now (authlite's issuer must name its own port). */
function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

/**
 * A relying party on 127.0.0.1 built on openid-client: /login starts a sign-in
 * (?prompt=…), /cb finishes it and shows who signed in (or the error), /bye
 * is where logout returns. `last` holds the tokens of the last sign-in.
 * `port` was chosen before the client was registered: its redirect URI names it.
 */
async function relyingParty(port, clientId, secret) {
  const server = createServer();
  await new Promise((done) => server.listen(port, "127.0.0.1", done));
  const base = `http://127.0.0.1:${server.address().port}`;
  const auth = secret ? oidc.ClientSecretBasic(secret) : oidc.None();
  const config = await oidc.discovery(new URL(issuer), clientId, secret ? {} : undefined, auth, {
    execute: [oidc.allowInsecureRequests],
  });
  const rp = { base, config, pending: null, last: null, server };
  server.on("request", async (req, res) => {
    const url = new URL(req.url, base);
    const reply = (status, text) => res.writeHead(status, { "Content-Type": "text/html" }).end(`<p id="out">${text}</p>`);
    try {
      if (url.pathname === "/login") {
        const verifier = oidc.randomPKCECodeVerifier();
        rp.pending = { verifier, state: oidc.randomState(), nonce: oidc.randomNonce() };
        const params = {
          redirect_uri: `${base}/cb`, scope: url.searchParams.get("scope") || "openid email profile groups offline_access",
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
          state: rp.pending.state, nonce: rp.pending.nonce,
        };
        if (url.searchParams.get("prompt")) params.prompt = url.searchParams.get("prompt");
        res.writeHead(302, { Location: oidc.buildAuthorizationUrl(config, params).href }).end();
      } else if (url.pathname === "/cb") {
        const tokens = await oidc.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: rp.pending.verifier, expectedState: rp.pending.state, expectedNonce: rp.pending.nonce,
        });
        rp.last = tokens;
        reply(200, `Signed in as ${tokens.claims().email}`);
      } else if (url.pathname === "/bye") {
        reply(200, `Signed out (${url.searchParams.get("state")})`);
      } else reply(404, "nothing here");
    } catch (e) {
      reply(400, `error: ${e.error || e.code || e.message}`);
    }
  });
  return rp;
}

let browser;
let server;
let issuer;
let rp; // a confidential client with offline_access
let staffOnly; // a public client for the role "staff" alone
before(async () => {
  if (skip) return;
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  server = await startServer(["--issuer", issuer, "--public-url", issuer], { port, postgres: true });
  // The clients' redirect URIs name the relying parties' ports: those come first.
  const rpPort = await freePort();
  const made = await server.cli("client", "add", "--name", "Tool", "--redirect-uri", `http://127.0.0.1:${rpPort}/cb`,
    "--post-logout-uri", `http://127.0.0.1:${rpPort}/bye`);
  const value = (out, name) => out.split("\n").find((l) => l.startsWith(`${name}=`)).slice(name.length + 1);
  rp = await relyingParty(rpPort, value(made, "client_id"), value(made, "client_secret"));
  const port2 = await freePort();
  const staff = await server.cli("client", "add", "--name", "Staff", "--public", "--role", "staff",
    "--redirect-uri", `http://127.0.0.1:${port2}/cb`);
  staffOnly = await relyingParty(port2, value(staff, "client_id"), null);
});
after(async () => {
  await browser?.close();
  rp?.server.close();
  staffOnly?.server.close();
  await server?.stop();
});

/** A page in `context` that may reach only 127.0.0.1. */
async function newPage(context) {
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    return url.hostname === "127.0.0.1" ? route.continue() : route.abort();
  });
  return context.newPage();
}

async function signInOnThePage(page) {
  await page.waitForSelector("html[data-ready]", { state: "attached" });
  await page.getByLabel("Email").fill(ADA.email);
  await page.getByLabel("Password", { exact: true }).fill(ADA.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

const outcome = (page) => page.waitForSelector("#out").then((el) => el.textContent());

describe("authlite as an OpenID Connect provider to openid-client", { skip }, () => {
  test("code flow with PKCE and nonce through the page, then single sign-on, refresh, userinfo and logout", async () => {
    const context = await browser.newContext();
    try {
      const page = await newPage(context);
      await page.goto(`${rp.base}/login`);
      await page.waitForURL(`${issuer}/`);
      await signInOnThePage(page);
      assert.equal(await outcome(page), `Signed in as ${ADA.email}`);
      const claims = rp.last.claims();
      assert.equal(claims.iss, issuer);
      assert.equal(claims.aud, rp.config.clientMetadata().client_id);
      assert.deepEqual([claims.name, claims.preferred_username, claims.groups, claims.amr], [ADA.name, ADA.email, [], ["pwd"]]);

      const info = await oidc.fetchUserInfo(rp.config, rp.last.access_token, claims.sub);
      assert.deepEqual(info, { sub: claims.sub, email: ADA.email, email_verified: true, name: ADA.name, preferred_username: ADA.email, groups: [] });
      const refreshed = await oidc.refreshTokenGrant(rp.config, rp.last.refresh_token);
      assert.notEqual(refreshed.refresh_token, rp.last.refresh_token);
      assert.equal(refreshed.claims().sub, claims.sub);
      assert.equal((await oidc.fetchUserInfo(rp.config, refreshed.access_token, claims.sub)).email, ADA.email);

      // Signed in to authlite's page already: the next sign-in asks nothing.
      await page.goto(`${rp.base}/login?prompt=none`);
      assert.equal(await outcome(page), `Signed in as ${ADA.email}`);
      const idToken = rp.last.id_token;

      const bye = oidc.buildEndSessionUrl(rp.config, { id_token_hint: idToken, post_logout_redirect_uri: `${rp.base}/bye`, state: "s-9" });
      await page.goto(bye.href);
      assert.equal(await outcome(page), "Signed out (s-9)");
      await assert.rejects(oidc.fetchUserInfo(rp.config, rp.last.access_token, claims.sub));
      // The page is signed out too: prompt=none now comes back with login_required.
      await page.goto(`${rp.base}/login?prompt=none`);
      assert.equal(await outcome(page), "error: login_required");
    } finally {
      await context.close();
    }
  });

  test("prompt=none without a session comes back with login_required; with one, signed in", async () => {
    const context = await browser.newContext();
    try {
      const page = await newPage(context);
      await page.goto(`${rp.base}/login?prompt=none`);
      assert.equal(await outcome(page), "error: login_required");
      await page.goto(`${rp.base}/login`);
      await signInOnThePage(page);
      assert.equal(await outcome(page), `Signed in as ${ADA.email}`);
      await page.goto(`${rp.base}/login?prompt=none&scope=openid`);
      assert.equal(await outcome(page), "Signed in as undefined", "no email without its scope");
    } finally {
      await context.close();
    }
  });

  test("prompt=login asks for the password again even when signed in", async () => {
    const context = await browser.newContext();
    try {
      const page = await newPage(context);
      await page.goto(`${rp.base}/login`);
      await signInOnThePage(page);
      assert.equal(await outcome(page), `Signed in as ${ADA.email}`);
      await new Promise((done) => setTimeout(done, 1100));
      await page.goto(`${rp.base}/login?prompt=login`);
      await page.getByText("The application asks you to sign in again.").waitFor();
      await signInOnThePage(page);
      assert.equal(await outcome(page), `Signed in as ${ADA.email}`);
    } finally {
      await context.close();
    }
  });

  test("a client for another role gets access_denied", async () => {
    const context = await browser.newContext();
    try {
      const page = await newPage(context);
      await page.goto(`${staffOnly.base}/login`);
      await signInOnThePage(page);
      assert.equal(await outcome(page), "error: access_denied");
    } finally {
      await context.close();
    }
  });

  test("a redirect URI the client did not register gets authlite's error page", async () => {
    const context = await browser.newContext();
    try {
      const page = await newPage(context);
      const url = oidc.buildAuthorizationUrl(rp.config, {
        redirect_uri: "http://127.0.0.1:9/elsewhere", scope: "openid", state: "x",
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: "S256",
      });
      const res = await page.goto(url.href);
      assert.equal(res.status(), 400);
      assert.equal(new URL(page.url()).origin, issuer, "no redirect");
      assert.match(await page.textContent("#error"), /did not register/);
    } finally {
      await context.close();
    }
  });
});
