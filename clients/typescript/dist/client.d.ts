import { AdminApi } from "./admin.js";
import type { paths } from "./generated/api.js";
import { type StorageOption } from "./storage.js";
type Ok<O> = O extends {
    responses: {
        200: {
            content: {
                "application/json": infer B;
            };
        };
    };
} ? B : never;
type LoginAnswer = Ok<paths["/user/login"]["post"]>;
/** `{ id, email, name, orgId, roles }`, `orgId` a string or null, `roles` sorted (`[]` when none). */
export type User = Required<LoginAnswer["user"]>;
/** What `login` and `refresh` resolve to: the server's answer without `success`. */
export type Session = Omit<LoginAnswer, "success" | "user"> & {
    user: User;
};
/** One entry of `sessions()`: `{ sid, createdAt, lastUsedAt, expiresAt, userAgent, ip, current }`. */
export type SessionInfo = Ok<paths["/user/sessions"]["get"]>["sessions"][number];
/** What `mfa()` resolves to: `{ totp, recoveryCodesLeft, passkeys }`. */
export type MfaStatus = Omit<Ok<paths["/user/mfa"]["get"]>, "success">;
/** What `enableTotp()` resolves to: `{ secret, otpauthUrl, qrSvg }`, an enrolment waiting for its first code. */
export type TotpEnrolment = Omit<Ok<paths["/user/mfa/totp"]["post"]>, "success">;
/** What `features()` resolves to: `{ email, registration, passkeys, oidc }`. */
export type Features = Omit<Ok<paths["/features"]["get"]>, "success">;
/** One of the user's passkeys: `{ id, name, createdAt, lastUsedAt }` (Unix seconds; `lastUsedAt` null until a sign-in). */
export type Passkey = Ok<paths["/user/passkeys"]["get"]>["passkeys"][number];
/** Told of every change of the session: the new one, or null once signed out. */
export type ChangeListener = (session: Session | null) => void;
export interface AuthliteClientOptions {
    /** The server, e.g. `"https://auth.example.com"`. Required in Node; in a browser, the page's origin by default. */
    baseUrl?: string | URL;
    /** `"memory"` (default), `"local"` (localStorage, shared by the tabs of an origin), or `{ get, set, remove }`. */
    storage?: StorageOption;
    /** Seconds before `expiresAt` at which the access token is renewed; default 60. */
    refreshMargin?: number;
    /** The fetch to send requests with; default: the global fetch. */
    fetch?: typeof globalThis.fetch;
    /** The storage key the session is kept under; default `"authlite.session"`. */
    storageKey?: string;
}
/**
 * Signs in to authlite and keeps the session fresh.
 *
 * @example
 * const auth = new AuthliteClient({ baseUrl: "https://auth.example.com" });
 * await auth.login("ada@acme.test", "correct horse battery staple");
 * const res = await auth.fetch("https://api.example.com/orders");
 */
