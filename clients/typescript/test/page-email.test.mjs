// The login page's email flows (SPEC sections 5 and 12) in real Chromium,
// against the real binary writing its messages into --mail-dir: "Forgot
// password?" → the emailed link → a new password → signed in; "Create
// account" → the emailed /#confirm= link → signed in as the new account. Every
// request outside 127.0.0.1 is aborted (and none may be tried). With
// AUTHLITE_TEST_API_POSTGRES set, on PostgreSQL.
//
// Without Chromium these tests are skipped with a banner, unless
// AUTHLITE_REQUIRE_CLIENT=1 or AUTHLITE_REQUIRE_BROWSER=1, which make them fail.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ADA, ROOT, sleep, startServer } from "./helpers.mjs";

const CHROMIUM = "/usr/bin/chromium";
const required = process.env.AUTHLITE_REQUIRE_CLIENT === "1" || process.env.AUTHLITE_REQUIRE_BROWSER === "1";
const noChromium = !existsSync(CHROMIUM);
if (noChromium) {
  const why = `LOGIN PAGE EMAIL BROWSER TESTS NOT RUN: ${CHROMIUM} is missing (apt-get install chromium, or .ci/browser-setup)`;
  if (required) throw new Error(`${why}; AUTHLITE_REQUIRE_CLIENT=1 requires it`);
  const bar = "!".repeat(78);
  process.stderr.write(`\n${bar}\n${why}\n${bar}\n`);
}

let browser;
let server;
let mailDir;
before(async () => {
  if (noChromium) return;
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  mailDir = await mkdtemp(join(tmpdir(), "authlite-page-mail-"));
  server = await startServer(["--mail-dir", mailDir, "--registration", "open"], { postgres: true });
});
after(async () => {
  await browser?.close();
  await server?.stop();
  if (mailDir) await rm(mailDir, { recursive: true, force: true });
});

