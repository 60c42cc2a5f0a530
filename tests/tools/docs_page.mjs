// GET /docs in real Chromium (playwright-core from clients/typescript, Debian's
// /usr/bin/chromium): every operation of /openapi.json is rendered with its
// heading and its code samples, while every request that leaves 127.0.0.1 is
// aborted, and nothing fails: no failed request, no error answer, no console
// error or warning, no page error. Run by tests/tools/docs_page.rs:
//   node docs_page.mjs http://127.0.0.1:PORT
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const base = process.argv[2];
const clientDir = fileURLToPath(new URL("../../clients/typescript/", import.meta.url));
const { chromium } = createRequire(clientDir + "package.json")("playwright-core");

const problems = [];
const doc = await (await fetch(`${base}/openapi.json`)).json();
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ id: sectionId(method, path), method, path, samples: op["x-codeSamples"] })));

/** The id RapiDoc gives an operation's section: these characters become "-". */
function sectionId(method, path) {
  return `${method}-${path.replace(/[\s#:?&={}]/g, "-")}`;
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") return route.continue();
    problems.push(`a request outside 127.0.0.1: ${url.href}`);
    return route.abort();
  });
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => r.status() >= 400 && problems.push(`${r.status()}: ${r.url()}`));

  await page.goto(`${base}/docs`, { waitUntil: "networkidle" });
  if ((await page.title()) !== "authlite API reference") problems.push(`title: ${await page.title()}`);
  // RapiDoc renders into its shadow root once it has read the document.
  await page.waitForFunction((count) => {
    const root = document.querySelector("rapi-doc")?.shadowRoot;
    return root && root.querySelectorAll("[part~=section-operation]").length >= count;
  }, operations.length, { timeout: 30_000 });

  const rendered = await page.evaluate((ops) => {
    const root = document.querySelector("rapi-doc").shadowRoot;
    // The code of the sample tab shown: RapiDoc hides the others with display: none.
    window.shownSample = (section) => {
      const shown = [...section.querySelectorAll(".tab-content")].find((t) => getComputedStyle(t).display !== "none");
      return shown?.querySelector("code")?.textContent.trim() ?? "";
    };
    return ops.map(({ id }) => {
      const section = root.getElementById(id);
      if (!section) return { id, missing: true };
      const text = (css) => section.querySelector(css)?.textContent.trim() ?? "";
      return {
        id,
        heading: text("h2"),
        method: text("[part~=label-operation-method]"),
        path: text("[part~=label-operation-path]"),
        tabs: [...section.querySelectorAll("[part~=tab-btn]")].map((b) => b.textContent.trim()),
        shown: shownSample(section),
      };
    });
  }, operations);

  for (const [i, op] of operations.entries()) {
    const seen = rendered[i];
    const where = `${op.method.toUpperCase()} ${op.path}`;
    if (seen.missing) {
      problems.push(`${where}: not rendered`);
      continue;
    }
    if (!seen.heading) problems.push(`${where}: no heading`);
    if (seen.method !== op.method || seen.path !== op.path) problems.push(`${where}: shown as ${seen.method} ${seen.path}`);
    const labels = op.samples.map((s) => s.label);
    if (JSON.stringify(seen.tabs) !== JSON.stringify(labels)) problems.push(`${where}: sample tabs ${seen.tabs}, not ${labels}`);
    if (seen.shown !== op.samples[0].source.trim()) problems.push(`${where}: the first sample shows ${JSON.stringify(seen.shown)}`);
  }

  // The login's TypeScript tab shows the client's method, and its 401 answer the error codes.
  const login = page.locator("rapi-doc").locator("[id='post-/user/login']");
  await login.locator("[part~=tab-btn]", { hasText: "TypeScript (authlite-client)" }).click();
  const typescript = await page.evaluate(() =>
    shownSample(document.querySelector("rapi-doc").shadowRoot.getElementById("post-/user/login")));
  if (!typescript.includes("await auth.login(\"ada@acme.test\"")) problems.push(`login's TypeScript tab: ${typescript}`);
  await login.locator("[part~=btn-response-status]", { hasText: "401" }).click();
  for (const code of ["INVALID_PASSWORD", "USER_NOT_FOUND"]) {
    try {
      await login.getByText(code).filter({ visible: true }).first().waitFor({ timeout: 5_000 });
    } catch {
      problems.push(`login's 401 answer does not show ${code}`);
    }
  }
  console.log(`${operations.length} operations rendered with their headings and code samples`);
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
