import { AdminApi } from "./admin.js";
import { AuthliteError, answerError, networkError, signedOut } from "./errors.js";
import { freeze, openStorage, parseSession } from "./storage.js";
import { watchTabs } from "./tabsync.js";
import { createCredential, getCredential } from "./webauthn.js";
// Refresh answers after which the session can never work again.
const FATAL = ["INVALID_TOKEN", "TOKEN_EXPIRED", "TOKEN_REVOKED", "TOKEN_REUSED", "USER_NOT_FOUND", "USER_INACTIVE"];
const now = () => Date.now() / 1000;
const same = (a, b) => a === b || (!!a && !!b && a.accessToken === b.accessToken && a.refreshToken === b.refreshToken);
function report(error) {
    const g = globalThis;
    if (g.reportError)
        g.reportError(error);
    else
        console.error(error);
}
/**
 * Signs in to authlite and keeps the session fresh.
 *
 * @example
 * const auth = new AuthliteClient({ baseUrl: "https://auth.example.com" });
 * await auth.login("ada@acme.test", "correct horse battery staple");
 * const res = await auth.fetch("https://api.example.com/orders");
 */
export class AuthliteClient {
    #base;
    #fetch;
    #margin;
    #storage;
    #key;
    #session = null;
    #listeners = new Set();
    #refreshing = null;
    #ready;
    #writes = Promise.resolve();
    #announce = () => { };
    #changes = 0;
    // After a failed write the storage may hold an older session than this client.
    #storeFailed = false;
    /**
     * The admin API (SPEC section 8) as the signed-in user, who needs the role `admin`.
     *
     * @example
     * const { users } = await auth.admin.users({ query: "ada" });
     */
    admin = new AdminApi((method, path, body) => this.#authorized(method, path, body));
    constructor(options = {}) {
        const page = globalThis.location;
        const base = options.baseUrl ?? page?.origin;
        if (!base)
            throw new TypeError("AuthliteClient: baseUrl is required outside a browser");
        // A trailing slash, so that a server behind a path prefix keeps it.
        this.#base = new URL(String(base).replace(/\/*$/, "/"));
        const custom = options.fetch;
        this.#fetch = (input, init) => (custom ?? globalThis.fetch)(input, init);
        this.#margin = options.refreshMargin ?? 60;
        this.#key = options.storageKey ?? "authlite.session";
        this.#storage = openStorage(options.storage ?? "memory");
        this.#ready = this.#load();
        if (options.storage === "local")
            this.#announce = watchTabs(this.#key, () => void this.#reload());
    }
    // A storage that answers at once gives its session to the constructor;
    // an async one before the first call completes.
    #load() {
        let raw;
        try {
            raw = this.#storage.get(this.#key);
        }
        catch {
            return Promise.resolve();
        }
        if (!(raw instanceof Promise)) {
            this.#session = parseSession(raw);
            return Promise.resolve();
        }
        const before = this.#changes;
        return raw.then((value) => {
            if (this.#changes === before)
                this.#change(parseSession(value), false);
        }, () => { });
    }
    /** The current session, or null when signed out. */
    get session() {
        return this.#session;
    }
    /**
     * Signs in; resolves to the new session.
     *
     * @example
     * const { user } = await auth.login("ada@acme.test", "correct horse battery staple");
     */
    async login(email, password) {
        await this.#ready;
        const answer = await this.#call("POST", "user/login", { body: { email, password } });
        const session = toSession(answer);
        await this.#change(session);
        return session;
    }
    /**
     * Completes a sign-in that `login` rejected with `MFA_REQUIRED`, with the error's
     * `mfaToken` and a TOTP or recovery code (`POST /user/login/mfa`); resolves to the new session.
     *
     * @example
     * try {
     *   await auth.login(email, password);
     * } catch (err) {
     *   if (err instanceof AuthliteError && err.code === "MFA_REQUIRED") await auth.loginMfa(err.mfaToken!, code);
     * }
     */
    async loginMfa(mfaToken, code) {
        await this.#ready;
        const answer = await this.#call("POST", "user/login/mfa", { body: { mfaToken, code } });
        const session = toSession(answer);
        await this.#change(session);
        return session;
    }
    /**
     * Signs in with a passkey, no password (`POST /user/passkeys/login` and `/login/finish`):
     * the browser asks the user for one of their passkeys for this site. Resolves to the new
     * session; rejects with 401 `INVALID_CREDENTIAL`, `USER_INACTIVE` or `USER_NOT_FOUND`,
     * 429 `TOO_MANY_ATTEMPTS`, or with the browser's own error (a `DOMException` such as
     * `NotAllowedError`) when the user cancels. In a browser only.
     *
     * @example
     * const { user } = await auth.loginWithPasskey();
     */
    async loginWithPasskey() {
        await this.#ready;
        const begun = await this.#call("POST", "user/passkeys/login", {});
        const credential = await getCredential(begun.publicKey);
        const answer = await this.#call("POST", "user/passkeys/login/finish", {
            body: { ceremonyId: begun.ceremonyId, credential },
        });
        const session = toSession(answer);
        await this.#change(session);
        return session;
    }
    /**
     * Registers a new passkey for the signed-in user (`POST /user/passkeys/register` and
     * `/register/finish`): the browser creates it. Resolves to the passkey; rejects with 400
     * `INVALID_CREDENTIAL`, or the browser's own error when the user cancels. In a browser only.
     *
     * @example
     * const passkey = await auth.addPasskey("Laptop");
     */
    async addPasskey(name) {
        const begun = await this.#authorized("POST", "user/passkeys/register");
        const credential = await createCredential(begun.publicKey);
        const body = { ceremonyId: begun.ceremonyId, credential, ...(name === undefined ? {} : { name }) };
        return (await this.#authorized("POST", "user/passkeys/register/finish", body)).passkey;
    }
    /**
     * The signed-in user's passkeys, oldest first (`GET /user/passkeys`).
     *
     * @example
     * for (const { id, name, lastUsedAt } of await auth.passkeys()) console.log(id, name, lastUsedAt);
     */
    async passkeys() {
        return (await this.#authorized("GET", "user/passkeys")).passkeys;
    }
    /**
     * Removes one of the user's passkeys (`DELETE /user/passkeys/{id}`): it signs in no more.
     * 404 `PASSKEY_NOT_FOUND` when the user has none with that id.
     *
     * @example
     * await auth.removePasskey(passkey.id);
     */
    async removePasskey(id) {
        await this.#authorized("DELETE", `user/passkeys/${encodeURIComponent(id)}`);
    }
    /**
     * The signed-in user's second factors (`GET /user/mfa`): `{ totp, recoveryCodesLeft, passkeys }`.
     *
     * @example
     * const { totp, recoveryCodesLeft } = await auth.mfa();
     */
    async mfa() {
        const { success: _, ...status } = await this.#authorized("GET", "user/mfa");
        return status;
    }
    /**
     * Starts turning TOTP on (`POST /user/mfa/totp`): `{ secret, otpauthUrl, qrSvg }` to show
     * the user (`qrSvg` is an SVG image of `otpauthUrl`); TOTP is on once `confirmTotp` takes
     * its first code. A newer enrolment replaces a waiting one; 409 `MFA_ALREADY_ENABLED` when TOTP is on.
     *
     * @example
     * const { secret, qrSvg } = await auth.enableTotp();
     * img.src = `data:image/svg+xml,${encodeURIComponent(qrSvg)}`;
     */
    async enableTotp() {
        const { success: _, ...enrolment } = await this.#authorized("POST", "user/mfa/totp");
        return enrolment;
    }
    /**
     * Turns TOTP on with the first code of the app (`POST /user/mfa/totp/confirm`); resolves to
     * the 10 recovery codes, shown only now. 400 `INVALID_CODE`; 409 `MFA_NOT_ENABLED` with no enrolment waiting.
     *
     * @example
     * const recoveryCodes = await auth.confirmTotp("123456");
     */
    async confirmTotp(code) {
        return (await this.#authorized("POST", "user/mfa/totp/confirm", { code })).recoveryCodes;
    }
    /**
     * Turns TOTP off with a TOTP or recovery code (`DELETE /user/mfa/totp`); the recovery codes go too.
     * 400 `INVALID_CODE`; 409 `MFA_NOT_ENABLED` when TOTP is off.
     *
     * @example
     * await auth.disableTotp("123456");
     */
    async disableTotp(code) {
        await this.#authorized("DELETE", "user/mfa/totp", { code });
    }
    /**
     * A new set of 10 recovery codes, the old one void (`POST /user/mfa/recovery-codes`); takes a
     * TOTP code, not a recovery code (400 `INVALID_CODE`).
     *
     * @example
     * const recoveryCodes = await auth.newRecoveryCodes("123456");
     */
    async newRecoveryCodes(code) {
        return (await this.#authorized("POST", "user/mfa/recovery-codes", { code })).recoveryCodes;
    }
    /**
     * A valid access token, refreshed first when it expires within `refreshMargin` seconds.
     *
     * @example
     * headers.Authorization = `Bearer ${await auth.accessToken()}`;
     */
    async accessToken() {
        const session = await this.#current();
        if (session.expiresAt - now() > this.#margin)
            return session.accessToken;
        return (await this.#refresh(false)).accessToken;
    }
    /**
     * A new token pair now; resolves to the new session. Concurrent calls share one request.
     *
     * @example
     * const { expiresAt } = await auth.refresh();
     */
    async refresh() {
        await this.#current();
        return this.#refresh(true);
    }
    /**
     * `fetch` with `Authorization: Bearer`; on a 401 `TOKEN_EXPIRED` it refreshes
     * once and sends the request again. Any other answer resolves untouched.
     *
     * @example
     * const res = await auth.fetch("/api/orders", { method: "POST", body: JSON.stringify(order) });
     */
    async fetch(input, init) {
        const token = await this.accessToken();
        let request;
        try {
            request = new Request(typeof input === "string" ? new URL(input, this.#base) : input, init);
        }
        catch (error) {
            throw networkError(error);
        }
        // The body can be read once: keep a copy for the retry.
        const retry = request.clone();
        const first = await this.#sendWith(request, token);
        if (first.status !== 401 || (await errorCode(first)) !== "TOKEN_EXPIRED")
            return first;
        const fresh = await this.#renewed(token);
        return this.#sendWith(retry, fresh.accessToken);
    }
    /**
     * The signed-in user, from `GET /user/me`.
     *
     * @example
     * const { email } = await auth.me();
     */
    async me() {
        return (await this.#authorized("GET", "user/me")).user;
    }
    /**
     * The user's live sessions (`GET /user/sessions`); the calling one has `current: true`.
     *
     * @example
     * for (const s of await auth.sessions()) console.log(s.userAgent, s.lastUsedAt);
     */
    async sessions() {
        return (await this.#authorized("GET", "user/sessions")).sessions;
    }
    /**
     * Ends one of the user's sessions (`DELETE /user/sessions/{sid}`).
     *
     * @example
     * await auth.revokeSession(list.find((s) => !s.current).sid);
     */
    async revokeSession(sid) {
        await this.#authorized("DELETE", `user/sessions/${encodeURIComponent(sid)}`);
    }
    /**
     * Replaces the password; the user's other sessions end, this one goes on.
     *
     * @example
     * await auth.changePassword(oldPassword, newPassword);
     */
    async changePassword(currentPassword, newPassword) {
        await this.#authorized("POST", "user/password", { currentPassword, newPassword });
    }
    /**
     * Sets the password with the token of a set-password link (`/#set-password=TOKEN`);
     * needs no session, and resolves to the user, so you can sign in next.
     *
     * @example
     * const user = await auth.resetPassword(token, newPassword);
     * await auth.login(user.email, newPassword);
     */
    async resetPassword(token, newPassword) {
        const answer = await this.#call("POST", "user/password/reset", { body: { token, newPassword } });
        return answer.user;
    }
    /**
     * Asks for a set-password link by email (`POST /user/password/forgot`). Resolves the
     * same whether or not an account has the address; rejects with `EMAIL_DISABLED` when
     * the server sends no email.
     *
     * @example
     * await auth.forgotPassword("ada@acme.test");
     */
    async forgotPassword(email) {
        await this.#call("POST", "user/password/forgot", { body: { email } });
    }
    /**
     * Signs up (`POST /user/register`): the address is emailed a confirmation link
     * (`/#confirm=TOKEN`), or a note when it already has an account; resolves the same
     * either way. Rejects with `REGISTRATION_CLOSED`, `WEAK_PASSWORD` or `EMAIL_DISABLED`.
     *
     * @example
     * await auth.register("grace@acme.test", "a long and unusual pass phrase", "Grace Hopper");
     */
    async register(email, password, name) {
        await this.#call("POST", "user/register", { body: { email, password, name } });
    }
    /**
     * Confirms a sign-up with the token of its emailed link (`POST /user/register/confirm`):
     * the account is made and signed in; resolves to the new session.
     *
     * @example
     * const token = new URLSearchParams(location.hash.slice(1)).get("confirm");
     * const { user } = await auth.confirmRegistration(token!);
     */
    async confirmRegistration(token) {
        await this.#ready;
        const answer = await this.#call("POST", "user/register/confirm", { body: { token } });
        const session = toSession(answer);
        await this.#change(session);
        return session;
    }
    /**
     * What the server offers (`GET /features`): `{ email, registration, passkeys, oidc }`.
     *
     * @example
     * if ((await auth.features()).registration === "open") showSignUp();
     */
    async features() {
        const { success: _, ...features } = await this.#call("GET", "features", {});
        return features;
    }
    /**
     * Signs out: the session becomes null here at once, and the server ends it
     * (with `{ all: true }`, every session of the user). Resolves even when the
     * server cannot be reached; then the server-side session lives on until it expires.
     *
     * @example
     * await auth.logout({ all: true });
     */
    async logout(options = {}) {
        await this.#ready;
        const session = this.#session;
        if (!session)
            return;
        await this.#change(null);
        const body = options.all ? { refreshToken: session.refreshToken, all: true } : { refreshToken: session.refreshToken };
        await this.#call("POST", "user/logout", { body }).catch(() => { });
    }
    /**
     * Calls `listener` once per change of the session (signed in, refreshed, signed
     * out: null), in this tab or, with `storage: "local"`, in another. Returns a function that stops it.
     *
     * @example
     * const stop = auth.onChange((session) => render(session?.user ?? null));
     */
    onChange(listener) {
        this.#listeners.add(listener);
        return () => void this.#listeners.delete(listener);
    }
    async #current() {
        await this.#ready;
        if (!this.#session)
            throw signedOut();
        return this.#session;
    }
    // One refresh at a time per client; every caller meanwhile gets its result.
    #refresh(force) {
        this.#refreshing ??= this.#refreshNow(force).finally(() => {
            this.#refreshing = null;
        });
        return this.#refreshing;
    }
    async #refreshNow(force) {
        // Another tab may have refreshed already: its newer token is in the storage.
        await this.#reload();
        const session = this.#session;
        if (!session)
            throw signedOut();
        if (!force && session.expiresAt - now() > this.#margin)
            return session;
        const used = session.refreshToken;
        let answer;
        try {
            answer = await this.#call("POST", "user/refresh", { body: { refreshToken: used } });
        }
        catch (error) {
            const fatal = error instanceof AuthliteError && FATAL.includes(error.code);
            if (fatal && this.#session?.refreshToken === used)
                await this.#change(null);
            throw error;
        }
        // Signed out or replaced (another tab, a new login) while the answer was on its way.
        if (this.#session?.refreshToken !== used)
            return this.#current();
        const next = toSession(answer);
        await this.#change(next);
        return next;
    }
    // After a TOKEN_EXPIRED for `token`: a newer token if one came meanwhile, else a refresh.
    async #renewed(token) {
        const session = await this.#current();
        return session.accessToken === token ? this.#refresh(true) : session;
    }
    async #authorized(method, path, body) {
        const token = await this.accessToken();
        try {
            return await this.#call(method, path, { body, bearer: token });
        }
        catch (error) {
            if (!(error instanceof AuthliteError && error.status === 401 && error.code === "TOKEN_EXPIRED"))
                throw error;
        }
        const fresh = await this.#renewed(token);
        return this.#call(method, path, { body, bearer: fresh.accessToken });
    }
    async #call(method, path, { body, bearer }) {
        const headers = { Accept: "application/json" };
        if (body !== undefined)
            headers["Content-Type"] = "application/json";
        if (bearer)
            headers.Authorization = `Bearer ${bearer}`;
        let res;
        try {
            res = await this.#fetch(new URL(path, this.#base).href, {
                method,
                headers,
                body: body === undefined ? undefined : JSON.stringify(body),
            });
        }
        catch (error) {
            throw networkError(error);
        }
        const data = await res.json().catch(() => null);
        if (res.ok && data && typeof data === "object" && data.success !== false)
            return data;
        throw answerError(res, data);
    }
    async #sendWith(request, token) {
        const headers = new Headers(request.headers);
        headers.set("Authorization", `Bearer ${token}`);
        try {
            return await this.#fetch(new Request(request, { headers }));
        }
        catch (error) {
            throw networkError(error);
        }
    }
    // Takes whatever the storage holds now (another tab may have changed it).
    async #reload() {
        await this.#writes;
        let raw;
        try {
            raw = await this.#storage.get(this.#key);
        }
        catch {
            return;
        }
        if (!this.#storeFailed)
            await this.#change(parseSession(raw), false);
    }
    // The one place the session changes: memory, then listeners, then the storage.
    async #change(next, store = true) {
        if (same(this.#session, next))
            return;
        this.#changes++;
        this.#session = next;
        if (store) {
            const key = this.#key;
            const write = () => (next ? this.#storage.set(key, JSON.stringify(next)) : this.#storage.remove(key));
            this.#writes = this.#writes
                .then(write)
                .then(() => {
                this.#storeFailed = false;
                this.#announce();
            })
                .catch(() => {
                this.#storeFailed = true;
            });
        }
        for (const listener of [...this.#listeners]) {
            try {
                const result = listener(next);
                if (result instanceof Promise)
                    result.catch(report);
            }
            catch (error) {
                report(error);
            }
        }
        await this.#writes;
    }
}
function toSession(answer) {
    const { success: _, ...session } = answer;
    return freeze(session);
}
async function errorCode(res) {
    const body = await res.clone().json().catch(() => null);
    return body && typeof body === "object" ? body.error_code : undefined;
}
