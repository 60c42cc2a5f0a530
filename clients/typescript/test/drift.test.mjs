// What must not drift: the committed wire types against the server's own
// document, the committed dist/ against a fresh build, and the module the
// binary serves against both.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { BUNDLE, buildInto } from "../scripts/build.mjs";
import { GENERATED, generateTypes } from "../scripts/openapi.mjs";
import { startServer } from "./helpers.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
let server;
let fresh;
before(async () => {
  server = await startServer();
  fresh = await mkdtemp(join(tmpdir(), "authlite-client-build-"));
  await buildInto(fresh);
});
after(async () => {
  await server?.stop();
  if (fresh) await rm(fresh, { recursive: true, force: true });
});

async function files(dir, prefix = "") {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const name = join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...(await files(join(dir, entry.name), name)));
    else out.push(name);
  }
  return out.sort();
}

test("src/generated/api.ts is what the running server's /openapi.json generates (else: npm run generate)", async () => {
  const expected = await generateTypes(server.url);
  const committed = await readFile(GENERATED, "utf8");
  assert.ok(committed === expected, "src/generated/api.ts differs from the server's document: run `npm run generate` in clients/typescript");
});

test("the committed dist/ is a fresh build of src/ (else: npm run build)", async () => {
  assert.deepEqual(await files(dist), await files(fresh), "the files of dist/");
  for (const name of await files(fresh)) {
    const [a, b] = await Promise.all([readFile(join(dist, name)), readFile(join(fresh, name))]);
    assert.ok(a.equals(b), `dist/${name} differs from a fresh build: run \`npm run build\` in clients/typescript`);
  }
});

test("GET /client/authlite-client.js is the fresh build, as JavaScript, cacheable; HEAD too", async () => {
  const url = new URL("/client/authlite-client.js", server.url);
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.match(res.headers.get("cache-control"), /^public, max-age=\d+$/);
  const body = Buffer.from(await res.arrayBuffer());
  assert.ok(body.equals(await readFile(join(fresh, BUNDLE))), "the binary embeds another build: npm run build, then cargo build");
  const head = await fetch(url, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal((await head.arrayBuffer()).byteLength, 0);
  const post = await fetch(url, { method: "POST" });
  assert.equal(post.status, 405);
});

test("the bundle is one self-contained ES module with the package's exports, under 5 KB gzipped", async () => {
  const source = await readFile(join(dist, BUNDLE));
  assert.doesNotMatch(source.toString(), /\bimport\s*[\s{*"'(]|\brequire\(/, "imports nothing");
  const mod = await import(new URL(`file://${join(dist, BUNDLE)}`));
  assert.deepEqual(Object.keys(mod).sort(), ["AuthliteClient", "AuthliteError"]);
  const gz = gzipSync(source, { level: 9 }).length;
  console.log(`# ${BUNDLE}: ${source.length} bytes minified, ${gz} bytes gzipped`);
  assert.ok(gz < 5 * 1024, `${gz} bytes gzipped`);
});

test("the declarations type-check a user's code: ErrorCode is the contract's codes plus NETWORK_ERROR", async () => {
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  const run = promisify(execFile);
  const result = await run(process.execPath, [tsc, "-p", join(root, "test/types/tsconfig.json")]).catch((e) => e);
  assert.equal(result.code ?? 0, 0, `${result.stdout ?? ""}${result.stderr ?? ""}`);
});
