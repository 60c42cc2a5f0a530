// authlite as the OpenID Connect provider of Apache with mod_auth_openidc
// (Debian's apache2 and libapache2-mod-auth-openidc), end to end in Chromium:
// a page Apache protects on 127.0.0.1 sends the browser to authlite's page,
// which signs in; Apache redeems the code, checks the RS256 ID token, and
// shows the page. Apache runs as `apache2 -X` on a config in a temp folder.
//
// Without Apache, the module or Chromium these tests are skipped with a
// banner, unless AUTHLITE_REQUIRE_APACHE=1 (set by .ci/run, which runs
// .ci/oidc-setup), which makes them fail.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ADA, startServer } from "./helpers.mjs";

const CHROMIUM = "/usr/bin/chromium";
const APACHE = "/usr/sbin/apache2";
const MODULES = "/usr/lib/apache2/modules";
const missing = [CHROMIUM, APACHE, `${MODULES}/mod_auth_openidc.so`].filter((f) => !existsSync(f));
const skip = missing.length > 0 && `missing ${missing.join(", ")}`;
if (skip) {
  const why = `APACHE MOD_AUTH_OPENIDC TESTS NOT RUN: ${missing.join(", ")} missing (run .ci/oidc-setup and .ci/browser-setup)`;
  if (process.env.AUTHLITE_REQUIRE_APACHE === "1") throw new Error(`${why}; AUTHLITE_REQUIRE_APACHE=1 requires them`);
  const bar = "!".repeat(78);
  process.stderr.write(`\n${bar}\n${why}\n${bar}\n`);
}

const CONTENT = "The intranet's protected page";

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

/** The Apache config: one protected folder, authlite as its OpenID Connect provider. */
function apacheConfig({ dir, port, issuer, clientId, secret }) {
  const load = (name, file) => `LoadModule ${name}_module ${MODULES}/mod_${file}.so`;
  return [
    `ServerRoot ${dir}`, "ServerName 127.0.0.1", `Listen 127.0.0.1:${port}`,
    `PidFile ${dir}/httpd.pid`, `ErrorLog ${dir}/error.log`, "LogLevel warn auth_openidc:info",
    load("mpm_event", "mpm_event"), load("authz_core", "authz_core"), load("authn_core", "authn_core"),
    load("authz_user", "authz_user"), load("dir", "dir"), load("auth_openidc", "auth_openidc"),
    `DocumentRoot ${dir}/htdocs`, "DirectoryIndex index.html",
    `OIDCProviderMetadataURL ${issuer}/.well-known/openid-configuration`,
    `OIDCClientID ${clientId}`, `OIDCClientSecret ${secret}`,
    `OIDCRedirectURI http://127.0.0.1:${port}/protected/redirect_uri`,
    "OIDCCryptoPassphrase the-test-passphrase-of-this-apache-only",
    'OIDCScope "openid email profile"', "OIDCRemoteUserClaim email",
    "<Location /protected>", "  AuthType openid-connect", "  Require valid-user", "</Location>", "",
  ].join("\n");
}

/** Resolves once something answers on `port`, or fails after 15 s with Apache's log. */
async function waitForPort(port, dir) {
  for (let i = 0; i < 150; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await new Promise((done) => setTimeout(done, 100));
    }
  }
  const log = await readFile(join(dir, "error.log"), "utf8").catch(() => "");
  throw new Error(`apache2 did not listen on ${port}:\n${log}`);
}

let browser;
let server;
let apache;
let dir;
let site;
before(async () => {
  if (skip) return;
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
  });
  // mod_auth_openidc knows RS256 and ES256, not EdDSA: the key this server signs with.
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  server = await startServer(["--issuer", issuer, "--public-url", issuer, "--algorithm", "RS256"], { port });
  const apachePort = await freePort();
  site = `http://127.0.0.1:${apachePort}`;
  const out = await server.cli("client", "add", "--name", "Intranet", "--redirect-uri", `${site}/protected/redirect_uri`);
  const value = (name) => out.split("\n").find((l) => l.startsWith(`${name}=`)).slice(name.length + 1);
  dir = await mkdtemp(join(tmpdir(), "authlite-apache-"));
  await mkdir(join(dir, "htdocs", "protected"), { recursive: true });
  await writeFile(join(dir, "htdocs", "protected", "index.html"), `<p id="content">${CONTENT}</p>\n`);
  const conf = join(dir, "httpd.conf");
  await writeFile(conf, apacheConfig({ dir, port: apachePort, issuer, clientId: value("client_id"), secret: value("client_secret") }));
  apache = spawn(APACHE, ["-X", "-f", conf], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  apache.stdout.on("data", (c) => (output += c));
  apache.stderr.on("data", (c) => (output += c));
  apache.once("exit", (code) => code && process.stderr.write(`apache2 exited ${code}: ${output}\n`));
  await waitForPort(apachePort, dir);
});
after(async () => {
  await browser?.close();
  if (apache && apache.exitCode === null) {
    const exited = new Promise((done) => apache.once("exit", done));
    apache.kill("SIGTERM");
    await exited;
  }
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("Apache with mod_auth_openidc signs in through authlite", { skip }, () => {
  test("the protected page → authlite's page → sign in → the protected page", async () => {
    const context = await browser.newContext();
    try {
      await context.route("**/*", (route) =>
        new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort());
      const page = await context.newPage();
      await page.goto(`${site}/protected/`);
      await page.waitForURL(`${server.url}/`);
      await page.waitForSelector("html[data-ready]", { state: "attached" });
      await page.getByLabel("Email").fill(ADA.email);
      await page.getByLabel("Password", { exact: true }).fill(ADA.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.waitForSelector("#content", { timeout: 20_000 });
      assert.equal(await page.textContent("#content"), CONTENT);
      assert.equal(new URL(page.url()).origin, site);

      // Apache's session goes on: the page again, straight away.
      await page.goto(`${site}/protected/`);
      assert.equal(await page.textContent("#content"), CONTENT);
      const log = await readFile(join(dir, "error.log"), "utf8");
      assert.doesNotMatch(log, /auth_openidc:error/, log);
    } finally {
      await context.close();
    }
  });
});