/** The link of the newest message to `to`, quoted-printable undone. */
async function linkTo(to) {
  for (let i = 0; i < 200; i++) {
    const names = (await readdir(mailDir)).filter((n) => n.endsWith(".eml")).sort().reverse();
    for (const n of names) {
      const raw = (await readFile(join(mailDir, n), "utf8")).replace(/\r\n/g, "\n");
      if (!raw.includes(`To: ${to}`)) continue;
      const text = raw.replace(/=\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
      return /(http:\/\/\S+\/#(?:set-password|confirm)=[A-Za-z0-9_-]+)/.exec(text)[1];
    }
    await sleep(50);
  }
  assert.fail(`no message to ${to}`);
}

async function loginPage(context, path = "/") {
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
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && page.errors.push(m.text()));
  await page.goto(new URL(path, server.url).href);
  await page.waitForSelector("html[data-ready]", { state: "attached" });
  return page;
}

const signedInAs = async (page, email) => {
  await page.waitForSelector("#signed-in", { state: "visible" });
  assert.equal(await page.textContent("#user-email"), email);
};

describe("the login page's email flows", { skip: noChromium ? "no chromium" : false }, () => {
  test("Forgot password? → the emailed link → a new password → signed in", async () => {
    const context = await browser.newContext();
    try {
      const page = await loginPage(context);
      await page.getByRole("link", { name: "Forgot password?" }).click();
      await page.getByLabel("Your account's address").fill(ADA.email);
      await page.getByRole("button", { name: "Email me a link" }).click();
      await page.locator("#notice", { hasText: "a link to choose a new password is on its way" }).waitFor();
      const link = await linkTo(ADA.email);
      assert.ok(link.startsWith(server.url), link);

      const linked = await loginPage(context, link.slice(server.url.length));
      assert.equal(new URL(linked.url()).hash, "", "the token leaves the address bar");
      const form = linked.locator("#set-password-form");
      await form.getByLabel("New password", { exact: true }).fill("a page-made pass phrase");
      await form.getByLabel("New password, again").fill("a page-made pass phrase");
      await linked.getByRole("button", { name: "Set password and sign in" }).click();
      await signedInAs(linked, ADA.email);
      assert.deepEqual([page.outside, page.errors, linked.outside, linked.errors], [[], [], [], []]);
    } finally {
      await context.close();
    }
  });

  test("Create account → the emailed confirmation link → signed in as the new account", async () => {
    const context = await browser.newContext();
    try {
      const page = await loginPage(context);
      await page.getByRole("link", { name: "Create account" }).click();
      await page.getByLabel("Your name").fill("Page Newcomer");
      await page.getByLabel("Your address").fill("pagenew@acme.test");
      await page.getByLabel("Choose a password", { exact: true }).fill("a page-made pass phrase");
      await page.getByLabel("Choose a password, again").fill("a different one");
      await page.getByRole("button", { name: "Sign up" }).click();
      await page.waitForSelector('#error[data-code="PASSWORDS_DIFFER"]');
      await page.getByLabel("Choose a password, again").fill("a page-made pass phrase");
      await page.getByRole("button", { name: "Sign up" }).click();
      await page.locator("#notice", { hasText: "Open it to create your account" }).waitFor();
      const link = await linkTo("pagenew@acme.test");
      assert.match(link, /#confirm=/);

      const confirmed = await loginPage(context, link.slice(server.url.length));
      await signedInAs(confirmed, "pagenew@acme.test");
      assert.equal(await confirmed.textContent("#user-name"), "Page Newcomer");
      // The link works once: opened again, it says so in words.
      const again = await loginPage(context, link.slice(server.url.length));
      await again.waitForSelector('#error[data-code="INVALID_TOKEN"]');
      assert.match(await again.textContent("#error"), /confirmation link does not work any more/);
      assert.deepEqual([page.outside, page.errors, confirmed.outside, confirmed.errors], [[], [], [], []]);
    } finally {
      await context.close();
    }
  });

  test("without email the page offers neither link", async () => {
    const plain = await startServer([]);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(new URL("/", plain.url).href);
      await page.waitForSelector("html[data-ready]", { state: "attached" });
      await sleep(300);
      assert.equal(await page.getByRole("link", { name: "Forgot password?" }).isVisible(), false);
      assert.equal(await page.getByRole("link", { name: "Create account" }).isVisible(), false);
    } finally {
      await context.close();
      await plain.stop();
    }
  });
});

describe("the admin console's emailed invitation", { skip: noChromium ? "no chromium" : false }, () => {
  test("New user, invited, Email the link to the user: created without a password, the emailed link sets one", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.outside = [];
      await context.route("**/*", (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === "127.0.0.1" || url.protocol === "data:") return route.continue();
        page.outside.push(url.href);
        return route.abort();
      });
      await page.goto(new URL("/admin/", server.url).href);
      await page.getByLabel("Email", { exact: true }).fill(ROOT.email);
      await page.getByLabel("Password").fill(ROOT.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("button", { name: "New user" }).click();
      await page.getByLabel("Email", { exact: true }).fill("ines@acme.test");
      await page.getByLabel("Name").fill("Ines");
      await page.getByLabel("Invited: a set-password link").check();
      await page.getByLabel("Email the link to the user").check();
      await page.getByRole("button", { name: "Create user" }).click();
      await page.getByRole("status").filter({ hasText: "ines@acme.test was created and emailed a set-password link." }).waitFor();
      await page.getByRole("heading", { name: "ines@acme.test", exact: true }).waitFor();
      const link = await linkTo("ines@acme.test");
      assert.match(link, /\/#set-password=/);
      const linked = await loginPage(context, link.slice(server.url.length));
      const form = linked.locator("#set-password-form");
      await form.getByLabel("New password", { exact: true }).fill("ines chose this pass phrase");
      await form.getByLabel("New password, again").fill("ines chose this pass phrase");
      await linked.getByRole("button", { name: "Set password and sign in" }).click();
      await signedInAs(linked, "ines@acme.test");
      assert.deepEqual([page.outside, linked.outside, linked.errors], [[], [], []]);
    } finally {
      await context.close();
    }
  });
});
