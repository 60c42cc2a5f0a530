/**
 * The one error every failed call rejects with.
 *
 * @example
 * try {
 *   await auth.login(email, password);
 * } catch (err) {
 *   if (err instanceof AuthliteError && err.code === "INVALID_PASSWORD") showWrongPassword();
 * }
 */
export class AuthliteError extends Error {
    /** The HTTP status; 0 when no answer came (`NETWORK_ERROR`). */
    status;
    /** The server's `error_code`, or `NETWORK_ERROR`. */
    code;
    /** Seconds the server asks to wait (its `Retry-After`), or null. */
    retryAfter;
    /** With `MFA_REQUIRED`: the token for `loginMfa`; otherwise null. */
    mfaToken;
    /** With `MFA_REQUIRED`: the second factors the account takes (`"totp"`, `"recovery_code"`); otherwise null. */
    methods;
    constructor(status, code, message, options) {
        super(message, options?.cause === undefined ? undefined : { cause: options.cause });
        this.name = "AuthliteError";
        this.status = status;
        this.code = code;
        this.retryAfter = options?.retryAfter ?? null;
        this.mfaToken = options?.mfaToken ?? null;
        this.methods = options?.methods ?? null;
    }
}
/** The rejection of a call that needs a session, made while signed out. */
export const signedOut = () => new AuthliteError(401, "MISSING_TOKEN", "Not signed in.");
/** The rejection when no answer came: the server is down, unreachable, or the request was aborted. */
export function networkError(cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    return new AuthliteError(0, "NETWORK_ERROR", `No answer from the server: ${why}`, { cause });
}
/** The error of an answer that is not a success; a body without `error_code` is named by its status. */
export function answerError(res, body) {
    const data = (body && typeof body === "object" ? body : {});
    const code = typeof data.error_code === "string"
        ? data.error_code
        : res.status === 413
            ? "PAYLOAD_TOO_LARGE"
            : res.status === 429
                ? "TOO_MANY_ATTEMPTS"
                : res.status >= 500
                    ? "INTERNAL_ERROR"
                    : "HTTP_ERROR";
    const message = typeof data.message === "string" ? data.message : `The server answered ${res.status}.`;
    const wait = Number(res.headers.get("Retry-After"));
    const methods = Array.isArray(data.methods) ? data.methods.filter((m) => typeof m === "string") : null;
    return new AuthliteError(res.status, code, message, {
        retryAfter: res.headers.has("Retry-After") && Number.isFinite(wait) ? wait : null,
        mfaToken: typeof data.mfaToken === "string" ? data.mfaToken : null,
        methods,
    });
}
