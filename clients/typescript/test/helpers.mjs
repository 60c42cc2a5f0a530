// What the package tests share: the server, a fetch that counts, raw calls.
import assert from "node:assert/strict";
import { after } from "node:test";

export { ADA, GRACE, BANNED, ROOT, startServer } from "../scripts/server.mjs";
export { AuthliteClient, AuthliteError } from "../dist/index.js";

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