export declare class AuthliteClient {
    #private;
    /**
     * The admin API (SPEC section 8) as the signed-in user, who needs the role `admin`.
     *
     * @example
     * const { users } = await auth.admin.users({ query: "ada" });
     */
    readonly admin: AdminApi;
    constructor(options?: AuthliteClientOptions);
    /** The current session, or null when signed out. */
    get session(): Session | null;
    /**
     * Signs in; resolves to the new session.
     *
     * @example
     * const { user } = await auth.login("ada@acme.test", "correct horse battery staple");
     */
    login(email: string, password: string): Promise<Session>;
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
    loginMfa(mfaToken: string, code: string): Promise<Session>;
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
    loginWithPasskey(): Promise<Session>;
    /**
     * Registers a new passkey for the signed-in user (`POST /user/passkeys/register` and
     * `/register/finish`): the browser creates it. Resolves to the passkey; rejects with 400
     * `INVALID_CREDENTIAL`, or the browser's own error when the user cancels. In a browser only.
     *
     * @example
     * const passkey = await auth.addPasskey("Laptop");
     */
    addPasskey(name?: string): Promise<Passkey>;
    /**
     * The signed-in user's passkeys, oldest first (`GET /user/passkeys`).
     *
     * @example
     * for (const { id, name, lastUsedAt } of await auth.passkeys()) console.log(id, name, lastUsedAt);
     */
    passkeys(): Promise<Passkey[]>;
    /**
     * Removes one of the user's passkeys (`DELETE /user/passkeys/{id}`): it signs in no more.
     * 404 `PASSKEY_NOT_FOUND` when the user has none with that id.
     *
     * @example
     * await auth.removePasskey(passkey.id);
     */
    removePasskey(id: string): Promise<void>;
    /**
     * The signed-in user's second factors (`GET /user/mfa`): `{ totp, recoveryCodesLeft, passkeys }`.
     *
     * @example
     * const { totp, recoveryCodesLeft } = await auth.mfa();
     */
    mfa(): Promise<MfaStatus>;
    /**
     * Starts turning TOTP on (`POST /user/mfa/totp`): `{ secret, otpauthUrl, qrSvg }` to show
     * the user (`qrSvg` is an SVG image of `otpauthUrl`); TOTP is on once `confirmTotp` takes
     * its first code. A newer enrolment replaces a waiting one; 409 `MFA_ALREADY_ENABLED` when TOTP is on.
     *
     * @example
     * const { secret, qrSvg } = await auth.enableTotp();
     * img.src = `data:image/svg+xml,${encodeURIComponent(qrSvg)}`;
     */
    enableTotp(): Promise<TotpEnrolment>;
    /**
     * Turns TOTP on with the first code of the app (`POST /user/mfa/totp/confirm`); resolves to
     * the 10 recovery codes, shown only now. 400 `INVALID_CODE`; 409 `MFA_NOT_ENABLED` with no enrolment waiting.
     *
     * @example
     * const recoveryCodes = await auth.confirmTotp("123456");
     */
    confirmTotp(code: string): Promise<string[]>;
    /**
     * Turns TOTP off with a TOTP or recovery code (`DELETE /user/mfa/totp`); the recovery codes go too.
     * 400 `INVALID_CODE`; 409 `MFA_NOT_ENABLED` when TOTP is off.
     *
     * @example
     * await auth.disableTotp("123456");
     */
    disableTotp(code: string): Promise<void>;
    /**
     * A new set of 10 recovery codes, the old one void (`POST /user/mfa/recovery-codes`); takes a
     * TOTP code, not a recovery code (400 `INVALID_CODE`).
     *
     * @example
     * const recoveryCodes = await auth.newRecoveryCodes("123456");
     */
    newRecoveryCodes(code: string): Promise<string[]>;
    /**
     * A valid access token, refreshed first when it expires within `refreshMargin` seconds.
     *
     * @example
     * headers.Authorization = `Bearer ${await auth.accessToken()}`;
     */
    accessToken(): Promise<string>;
    /**
     * A new token pair now; resolves to the new session. Concurrent calls share one request.
     *
     * @example
     * const { expiresAt } = await auth.refresh();
     */
    refresh(): Promise<Session>;
    /**
     * `fetch` with `Authorization: Bearer`; on a 401 `TOKEN_EXPIRED` it refreshes
     * once and sends the request again. Any other answer resolves untouched.
     *
     * @example
     * const res = await auth.fetch("/api/orders", { method: "POST", body: JSON.stringify(order) });
     */
    fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
    /**
     * The signed-in user, from `GET /user/me`.
     *
     * @example
     * const { email } = await auth.me();
     */
    me(): Promise<User>;
    /**
     * The user's live sessions (`GET /user/sessions`); the calling one has `current: true`.
     *
     * @example
     * for (const s of await auth.sessions()) console.log(s.userAgent, s.lastUsedAt);
     */
    sessions(): Promise<SessionInfo[]>;
    /**
     * Ends one of the user's sessions (`DELETE /user/sessions/{sid}`).
     *
     * @example
     * await auth.revokeSession(list.find((s) => !s.current).sid);
     */
    revokeSession(sid: string): Promise<void>;
    /**
     * Replaces the password; the user's other sessions end, this one goes on.
     *
     * @example
     * await auth.changePassword(oldPassword, newPassword);
     */
    changePassword(currentPassword: string, newPassword: string): Promise<void>;
    /**
     * Sets the password with the token of a set-password link (`/#set-password=TOKEN`);
     * needs no session, and resolves to the user, so you can sign in next.
     *
     * @example
     * const user = await auth.resetPassword(token, newPassword);
     * await auth.login(user.email, newPassword);
     */
    resetPassword(token: string, newPassword: string): Promise<User>;
    /**
     * Asks for a set-password link by email (`POST /user/password/forgot`). Resolves the
     * same whether or not an account has the address; rejects with `EMAIL_DISABLED` when
     * the server sends no email.
     *
     * @example
     * await auth.forgotPassword("ada@acme.test");
     */
    forgotPassword(email: string): Promise<void>;
    /**
     * Signs up (`POST /user/register`): the address is emailed a confirmation link
     * (`/#confirm=TOKEN`), or a note when it already has an account; resolves the same
     * either way. Rejects with `REGISTRATION_CLOSED`, `WEAK_PASSWORD` or `EMAIL_DISABLED`.
     *
     * @example
     * await auth.register("grace@acme.test", "a long and unusual pass phrase", "Grace Hopper");
     */
    register(email: string, password: string, name: string): Promise<void>;
    /**
     * Confirms a sign-up with the token of its emailed link (`POST /user/register/confirm`):
     * the account is made and signed in; resolves to the new session.
     *
     * @example
     * const token = new URLSearchParams(location.hash.slice(1)).get("confirm");
     * const { user } = await auth.confirmRegistration(token!);
     */
    confirmRegistration(token: string): Promise<Session>;
    /**
     * What the server offers (`GET /features`): `{ email, registration, passkeys, oidc }`.
     *
     * @example
     * if ((await auth.features()).registration === "open") showSignUp();
     */
    features(): Promise<Features>;
    /**
     * Signs out: the session becomes null here at once, and the server ends it
     * (with `{ all: true }`, every session of the user). Resolves even when the
     * server cannot be reached; then the server-side session lives on until it expires.
     *
     * @example
     * await auth.logout({ all: true });
     */
    logout(options?: {
        all?: boolean;
    }): Promise<void>;
    /**
     * Calls `listener` once per change of the session (signed in, refreshed, signed
     * out: null), in this tab or, with `storage: "local"`, in another. Returns a function that stops it.
     *
     * @example
     * const stop = auth.onChange((session) => render(session?.user ?? null));
     */
    onChange(listener: ChangeListener): () => void;
}
export {};
