// Refresh timing with short-lived tokens, single flight, and what a failing
// server does (and does not do) to the session.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ADA, AuthliteClient, changes, countingFetch, post, rejectsWith, sleep, startServer } from "./helpers.mjs";

describe("with 3-second access tokens", () => {
  let server;
  before(async () => {
    server = await startServer(["--access-ttl", "3"]);
  });
  after(() => server?.stop());

  test("accessToken() renews refreshMargin seconds before expiresAt, not before", async () => {
    const counter = countingFetch();
    const auth = new AuthliteClient({ baseUrl: server.url, fetch: counter.fetch, refreshMargin: 1 });
    const first = await auth.login(ADA.email, ADA.password);
    assert.equal(await auth.accessToken(), first.accessToken);
    assert.equal(counter.count("POST /user/refresh"), 0);
    const seen = changes(auth);
    // Inside the margin: one second or less before expiry.
    await sleep((first.expiresAt - 1 - Date.now() / 1000) * 1000 + 100);
    const token = await auth.accessToken();
    assert.notEqual(token, first.accessToken);
    assert.equal(counter.count("POST /user/refresh"), 1);
    assert.equal(seen.length, 1);
    assert.equal(await auth.accessToken(), token, "the new one is not renewed at once");
    assert.equal(counter.count("POST /user/refresh"), 1);
  });

  test("an expired access token is renewed before me() sends anything", async () => {
    const counter = countingFetch();
    const auth = new AuthliteClient({ baseUrl: server.url, fetch: counter.fetch, refreshMargin: 0 });
    const first = await auth.login(ADA.email, ADA.password);
    await sleep((first.expiresAt - Date.now() / 1000) * 1000 + 1100);
    assert.equal((await auth.me()).email, ADA.email);
    assert.deepEqual(counter.calls, ["POST /user/login", "POST /user/refresh", "GET /user/me"]);
  });

  test("me() given TOKEN_EXPIRED by the server (a client clock behind) refreshes once and asks again", async () => {
    const counter = countingFetch();
    // A negative margin: this client believes tokens for 30 s after they expire.
    const auth = new AuthliteClient({ baseUrl: server.url, fetch: counter.fetch, refreshMargin: -30 });
    const first = await auth.login(ADA.email, ADA.password);
    await sleep((first.expiresAt - Date.now() / 1000) * 1000 + 1100);
    assert.equal((await auth.me()).email, ADA.email);
    assert.deepEqual(counter.calls, ["POST /user/login", "GET /user/me", "POST /user/refresh", "GET /user/me"]);
  });

  test("concurrent calls that need a refresh share one refresh request", async () => {
    const counter = countingFetch();
    // A margin longer than the token's life: every call needs a refresh.
    const auth = new AuthliteClient({ baseUrl: server.url, fetch: counter.fetch, refreshMargin: 60 });
    await auth.login(ADA.email, ADA.password);
    const seen = changes(auth);
    const tokens = await Promise.all([
      auth.accessToken(), auth.accessToken(), auth.accessToken(), auth.refresh().then((s) => s.accessToken),
      auth.me().then(() => auth.session.accessToken), auth.sessions().then(() => auth.session.accessToken),
      auth.fetch("/user/me").then(() => auth.session.accessToken),
    ]);
    assert.equal(counter.count("POST /user/refresh"), 1, counter.calls.join(", "));
    assert.equal(new Set(tokens).size, 1, "all got the one new token");
    assert.equal(seen.length, 1, "one change");
  });

  test("concurrent refresh() calls share one request and resolve to the same session", async () => {
    const counter = countingFetch();
    const auth = new AuthliteClient({ baseUrl: server.url, fetch: counter.fetch });
    await auth.login(ADA.email, ADA.password);
    const sessions = await Promise.all([auth.refresh(), auth.refresh(), auth.refresh()]);
    assert.equal(counter.count("POST /user/refresh"), 1);
    assert.ok(sessions.every((s) => s === sessions[0]));
    // Once that one is done, the next call makes a new request.
    await auth.refresh();
    assert.equal(counter.count("POST /user/refresh"), 2);
  });

  test("two clients racing on one stored session both stay signed in (the server's reuse grace)", async () => {
    const map = new Map();
    const storage = { get: async (k) => map.get(k) ?? null, set: async (k, v) => void map.set(k, v), remove: async (k) => void map.delete(k) };
    const a = new AuthliteClient({ baseUrl: server.url, storage });
    await a.login(ADA.email, ADA.password);
    const b = new AuthliteClient({ baseUrl: server.url, storage });
    await b.accessToken();
    const [sa, sb] = await Promise.all([a.refresh(), b.refresh()]);
    assert.equal(sa.refreshToken, sb.refreshToken, "the same new pair");
    assert.equal((await a.me()).email, ADA.email);
    assert.equal((await b.me()).email, ADA.email);
  });
});

