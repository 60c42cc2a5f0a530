// The second factor (SPEC section 10) through the client, against the real
// server: mfa(), enableTotp(), confirmTotp(), disableTotp(), newRecoveryCodes(),
// and a sign-in that login() rejects with MFA_REQUIRED, finished by loginMfa().
// Codes come from pyotp; each user is new, so that its wrong codes stay under
// the lockout's 5. With AUTHLITE_TEST_API_POSTGRES set, on PostgreSQL.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  ROOT, AuthliteClient, AuthliteError, changes, claims, countingFetch, freshStep, pyotpMissing, rejectsWith, startServer, totpAt,
} from "./helpers.mjs";

const missing = pyotpMissing();
const PASSWORD = "a long enough password";

let server;
let root;
before(async () => {
  server = await startServer([], { postgres: true });
  root = client();
  await root.login(ROOT.email, ROOT.password);
});
after(() => server?.stop());

const client = (options = {}) => new AuthliteClient({ baseUrl: server.url, ...options });

/** A new user, signed in with the password alone. */
async function newUser(name) {
  const email = `${name}@acme.test`;
  await root.admin.createUser({ email, name, password: PASSWORD });
  const auth = client();
  await auth.login(email, PASSWORD);
  return { email, auth };
}

/** Turns TOTP on for `auth` with the code of step t0: the secret and the recovery codes. */
async function turnOn(auth, t0) {
  const { secret } = await auth.enableTotp();
  const recoveryCodes = await auth.confirmTotp(await totpAt(secret, t0));
  return { secret, recoveryCodes, at: (t) => totpAt(secret, t) };
}

/** The MFA_REQUIRED rejection of a password sign-in. */
async function mfaRequired(auth, email) {
  const err = await auth.login(email, PASSWORD).then(() => assert.fail("signed in without a code"), (e) => e);
  assert.ok(err instanceof AuthliteError, String(err));
  assert.deepEqual([err.status, err.code, err.methods], [401, "MFA_REQUIRED", ["totp", "recovery_code"]]);
  assert.equal(typeof err.mfaToken, "string");
  assert.equal(auth.session, null, "no session before the code");
  return err.mfaToken;
}

const OFF = { totp: false, recoveryCodesLeft: 0, passkeys: 0 };

