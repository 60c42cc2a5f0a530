// Every method of AuthliteClient and every error it reports, against the real server.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createServer } from "node:http";
import {
  ADA, BANNED, GRACE, AuthliteClient, AuthliteError, changes, countingFetch, hasPath, post, rejectsWith, startServer,
} from "./helpers.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

const client = (options = {}) => new AuthliteClient({ baseUrl: server.url, ...options });

describe("constructing a client", () => {
  test("needs a baseUrl in Node", () => {
    assert.throws(() => new AuthliteClient(), /baseUrl/);
  });
  test('storage "local" throws where there is no localStorage', () => {
    assert.throws(() => new AuthliteClient({ baseUrl: "http://127.0.0.1:1", storage: "local" }), /localStorage/);
  });
  test("a storage without get, set and remove is refused", () => {
    assert.throws(() => new AuthliteClient({ baseUrl: "http://127.0.0.1:1", storage: { get() {} } }), /storage/);
  });
  test("starts signed out", () => {
    assert.equal(client().session, null);
  });
});

describe("login", () => {
  test("resolves to the session: the login answer without success", async () => {
    const auth = client();
    const seen = changes(auth);
    const session = await auth.login(ADA.email, ADA.password);
    assert.deepEqual(Object.keys(session).sort(), ["accessToken", "expiresAt", "refreshToken", "tokenId", "user"]);
    assert.equal(typeof session.accessToken, "string");
    assert.equal(typeof session.refreshToken, "string");
    assert.equal(typeof session.tokenId, "string");
    assert.ok(session.expiresAt > Date.now() / 1000 + 3000, "expiresAt in seconds, an hour ahead");
    assert.deepEqual({ ...session.user, id: undefined }, { id: undefined, email: ADA.email, name: ADA.name, orgId: "acme", roles: [] });
    assert.equal(auth.session, session);
    assert.deepEqual(seen, [session], "onChange once, with the session");
  });

  test("a user without an org has orgId null", async () => {
    const session = await client().login(GRACE.email, GRACE.password);
    assert.equal(session.user.orgId, null);
  });

  for (const [what, email, password, status, code] of [
    ["a wrong password", ADA.email, "wrong password", 401, "INVALID_PASSWORD"],
    ["an unknown email", "nobody@acme.test", "whatever", 401, "USER_NOT_FOUND"],
    ["a user without a password", "invited@acme.test", "whatever", 401, "NO_PASSWORD_SET"],
    ["a banned user", BANNED.email, BANNED.password, 401, "USER_INACTIVE"],
    ["an email that is not one", "not an email", "whatever", 400, "INVALID_REQUEST"],
  ]) {
    test(`rejects ${what} with ${status} ${code} and stays signed out`, async () => {
      const auth = client();
      const seen = changes(auth);
      await rejectsWith(auth.login(email, password), status, code);
      assert.equal(auth.session, null);
      assert.deepEqual(seen, []);
    });
  }

  test("the error carries the server's message", async () => {
    const err = await client().login(ADA.email, "wrong password").catch((e) => e);
    assert.ok(err instanceof AuthliteError && err instanceof Error);
    assert.equal(err.name, "AuthliteError");
    assert.ok(err.message.length > 0 && !err.message.includes("wrong password"), err.message);
  });

  test("with no server at all: status 0, NETWORK_ERROR", async () => {
    const closed = createServer();
    await new Promise((done) => closed.listen(0, "127.0.0.1", done));
    const port = closed.address().port;
    await new Promise((done) => closed.close(done));
    const auth = new AuthliteClient({ baseUrl: `http://127.0.0.1:${port}` });
    await rejectsWith(auth.login(ADA.email, ADA.password), 0, "NETWORK_ERROR");
    assert.equal(auth.session, null);
  });
});

describe("signed out", () => {
  test("every call that needs a session rejects 401 MISSING_TOKEN without sending anything", async () => {
    const counter = countingFetch();
    const auth = client({ fetch: counter.fetch });
    await rejectsWith(auth.accessToken(), 401, "MISSING_TOKEN");
    await rejectsWith(auth.refresh(), 401, "MISSING_TOKEN");
    await rejectsWith(auth.fetch("/user/me"), 401, "MISSING_TOKEN");
    await rejectsWith(auth.me(), 401, "MISSING_TOKEN");
    await rejectsWith(auth.sessions(), 401, "MISSING_TOKEN");
    await rejectsWith(auth.revokeSession("some-sid"), 401, "MISSING_TOKEN");
    await rejectsWith(auth.changePassword(ADA.password, "another long password"), 401, "MISSING_TOKEN");
    assert.deepEqual(counter.calls, []);
  });

  test("logout resolves and sends nothing", async () => {
    const counter = countingFetch();
    const auth = client({ fetch: counter.fetch });
    const seen = changes(auth);
    await auth.logout();
    assert.deepEqual(counter.calls, []);
    assert.deepEqual(seen, []);
  });
});

