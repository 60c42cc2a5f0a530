// What the package tests share: the server, a fetch that counts, raw calls.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { after } from "node:test";
import { promisify } from "node:util";

export { ADA, GRACE, BANNED, ROOT, startServer } from "../scripts/server.mjs";
export { AuthliteClient, AuthliteError } from "../dist/index.js";

const runFile = promisify(execFile);

// Nothing the client does may leave an unhandled rejection: each file checks at its end.
const unhandled = [];
process.on("unhandledRejection", (reason) => unhandled.push(reason));
after(async () => {
  await new Promise((done) => setTimeout(done, 50));
  assert.deepEqual(unhandled, [], "unhandled rejections");
});

/** A fetch for the `fetch` option that records "METHOD /path" of every request. */
export function countingFetch(inner = globalThis.fetch) {
  const calls = [];
  const fetch = (input, init) => {
    const request = input instanceof Request ? input : null;
    const url = new URL(request ? request.url : String(input));
    calls.push(`${init?.method ?? request?.method ?? "GET"} ${url.pathname}`);
    return inner(input, init);
  };
  return { fetch, calls, count: (what) => calls.filter((c) => c === what).length };
}

/** POSTs JSON to the server without the client; resolves to { status, body }. */
export async function post(base, path, body, bearer) {
  const headers = { "Content-Type": "application/json" };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const res = await fetch(new URL(path, base), { method: "POST", headers, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

/** Asserts that `promise` rejects with an AuthliteError of that status and code. */
export async function rejectsWith(promise, status, code) {
  const { AuthliteError } = await import("../dist/index.js");
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof AuthliteError, `not an AuthliteError: ${err}`);
    assert.equal(err.code, code, `code (message: ${err.message})`);
    assert.equal(err.status, status, "status");
    assert.equal(typeof err.message, "string");
    return true;
  });
}

/** Records every onChange call of `auth`. */
export function changes(auth) {
  const seen = [];
  auth.onChange((session) => seen.push(session));
  return seen;
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Whether the running server's document has this path (endpoints other branches add). */
export async function hasPath(base, path) {
  const doc = await (await fetch(new URL("/openapi.json", base))).json();
  return Boolean(doc.paths?.[path]);
}

// TOTP codes come from another implementation, Python's pyotp (tests/hashes/requirements.txt),
// as in the Rust tests: a shared misreading of RFC 6238 would show.
const PYOTP = "import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))";

/**
 * Why pyotp cannot run here, or null when it can. Missing, it prints a banner
 * (tests then skip) unless AUTHLITE_REQUIRE_EXAMPLES=1, which makes it throw.
 */
export function pyotpMissing() {
  const found = spawnSync("python3", ["-c", "import pyotp"], { encoding: "utf8" });
  if (found.status === 0) return null;
  const why = `TOTP TESTS NOT RUN: no python3 with pyotp (${(found.stderr || String(found.error)).trim().split("\n").at(-1)}); run .ci/hashes-setup`;
  if (process.env.AUTHLITE_REQUIRE_EXAMPLES === "1") throw new Error(`${why}; AUTHLITE_REQUIRE_EXAMPLES=1 requires it`);
  const bar = "!".repeat(78);
  process.stderr.write(`\n${bar}\n${why}\n${bar}\n`);
  return why;
}

/** The code pyotp gives for `secret` (base32) at Unix time `t`. */
export async function totpAt(secret, t) {
  const { stdout } = await runFile("python3", ["-c", PYOTP, secret, String(t)]);
  return stdout.trim();
}

/**
 * The start of the current 30-second step, after waiting for the next one when
 * fewer than 10 s are left: codes of this step and the two beside it stay
 * accepted while a test runs.
 */
export async function freshStep() {
  for (;;) {
    const t = Math.floor(Date.now() / 1000);
    if (t % 30 < 20) return t - (t % 30);
    await sleep(200);
  }
}

/** The claims of a JWT, unverified. */
export const claims = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
