// Custom storage: sync and async, shared by clients, and failing.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ADA, AuthliteClient, changes, sleep, startServer } from "./helpers.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

function mapStorage({ delay = 0 } = {}) {
  const map = new Map();
  const later = (value) => (delay ? sleep(delay).then(() => value) : value);
  return {
    map,
    storage: {
      get: (key) => later(map.get(key) ?? null),
      set: (key, value) => later(void map.set(key, value)),
      remove: (key) => later(void map.delete(key)),
    },
  };
}

test("the session is kept as JSON under one key; a new client with the same storage starts with it", async () => {
  const { map, storage } = mapStorage();
  const auth = new AuthliteClient({ baseUrl: server.url, storage });
  const session = await auth.login(ADA.email, ADA.password);
  assert.deepEqual([...map.keys()], ["authlite.session"]);
  assert.deepEqual(JSON.parse(map.get("authlite.session")), session);
  const next = new AuthliteClient({ baseUrl: server.url, storage });
  assert.deepEqual(next.session, session, "a storage that answers at once: at construction");
  assert.equal((await next.me()).email, ADA.email);
  const refreshed = await next.refresh();
  assert.deepEqual(JSON.parse(map.get("authlite.session")), refreshed);
  await next.logout();
  assert.equal(map.size, 0);
});

test("an async storage: the session arrives before the first call completes, and listeners hear of it", async () => {
  const { map, storage } = mapStorage({ delay: 20 });
  const auth = new AuthliteClient({ baseUrl: server.url, storage, storageKey: "my-app" });
  const session = await auth.login(ADA.email, ADA.password);
  assert.deepEqual(JSON.parse(map.get("my-app")), session, "written before login resolved");
  const next = new AuthliteClient({ baseUrl: server.url, storage, storageKey: "my-app" });
  const seen = changes(next);
  assert.equal(next.session, null, "not read yet");
  assert.equal(await next.accessToken(), session.accessToken);
  assert.deepEqual(next.session, session);
  assert.equal(seen.length, 1);
  await next.logout();
  assert.equal(map.has("my-app"), false);
});

test("a client takes a newer session another client stored before refreshing with an old one", async () => {
  const { storage } = mapStorage({ delay: 5 });
  const a = new AuthliteClient({ baseUrl: server.url, storage });
  await a.login(ADA.email, ADA.password);
  const b = new AuthliteClient({ baseUrl: server.url, storage });
  await b.accessToken();
  const newer = await a.refresh();
  const seen = changes(b);
  const fromB = await b.refresh();
  assert.deepEqual(seen[0], newer, "b took a's session first");
  assert.notEqual(fromB.refreshToken, newer.refreshToken);
  assert.equal((await a.refresh()).user.email, ADA.email, "a takes b's in turn: never TOKEN_REUSED");
});

test("a storage that fails to write or read breaks nothing", async () => {
  const storage = {
    get: () => Promise.reject(new Error("disk on fire")),
    set: () => Promise.reject(new Error("disk on fire")),
    remove: () => {
      throw new Error("disk on fire");
    },
  };
  const auth = new AuthliteClient({ baseUrl: server.url, storage });
  const session = await auth.login(ADA.email, ADA.password);
  assert.equal(auth.session, session);
  assert.notEqual((await auth.refresh()).refreshToken, session.refreshToken);
  await auth.logout();
  assert.equal(auth.session, null);
});

test("something in storage that is not a session counts as none", async () => {
  for (const junk of ["not json", "{}", "null", JSON.stringify({ accessToken: 1 })]) {
    const auth = new AuthliteClient({ baseUrl: server.url, storage: { get: () => junk, set() {}, remove() {} } });
    assert.equal(auth.session, null, junk);
  }
});