describe("signed in", () => {
  test("me() is the user of GET /user/me", async () => {
    const auth = client();
    const { user } = await auth.login(ADA.email, ADA.password);
    assert.deepEqual(await auth.me(), user);
  });

  test("accessToken() is the session's token while it is far from expiring, with no request", async () => {
    const counter = countingFetch();
    const auth = client({ fetch: counter.fetch });
    const session = await auth.login(ADA.email, ADA.password);
    assert.equal(await auth.accessToken(), session.accessToken);
    assert.deepEqual(counter.calls, ["POST /user/login"]);
  });

  test("refresh() resolves to a new session, stored and told to listeners", async () => {
    const auth = client();
    const first = await auth.login(ADA.email, ADA.password);
    const seen = changes(auth);
    const next = await auth.refresh();
    assert.notEqual(next.refreshToken, first.refreshToken);
    assert.notEqual(next.tokenId, first.tokenId);
    assert.deepEqual(next.user, first.user);
    assert.equal(auth.session, next);
    assert.deepEqual(seen, [next]);
    assert.deepEqual(await auth.me(), first.user);
  });

  test("sessions() lists the live sessions, revokeSession() ends one", async () => {
    const auth = client();
    const other = client();
    await auth.login(GRACE.email, GRACE.password);
    await other.login(GRACE.email, GRACE.password);
    const list = await auth.sessions();
    const mine = list.filter((s) => s.current);
    assert.equal(mine.length, 1);
    for (const s of list) {
      for (const key of ["sid", "createdAt", "lastUsedAt", "expiresAt", "userAgent", "ip", "current"]) assert.ok(key in s, key);
    }
    const theirs = (await other.sessions()).find((s) => s.current);
    assert.notEqual(theirs.sid, mine[0].sid);
    await auth.revokeSession(theirs.sid);
    assert.ok(!(await auth.sessions()).some((s) => s.sid === theirs.sid));
    await rejectsWith(other.me(), 401, "TOKEN_REVOKED");
    await rejectsWith(auth.revokeSession(theirs.sid), 404, "SESSION_NOT_FOUND");
  });

  test("a revoked session: the refresh clears it and tells the listeners", async () => {
    const auth = client();
    const session = await auth.login(ADA.email, ADA.password);
    const seen = changes(auth);
    assert.equal((await post(server.url, "/user/logout", { refreshToken: session.refreshToken })).status, 200);
    await rejectsWith(auth.refresh(), 401, "TOKEN_REVOKED");
    assert.equal(auth.session, null);
    assert.deepEqual(seen, [null]);
    await rejectsWith(auth.me(), 401, "MISSING_TOKEN");
  });

  test("a deactivated user: refresh answers USER_INACTIVE and clears the session", async () => {
    const auth = client();
    await auth.login(GRACE.email, GRACE.password);
    const seen = changes(auth);
    await server.cli("user", "set-status", GRACE.email, "inactive");
    try {
      await rejectsWith(auth.refresh(), 401, "USER_INACTIVE");
    } finally {
      await server.cli("user", "set-status", GRACE.email, "active");
    }
    assert.equal(auth.session, null);
    assert.deepEqual(seen, [null]);
  });

  test("a token that is not the server's: INVALID_TOKEN, cleared", async () => {
    const stored = { accessToken: "x", refreshToken: "not.a.token", tokenId: "t", expiresAt: 1, user: { id: "u", email: "e", name: "n", orgId: null } };
    const map = new Map([["authlite.session", JSON.stringify(stored)]]);
    const storage = { get: (k) => map.get(k) ?? null, set: (k, v) => void map.set(k, v), remove: (k) => void map.delete(k) };
    const auth = client({ storage });
    assert.equal(auth.session.refreshToken, "not.a.token");
    const seen = changes(auth);
    await rejectsWith(auth.accessToken(), 401, "INVALID_TOKEN");
    assert.equal(auth.session, null);
    assert.equal(map.has("authlite.session"), false);
    assert.deepEqual(seen, [null]);
  });

  test("logout() ends the session here and on the server", async () => {
    const counter = countingFetch();
    const auth = client({ fetch: counter.fetch });
    const session = await auth.login(ADA.email, ADA.password);
    const seen = changes(auth);
    await auth.logout();
    assert.equal(auth.session, null);
    assert.deepEqual(seen, [null]);
    assert.deepEqual(counter.calls, ["POST /user/login", "POST /user/logout"]);
    const again = await post(server.url, "/user/refresh", { refreshToken: session.refreshToken });
    assert.equal(again.status, 401);
    assert.equal(again.body.error_code, "TOKEN_REVOKED");
  });

  test("logout({ all: true }) ends every session of the user", async () => {
    const auth = client();
    const other = client();
    await auth.login(GRACE.email, GRACE.password);
    await other.login(GRACE.email, GRACE.password);
    await auth.logout({ all: true });
    assert.equal(auth.session, null);
    await rejectsWith(other.refresh(), 401, "TOKEN_REVOKED");
    assert.equal(other.session, null);
  });

  test("onChange() returns a function that stops the listener; a throwing listener stops no other", async () => {
    const auth = client();
    const seen = [];
    const errors = [];
    const original = console.error;
    console.error = (e) => errors.push(e);
    try {
      auth.onChange(() => {
        throw new Error("listener bug");
      });
      auth.onChange(async () => {
        throw new Error("async listener bug");
      });
      const stop = auth.onChange((s) => seen.push(s));
      await auth.login(ADA.email, ADA.password);
      stop();
      await auth.logout();
      await new Promise((done) => setTimeout(done, 10));
    } finally {
      console.error = original;
    }
    assert.equal(seen.length, 1);
    assert.equal(errors.length, 4, "each listener error reported, none thrown");
  });
});

