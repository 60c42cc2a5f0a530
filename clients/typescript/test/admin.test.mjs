// auth.admin: every method of the admin API group, against the real server.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ADA, BANNED, GRACE, ROOT, AuthliteClient, countingFetch, rejectsWith, startServer } from "./helpers.mjs";

let server;
let root;
before(async () => {
  server = await startServer();
  root = client();
  await root.login(ROOT.email, ROOT.password);
});
after(() => server?.stop());

const client = (options = {}) => new AuthliteClient({ baseUrl: server.url, ...options });
const idOf = async (email) => (await root.admin.users({ query: email })).users[0].id;

describe("who may call it", () => {
  test("signed out, every admin call rejects 401 MISSING_TOKEN without sending anything", async () => {
    const counter = countingFetch();
    const admin = client({ fetch: counter.fetch }).admin;
    await rejectsWith(admin.users(), 401, "MISSING_TOKEN");
    await rejectsWith(admin.createUser({ email: "x@acme.test", name: "X" }), 401, "MISSING_TOKEN");
    await rejectsWith(admin.apiKeys(), 401, "MISSING_TOKEN");
    assert.deepEqual(counter.calls, []);
  });

  test("a user without the role admin gets 403 FORBIDDEN", async () => {
    const ada = client();
    await ada.login(ADA.email, ADA.password);
    await rejectsWith(ada.admin.users(), 403, "FORBIDDEN");
    await rejectsWith(ada.admin.orgs(), 403, "FORBIDDEN");
    await rejectsWith(ada.admin.apiKeys(), 403, "FORBIDDEN");
  });
});