describe("TOTP through the client", { skip: missing ? "no pyotp" : false }, () => {
  test("signed out, the second-factor calls reject 401 MISSING_TOKEN without sending anything", async () => {
    const counter = countingFetch();
    const auth = client({ fetch: counter.fetch });
    await rejectsWith(auth.mfa(), 401, "MISSING_TOKEN");
    await rejectsWith(auth.enableTotp(), 401, "MISSING_TOKEN");
    await rejectsWith(auth.confirmTotp("123456"), 401, "MISSING_TOKEN");
    await rejectsWith(auth.disableTotp("123456"), 401, "MISSING_TOKEN");
    await rejectsWith(auth.newRecoveryCodes("123456"), 401, "MISSING_TOKEN");
    assert.deepEqual(counter.calls, []);
  });

  test("enableTotp, then confirmTotp with the app's code: TOTP is on, with 10 recovery codes", async () => {
    const { email, auth } = await newUser("enrol");
    assert.deepEqual(await auth.mfa(), OFF);
    await rejectsWith(auth.confirmTotp("123456"), 409, "MFA_NOT_ENABLED");

    const first = await auth.enableTotp();
    assert.deepEqual(Object.keys(first).sort(), ["otpauthUrl", "qrSvg", "secret"]);
    const enrolment = await auth.enableTotp(); // a newer one replaces it
    assert.notEqual(enrolment.secret, first.secret);
    assert.match(enrolment.secret, /^[A-Z2-7]{32}$/, "20 bytes in base32");
    assert.equal(
      enrolment.otpauthUrl, // ISSUER: the server's --issuer, by default "authlite"
      `otpauth://totp/authlite:${encodeURIComponent(email)}?secret=${enrolment.secret}&issuer=authlite&algorithm=SHA1&digits=6&period=30`,
    );
    assert.match(enrolment.qrSvg, /^(<\?xml[^>]*>\s*)?<svg[\s>]/);
    assert.deepEqual(await auth.mfa(), OFF, "not on before its first code");

    const t0 = await freshStep();
    await rejectsWith(auth.confirmTotp(await totpAt(first.secret, t0)), 400, "INVALID_CODE");
    await rejectsWith(auth.confirmTotp(await totpAt(enrolment.secret, t0 + 90)), 400, "INVALID_CODE");
    const recoveryCodes = await auth.confirmTotp(await totpAt(enrolment.secret, t0));
    assert.equal(recoveryCodes.length, 10);
    assert.equal(new Set(recoveryCodes).size, 10);
    for (const code of recoveryCodes) assert.equal(typeof code, "string");
    assert.deepEqual(await auth.mfa(), { totp: true, recoveryCodesLeft: 10, passkeys: 0 });
    await rejectsWith(auth.enableTotp(), 409, "MFA_ALREADY_ENABLED");
    assert.equal(auth.session.user.email, email, "the session goes on");
  });

  test("login rejects MFA_REQUIRED; loginMfa with a TOTP code signs in with amr pwd, otp, mfa", async () => {
    const { email, auth } = await newUser("twostep");
    const t0 = await freshStep();
    const totp = await turnOn(auth, t0);

    const fresh = client();
    const seen = changes(fresh);
    const mfaToken = await mfaRequired(fresh, email);
    assert.deepEqual(seen, [], "no change before the code");
    await rejectsWith(fresh.loginMfa(mfaToken, await totp.at(t0 + 90)), 401, "INVALID_CODE");
    await rejectsWith(fresh.loginMfa(mfaToken, await totp.at(t0)), 401, "INVALID_CODE"); // the confirm's step: a replay
    assert.equal(fresh.session, null);

    const session = await fresh.loginMfa(mfaToken, await totp.at(t0 - 30));
    assert.deepEqual(Object.keys(session).sort(), ["accessToken", "expiresAt", "refreshToken", "tokenId", "user"]);
    assert.equal(session.user.email, email);
    assert.deepEqual(claims(session.accessToken).amr, ["pwd", "otp", "mfa"]);
    assert.equal(fresh.session, session);
    assert.deepEqual(seen, [session]);
    assert.equal((await fresh.me()).email, email);
    assert.deepEqual(claims((await fresh.refresh()).accessToken).amr, ["pwd", "otp", "mfa"], "kept through a refresh");

    // Spent by its success.
    await rejectsWith(client().loginMfa(mfaToken, await totp.at(t0 + 30)), 401, "INVALID_TOKEN");
    await rejectsWith(client().loginMfa("not-a-token", await totp.at(t0 + 30)), 401, "INVALID_TOKEN");
  });

  test("a recovery code signs in once, and mfa() counts what is left", async () => {
    const { email, auth } = await newUser("recover");
    const totp = await turnOn(auth, await freshStep());
    const [code] = totp.recoveryCodes;

    const one = client();
    const session = await one.loginMfa(await mfaRequired(one, email), code);
    assert.deepEqual(claims(session.accessToken).amr, ["pwd", "otp", "mfa"]);
    assert.deepEqual(await one.mfa(), { totp: true, recoveryCodesLeft: 9, passkeys: 0 });

    const two = client();
    await rejectsWith(two.loginMfa(await mfaRequired(two, email), code), 401, "INVALID_CODE");
    assert.equal(two.session, null);
  });

  test("newRecoveryCodes takes a TOTP code (not a recovery code) and voids the old set", async () => {
    const { email, auth } = await newUser("renew");
    const t0 = await freshStep();
    const totp = await turnOn(auth, t0);
    const old = totp.recoveryCodes;

    await rejectsWith(auth.newRecoveryCodes(old[0]), 400, "INVALID_CODE");
    await rejectsWith(auth.newRecoveryCodes(await totp.at(t0)), 400, "INVALID_CODE"); // a replay
    const fresh = await auth.newRecoveryCodes(await totp.at(t0 + 30));
    assert.equal(fresh.length, 10);
    assert.deepEqual(fresh.filter((c) => old.includes(c)), []);
    assert.deepEqual(await auth.mfa(), { totp: true, recoveryCodesLeft: 10, passkeys: 0 });

    const other = client();
    await rejectsWith(other.loginMfa(await mfaRequired(other, email), old[1]), 401, "INVALID_CODE");
    const session = await client().loginMfa(await mfaRequired(client(), email), fresh[0]);
    assert.equal(session.user.email, email);
  });

  test("disableTotp with a TOTP or a recovery code turns it off; then the password alone signs in", async () => {
    const { email, auth } = await newUser("unset");
    const t0 = await freshStep();
    const totp = await turnOn(auth, t0);

    await rejectsWith(auth.disableTotp(await totp.at(t0 + 90)), 400, "INVALID_CODE");
    await auth.disableTotp(await totp.at(t0 - 30));
    assert.deepEqual(await auth.mfa(), OFF);
    await rejectsWith(auth.disableTotp(await totp.at(t0 + 30)), 409, "MFA_NOT_ENABLED");
    await rejectsWith(auth.newRecoveryCodes(await totp.at(t0 + 30)), 409, "MFA_NOT_ENABLED");
    const session = await client().login(email, PASSWORD);
    assert.deepEqual(claims(session.accessToken).amr, ["pwd"]);

    // On again with a new secret, and off with a recovery code.
    const again = await turnOn(auth, t0 + 30);
    assert.notEqual(again.secret, totp.secret);
    await auth.disableTotp(again.recoveryCodes[3]);
    assert.deepEqual(await auth.mfa(), OFF);
  });
});