describe("fetch(input, init)", () => {
  // An app's API that verifies tokens itself: the first token it sees it calls
  // expired (as after a clock jump), any other it accepts and echoes the request.
  let api;
  let apiUrl;
  let answer = "expire-first";
  const seenTokens = [];
  before(async () => {
    api = createServer(async (req, res) => {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
      seenTokens.push(token);
      const expired = answer === "always-expired" || (answer === "expire-first" && seenTokens.indexOf(token) === seenTokens.length - 1 && seenTokens.length === 1);
      res.setHeader("Content-Type", "application/json");
      if (expired) {
        res.statusCode = 401;
        res.end(JSON.stringify({ success: false, error_code: "TOKEN_EXPIRED", message: "expired" }));
        return;
      }
      res.end(JSON.stringify({ method: req.method, path: req.url, body: Buffer.concat(chunks).toString(), token, type: req.headers["content-type"] }));
    });
    await new Promise((done) => api.listen(0, "127.0.0.1", done));
    apiUrl = `http://127.0.0.1:${api.address().port}`;
  });
  after(() => new Promise((done) => api.close(done)));

  test("a relative string is resolved against baseUrl and sent with the bearer", async () => {
    const auth = client();
    await auth.login(ADA.email, ADA.password);
    const res = await auth.fetch("/user/me");
    assert.equal(res.status, 200);
    assert.equal((await res.json()).user.email, ADA.email);
    const url = await auth.fetch(new URL("/user/sessions", server.url));
    assert.equal(url.status, 200);
  });

  test("any answer other than 401 TOKEN_EXPIRED resolves untouched", async () => {
    const counter = countingFetch();
    const auth = client({ fetch: counter.fetch });
    await auth.login(ADA.email, ADA.password);
    const missing = await auth.fetch("/no/such/path");
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error_code, "NOT_FOUND");
    await post(server.url, "/user/logout", { refreshToken: auth.session.refreshToken });
    const revoked = await auth.fetch("/user/me");
    assert.equal(revoked.status, 401);
    assert.equal((await revoked.json()).error_code, "TOKEN_REVOKED");
    assert.equal(counter.count("POST /user/refresh"), 0);
  });

  test("on 401 TOKEN_EXPIRED it refreshes once and sends the same Request again, body included", async () => {
    answer = "expire-first";
    seenTokens.length = 0;
    const counter = countingFetch();
    const auth = client({ fetch: counter.fetch });
    const first = await auth.login(ADA.email, ADA.password);
    const request = new Request(`${apiUrl}/orders?x=1`, { method: "PUT", body: "the order", headers: { "Content-Type": "text/plain" } });
    const res = await auth.fetch(request);
    assert.equal(res.status, 200);
    const echo = await res.json();
    assert.deepEqual({ ...echo, token: undefined }, { method: "PUT", path: "/orders?x=1", body: "the order", token: undefined, type: "text/plain" });
    assert.notEqual(echo.token, first.accessToken);
    assert.equal(echo.token, auth.session.accessToken);
    assert.deepEqual(seenTokens, [first.accessToken, auth.session.accessToken]);
    assert.equal(counter.count("POST /user/refresh"), 1);
  });

  test("a string and init with a body are sent again as well", async () => {
    answer = "expire-first";
    seenTokens.length = 0;
    const auth = client();
    await auth.login(ADA.email, ADA.password);
    const res = await auth.fetch(`${apiUrl}/notes`, { method: "POST", body: JSON.stringify({ a: 1 }), headers: { "Content-Type": "application/json" } });
    assert.deepEqual((await res.json()).body, '{"a":1}');
  });

  test("a second 401 resolves to that Response untouched, after one refresh", async () => {
    answer = "always-expired";
    seenTokens.length = 0;
    const counter = countingFetch();
    const auth = client({ fetch: counter.fetch });
    await auth.login(ADA.email, ADA.password);
    const res = await auth.fetch(`${apiUrl}/x`);
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error_code, "TOKEN_EXPIRED");
    assert.equal(counter.count("POST /user/refresh"), 1);
    assert.equal(seenTokens.length, 2);
    assert.ok(auth.session, "still signed in");
  });
});