describe("refresh tokens that end", () => {
  let server;
  before(async () => {
    server = await startServer(["--refresh-ttl", "2"]);
  });
  after(() => server?.stop());

  test("an expired refresh token: TOKEN_EXPIRED clears the session", async () => {
    const auth = new AuthliteClient({ baseUrl: server.url });
    await auth.login(ADA.email, ADA.password);
    const seen = changes(auth);
    await sleep(3100);
    await rejectsWith(auth.refresh(), 401, "TOKEN_EXPIRED");
    assert.equal(auth.session, null);
    assert.deepEqual(seen, [null]);
  });

});

describe("a refresh token used twice", () => {
  let server;
  before(async () => {
    server = await startServer(["--reuse-grace", "1"]);
  });
  after(() => server?.stop());

  test("used again after the grace: TOKEN_REUSED clears the session", async () => {
    const auth = new AuthliteClient({ baseUrl: server.url });
    const session = await auth.login(ADA.email, ADA.password);
    const seen = changes(auth);
    assert.equal((await post(server.url, "/user/refresh", { refreshToken: session.refreshToken })).status, 200);
    await sleep(1600);
    await rejectsWith(auth.refresh(), 401, "TOKEN_REUSED");
    assert.equal(auth.session, null);
    assert.deepEqual(seen, [null]);
  });
});

describe("a server that fails", () => {
  test("a 503 on refresh keeps the session", async () => {
    const server = await startServer();
    try {
      let busy = true;
      const fetch = (input, init) =>
        busy && String(input).endsWith("/user/refresh")
          ? Promise.resolve(new Response(JSON.stringify({ success: false, error_code: "SERVER_BUSY", message: "busy" }), { status: 503, headers: { "Retry-After": "2" } }))
          : globalThis.fetch(input, init);
      const auth = new AuthliteClient({ baseUrl: server.url, fetch });
      const session = await auth.login(ADA.email, ADA.password);
      const seen = changes(auth);
      const err = await auth.refresh().catch((e) => e);
      assert.equal(err.status, 503);
      assert.equal(err.code, "SERVER_BUSY");
      assert.equal(err.retryAfter, 2);
      assert.equal(auth.session, session);
      busy = false;
      assert.notEqual((await auth.refresh()).refreshToken, session.refreshToken);
      assert.equal(seen.length, 1);
    } finally {
      await server.stop();
    }
  });

  test("no answer keeps the session; after a restart it refreshes; logout with the server down still signs out", async () => {
    const server = await startServer();
    let again;
    try {
      const counter = countingFetch();
      const auth = new AuthliteClient({ baseUrl: server.url, fetch: counter.fetch });
      const session = await auth.login(ADA.email, ADA.password);
      const seen = changes(auth);
      await server.stop({ keepFiles: true });
      await rejectsWith(auth.refresh(), 0, "NETWORK_ERROR");
      await rejectsWith(auth.me(), 0, "NETWORK_ERROR");
      await rejectsWith(auth.fetch("/user/me"), 0, "NETWORK_ERROR");
      assert.equal(auth.session, session);
      assert.deepEqual(seen, []);

      again = await startServer([], { port: server.port, dir: server.dir });
      const next = await auth.refresh();
      assert.notEqual(next.refreshToken, session.refreshToken);
      await again.stop({ keepFiles: true });

      await auth.logout();
      assert.equal(auth.session, null);
      assert.deepEqual(seen, [next, null]);
      assert.equal(counter.count("POST /user/logout"), 1, "it tried");
    } finally {
      await again?.stop({ keepFiles: true });
      await server.stop();
    }
  });
});