describe("users", () => {
  test("users() is a page by email; query, status and role filter it", async () => {
    const all = await root.admin.users();
    assert.deepEqual(all.users.map((u) => u.email), [ADA.email, BANNED.email, GRACE.email, "invited@acme.test", ROOT.email]);
    assert.equal(all.nextCursor, null);
    assert.deepEqual((await root.admin.users({ query: "LOVELACE" })).users.map((u) => u.email), [ADA.email]);
    assert.deepEqual((await root.admin.users({ status: "banned" })).users.map((u) => u.email), [BANNED.email]);
    assert.deepEqual((await root.admin.users({ role: "admin" })).users.map((u) => u.email), [ROOT.email]);
    const first = await root.admin.users({ limit: 2 });
    assert.deepEqual(first.users.map((u) => u.email), [ADA.email, BANNED.email]);
    const second = await root.admin.users({ limit: 2, cursor: first.nextCursor });
    assert.deepEqual(second.users.map((u) => u.email), [GRACE.email, "invited@acme.test"]);
  });

  test("a bad filter rejects 400 INVALID_REQUEST", async () => {
    await rejectsWith(root.admin.users({ status: "sleeping" }), 400, "INVALID_REQUEST");
  });

  test("user() is the admin view of one user; an unknown id is 404 USER_NOT_FOUND", async () => {
    const id = await idOf(ADA.email);
    const user = await root.admin.user(id);
    assert.deepEqual(
      { ...user, createdAt: 0, updatedAt: 0, lastLoginAt: null },
      {
        id, email: ADA.email, name: ADA.name, orgId: "acme", roles: [], status: "active", hasPassword: true,
        createdAt: 0, updatedAt: 0, lastLoginAt: null, lockedUntil: null, mfa: { totp: false, recoveryCodesLeft: 0, passkeys: 0 },
      },
    );
    await rejectsWith(root.admin.user("no-such-user"), 404, "USER_NOT_FOUND");
  });

  test("createUser() with a password: the user signs in with it", async () => {
    const user = await root.admin.createUser({ email: "lin@acme.test", name: "Lin", orgId: "acme", roles: ["staff"], password: "a fresh long password" });
    assert.deepEqual(
      [user.email, user.name, user.orgId, user.roles, user.status, user.hasPassword],
      ["lin@acme.test", "Lin", "acme", ["staff"], "active", true],
    );
    const session = await client().login("lin@acme.test", "a fresh long password");
    assert.equal(session.user.id, user.id);
    await rejectsWith(root.admin.createUser({ email: "lin@acme.test", name: "Again" }), 409, "EMAIL_TAKEN");
  });

  test("createUser() invited: with no email to send, 501 EMAIL_DISABLED and no user", async () => {
    await rejectsWith(root.admin.createUser({ email: "mo@acme.test", name: "Mo", invite: true }), 501, "EMAIL_DISABLED");
    assert.deepEqual((await root.admin.users({ query: "mo@acme.test" })).users, []);
  });

  test("updateUser() changes name, org, roles and status", async () => {
    const { id } = await root.admin.createUser({ email: "pat@acme.test", name: "Pat" });
    const user = await root.admin.updateUser(id, { name: "Pat Smith", orgId: "acme", roles: ["billing", "staff"], status: "inactive" });
    assert.deepEqual([user.name, user.orgId, user.roles, user.status], ["Pat Smith", "acme", ["billing", "staff"], "inactive"]);
    assert.deepEqual(await root.admin.user(id), user);
    await rejectsWith(root.admin.updateUser(id, { roles: ["Not A Role"] }), 400, "INVALID_REQUEST");
    await rejectsWith(root.admin.updateUser(id, { orgId: "nowhere" }), 404, "ORG_NOT_FOUND");
  });

  test("setPassword() sets it and ends the user's sessions; a weak one is 400 WEAK_PASSWORD", async () => {
    const { id } = await root.admin.createUser({ email: "sam@acme.test", name: "Sam", password: "the first long password" });
    const sam = client();
    await sam.login("sam@acme.test", "the first long password");
    await root.admin.setPassword(id, "the second long password");
    await rejectsWith(sam.refresh(), 401, "TOKEN_REVOKED");
    await client().login("sam@acme.test", "the second long password");
    await rejectsWith(root.admin.setPassword(id, "short"), 400, "WEAK_PASSWORD");
  });

  test("makeLink() gives a set-password link that works; send: true is 501 EMAIL_DISABLED", async () => {
    const id = await idOf("invited@acme.test");
    const link = await root.admin.makeLink(id, { ttl: 600 });
    assert.deepEqual(Object.keys(link).sort(), ["expiresAt", "url"]);
    const token = new URL(link.url).hash.replace(/^#set-password=/, "");
    assert.notEqual(token, new URL(link.url).hash, link.url);
    assert.ok(Math.abs(link.expiresAt - (Date.now() / 1000 + 600)) < 5, "expiresAt in ttl seconds");
    const user = await client().resetPassword(token, "an invited user's password");
    assert.equal(user.id, id);
    await rejectsWith(root.admin.makeLink(id, { send: true }), 501, "EMAIL_DISABLED");
  });

  test("unlock() clears a lockout", async () => {
    const { id } = await root.admin.createUser({ email: "lee@acme.test", name: "Lee", password: "lee's long password" });
    for (let i = 0; i < 5; i++) await rejectsWith(client().login("lee@acme.test", "wrong password"), 401, "INVALID_PASSWORD");
    await rejectsWith(client().login("lee@acme.test", "lee's long password"), 429, "TOO_MANY_ATTEMPTS");
    assert.equal(typeof (await root.admin.user(id)).lockedUntil, "number");
    await root.admin.unlock(id);
    assert.equal((await root.admin.user(id)).lockedUntil, null);
    await client().login("lee@acme.test", "lee's long password");
  });

  test("deleteUser() marks the user deleted; with erase the user is gone", async () => {
    const { id } = await root.admin.createUser({ email: "kim@acme.test", name: "Kim", password: "kim's long password" });
    const kim = client();
    await kim.login("kim@acme.test", "kim's long password");
    await root.admin.deleteUser(id);
    assert.equal((await root.admin.user(id)).status, "deleted");
    await rejectsWith(kim.refresh(), 401, "TOKEN_REVOKED");
    await root.admin.deleteUser(id, { erase: true });
    await rejectsWith(root.admin.user(id), 404, "USER_NOT_FOUND");
  });
});

describe("sessions", () => {
  test("userSessions() lists them; revokeSession() ends one, revokeUserSessions() the rest", async () => {
    const { id } = await root.admin.createUser({ email: "ray@acme.test", name: "Ray", password: "ray's long password" });
    const one = client();
    const two = client();
    const three = client();
    for (const c of [one, two, three]) await c.login("ray@acme.test", "ray's long password");
    const listed = await root.admin.userSessions(id);
    assert.deepEqual(listed.map((s) => s.sid).sort(), [one, two, three].map((c) => sidOf(c)).sort());
    assert.deepEqual(Object.keys(listed[0]).sort(), ["createdAt", "expiresAt", "ip", "lastUsedAt", "sid", "userAgent"]);
    await root.admin.revokeSession(sidOf(one));
    await rejectsWith(one.refresh(), 401, "TOKEN_REVOKED");
    assert.equal((await root.admin.userSessions(id)).length, 2);
    await root.admin.revokeUserSessions(id);
    assert.deepEqual(await root.admin.userSessions(id), []);
    await rejectsWith(two.refresh(), 401, "TOKEN_REVOKED");
    await rejectsWith(root.admin.revokeSession(sidOf(three)), 404, "SESSION_NOT_FOUND");
  });
});

describe("orgs, API keys", () => {
  test("orgs() lists every org with its member count", async () => {
    const orgs = await root.admin.orgs();
    assert.deepEqual(orgs.map((o) => [o.id, o.name]), [["acme", "Acme Inc"]]);
    assert.equal(typeof orgs[0].users, "number");
  });

  test("createApiKey() shows the key once; apiKeys() lists it without; revokeApiKey() revokes it", async () => {
    const { apiKey, key } = await root.admin.createApiKey({ name: "backend", scopes: ["users:read"], ttl: 3600 });
    assert.match(key, /^alk_[A-Za-z0-9_-]{32,}$/);
    assert.deepEqual([apiKey.name, apiKey.scopes, apiKey.revokedAt ?? null], ["backend", ["users:read"], null]);
    const res = await fetch(new URL("/admin/users", server.url), { headers: { Authorization: `Bearer ${key}` } });
    assert.equal(res.status, 200);
    const listed = (await root.admin.apiKeys()).find((k) => k.id === apiKey.id);
    assert.equal(listed.name, "backend");
    assert.ok(!JSON.stringify(await root.admin.apiKeys()).includes(key), "the key is never listed");
    await root.admin.revokeApiKey(apiKey.id);
    assert.equal(typeof (await root.admin.apiKeys()).find((k) => k.id === apiKey.id).revokedAt, "number");
    await rejectsWith(root.admin.revokeApiKey("no-such-key"), 404, "API_KEY_NOT_FOUND");
    await rejectsWith(root.admin.createApiKey({ name: "bad", scopes: ["everything"] }), 400, "INVALID_REQUEST");
  });
});

describe("audit log, second factors", () => {
  test("audit() pages the log newest first, filtered by user and type", async () => {
    const { id } = await root.admin.createUser({ email: "eve@acme.test", name: "Eve", password: "eve's long password" });
    await rejectsWith(client().login("eve@acme.test", "wrong password"), 401, "INVALID_PASSWORD");
    await rejectsWith(client().login("eve@acme.test", "wrong again"), 401, "INVALID_PASSWORD");
    const failed = await root.admin.audit({ userId: id, type: "login.failed" });
    assert.deepEqual(failed.events.map((e) => [e.type, e.userId, e.detail.code]), [
      ["login.failed", id, "INVALID_PASSWORD"],
      ["login.failed", id, "INVALID_PASSWORD"],
    ]);
    assert.equal(failed.nextCursor, null);
    const first = await root.admin.audit({ userId: id, limit: 1 });
    assert.equal(first.events.length, 1);
    assert.equal(typeof first.nextCursor, "string");
    const next = await root.admin.audit({ userId: id, limit: 1, cursor: first.nextCursor });
    assert.notEqual(next.events[0].id, first.events[0].id);
    await rejectsWith(root.admin.audit({ limit: 0 }), 400, "INVALID_REQUEST");
  });

  test("resetMfa() answers for a user, 404 USER_NOT_FOUND for none", async () => {
    const id = await idOf(GRACE.email);
    await root.admin.resetMfa(id);
    assert.deepEqual((await root.admin.user(id)).mfa, { totp: false, recoveryCodesLeft: 0, passkeys: 0 });
    await rejectsWith(root.admin.resetMfa("no-such-user"), 404, "USER_NOT_FOUND");
  });

  test("loginMfa() with an unknown mfaToken rejects 401 INVALID_TOKEN and stays signed out", async () => {
    const auth = client();
    await rejectsWith(auth.loginMfa("not-a-token", "123456"), 401, "INVALID_TOKEN");
    assert.equal(auth.session, null);
  });
});

function sidOf(auth) {
  const [, payload] = auth.session.refreshToken.split(".");
  return JSON.parse(Buffer.from(payload, "base64url").toString()).sid;
}
