// Writes the admin console's pictures for the README: DIR/admin-console.png
// (1280 px wide, the users list) and DIR/admin-console-phone.png (375 px, a
// user's page). `node scripts/console-screenshots.mjs DIR`; run by
// `cargo test --test tools console -- --ignored`, with $AUTHLITE_BIN set.
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { AuthliteClient } from "../dist/index.js";
import { ROOT, startServer } from "./server.mjs";

const out = resolve(process.argv[2] ?? ".");
const server = await startServer();
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
try {
  const root = new AuthliteClient({ baseUrl: server.url });
  await root.login(ROOT.email, ROOT.password);
  for (const [email, name, roles] of [["lin@acme.test", "Lin Chen", ["staff"]], ["sam@acme.test", "Sam Okafor", ["billing", "staff"]]]) {
    await root.admin.createUser({ email, name, orgId: "acme", roles, password: "a long enough password" });
  }
  const shoot = async (width, height, hash, file) => {
    const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1, colorScheme: "light" });
    await context.route("**/*", (route) => (new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort()));
    const page = await context.newPage();
    await page.goto(new URL("/admin/", server.url).href);
    await page.getByLabel("Email", { exact: true }).fill(ROOT.email);
    await page.getByLabel("Password").fill(ROOT.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Users" }).waitFor();
    if (hash) {
      await page.goto(new URL(`/admin/${hash}`, server.url).href);
      await page.getByRole("button", { name: "Save" }).waitFor();
      // The form fills in once the user is read: wait for its email.
      await page.waitForFunction(() => [...document.querySelectorAll("input")].some((input) => input.value.includes("@")));
    }
    await page.screenshot({ path: join(out, file) });
    await context.close();
  };
  const sam = (await root.admin.users({ query: "sam@" })).users[0];
  await new AuthliteClient({ baseUrl: server.url }).login("sam@acme.test", "a long enough password");
  await shoot(1280, 800, null, "admin-console.png");
  await shoot(375, 812, `#/users/${sam.id}`, "admin-console-phone.png");
  console.log(`wrote ${join(out, "admin-console.png")} and ${join(out, "admin-console-phone.png")}`);
} finally {
  await browser.close();
  await server.stop();
}