describe("passwords", () => {
  let ready = false;
  before(async () => {
    ready = (await hasPath(server.url, "/user/password")) && (await hasPath(server.url, "/user/password/reset"));
  });

  test("changePassword(): wrong current, weak new, then done; other sessions end, this one goes on", async (t) => {
    if (!ready) return t.skip("this server has no POST /user/password yet");
    await server.cli("user", "add", "--email", "change@acme.test", "--name", "Change").catch(() => {});
    const email = "change@acme.test";
    const first = "first long password 1";
    await setPassword(email, first);
    const auth = client();
    const other = client();
    await auth.login(email, first);
    await other.login(email, first);
    await rejectsWith(auth.changePassword("not it at all", "second long password 2"), 401, "INVALID_PASSWORD");
    await rejectsWith(auth.changePassword(first, "short"), 400, "WEAK_PASSWORD");
    await rejectsWith(auth.changePassword(first, "password123"), 400, "WEAK_PASSWORD");
    await auth.changePassword(first, "second long password 2");
    assert.equal((await auth.me()).email, email);
    await rejectsWith(other.refresh(), 401, "TOKEN_REVOKED");
    await rejectsWith(client().login(email, first), 401, "INVALID_PASSWORD");
    await client().login(email, "second long password 2");
  });

  test("resetPassword(): a link's token sets the password, once; the user comes back", async (t) => {
    if (!ready) return t.skip("this server has no POST /user/password/reset yet");
    const token = await linkToken("invited@acme.test");
    const auth = client();
    await rejectsWith(auth.resetPassword(token, "short"), 400, "WEAK_PASSWORD");
    const user = await auth.resetPassword(token, "invited long password");
    assert.equal(user.email, "invited@acme.test");
    assert.equal(auth.session, null, "resetting does not sign in");
    await auth.login(user.email, "invited long password");
    await rejectsWith(auth.resetPassword(token, "another long password"), 401, "INVALID_TOKEN");
    await rejectsWith(auth.resetPassword("no-such-token", "another long password"), 401, "INVALID_TOKEN");
  });

  test("resetPassword() with an expired link: TOKEN_EXPIRED", async (t) => {
    if (!ready) return t.skip("this server has no POST /user/password/reset yet");
    const token = await linkToken(GRACE.email, ["--ttl", "1"]);
    await new Promise((done) => setTimeout(done, 2100));
    await rejectsWith(client().resetPassword(token, "another long password"), 401, "TOKEN_EXPIRED");
  });
});

async function linkToken(email, flags = []) {
  const out = await server.cli("user", "link", email, "--public-url", server.url, ...flags);
  const m = /#set-password=([^\s]+)/.exec(out);
  assert.ok(m, `no link in: ${out}`);
  return decodeURIComponent(m[1]);
}

async function setPassword(email, password) {
  const { spawn } = await import("node:child_process");
  const { binary } = await import("../scripts/server.mjs");
  const child = spawn(binary(), ["--db", server.db, "--pbkdf2-iterations", "1000", "user", "set-password", email, "--password-stdin"]);
  child.stdin.end(`${password}\n`);
  const code = await new Promise((done) => child.once("exit", done));
  assert.equal(code, 0, "set-password");
}
