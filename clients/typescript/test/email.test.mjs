// Email (SPEC section 12) through the client, against the real server writing
// its messages into --mail-dir: features(), forgotPassword() and the emailed
// link, register() and confirmRegistration() (which signs in), and the codes
// they reject with. With AUTHLITE_TEST_API_POSTGRES set, on PostgreSQL.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ADA, AuthliteClient, rejectsWith, sleep, startServer } from "./helpers.mjs";

let server;
let off;
let mailDir;
before(async () => {
  mailDir = await mkdtemp(join(tmpdir(), "authlite-mail-"));
  server = await startServer(["--mail-dir", mailDir, "--registration", "open", "--issuer", "Acme Login"], { postgres: true });
  off = await startServer([]);
});
after(async () => {
  await server?.stop();
  await off?.stop();
  await rm(mailDir, { recursive: true, force: true });
});

const client = (base = server.url) => new AuthliteClient({ baseUrl: base });

/** The text part of each .eml in the folder, quoted-printable undone, oldest first. */
async function messages() {
  const names = (await readdir(mailDir)).filter((n) => n.endsWith(".eml")).sort();
  return Promise.all(names.map(async (n) => {
    const raw = (await readFile(join(mailDir, n), "utf8")).replace(/\r\n/g, "\n");
    const subject = /^Subject: (.*)$/m.exec(raw)[1];
    const to = /^To: (.*)$/m.exec(raw)[1];
    const text = raw.replace(/=\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
    return { subject, to, text };
  }));
}

/** Waits for the nth message (from 1) and returns it. */
async function nth(n) {
  for (let i = 0; i < 200; i++) {
    const all = await messages();
    if (all.length >= n) return all[n - 1];
    await sleep(50);
  }
  assert.fail(`no message ${n} in ${mailDir}`);
}

const token = (mail, marker) => new RegExp(`#${marker}=([A-Za-z0-9_-]+)`).exec(mail.text)[1];

describe("email through the client", () => {
  test("features() tells what the server offers", async () => {
    assert.deepEqual(await client().features(), { email: true, registration: "open", passkeys: true, oidc: false });
    assert.deepEqual(await client(off.url).features(), { email: false, registration: "closed", passkeys: true, oidc: false });
  });

  test("forgotPassword() sends a link whose token resetPassword() takes; unknown addresses resolve alike", async () => {
    const auth = client();
    assert.equal(await auth.forgotPassword("nobody@acme.test"), undefined);
    assert.equal(await auth.forgotPassword(ADA.email), undefined);
    const mail = await nth(1);
    assert.equal(mail.to, ADA.email);
    assert.equal(mail.subject, "Reset your Acme Login password");
    const user = await auth.resetPassword(token(mail, "set-password"), "a fresh pass phrase for ada");
    assert.equal(user.email, ADA.email);
    const session = await auth.login(ADA.email, "a fresh pass phrase for ada");
    assert.equal(session.user.email, ADA.email);
    await rejectsWith(client(off.url).forgotPassword(ADA.email), 501, "EMAIL_DISABLED");
    await rejectsWith(auth.forgotPassword("not an email"), 400, "INVALID_REQUEST");
  });

  test("register() then confirmRegistration() makes the account and signs in", async () => {
    const auth = client();
    const changes = [];
    auth.onChange((s) => changes.push(s?.user.email ?? null));
    assert.equal(await auth.register("newbie@acme.test", "a long and unusual pass phrase", "Newbie"), undefined);
    const mail = await nth(2);
    assert.equal(mail.to, "newbie@acme.test");
    assert.equal(mail.subject, "Confirm your new account on Acme Login");
    const session = await auth.confirmRegistration(token(mail, "confirm"));
    assert.deepEqual(session.user, { id: session.user.id, email: "newbie@acme.test", name: "Newbie", orgId: null, roles: [] });
    assert.equal(auth.session.accessToken, session.accessToken);
    assert.deepEqual(changes, ["newbie@acme.test"]);
    assert.equal((await auth.me()).email, "newbie@acme.test");
    await rejectsWith(client().confirmRegistration(token(mail, "confirm")), 401, "INVALID_TOKEN");
    await rejectsWith(auth.register("weak@acme.test", "password", "Weak"), 400, "WEAK_PASSWORD");
    await rejectsWith(client(off.url).register("x@acme.test", "a long and unusual pass phrase", "X"), 403, "REGISTRATION_CLOSED");
  });
});
