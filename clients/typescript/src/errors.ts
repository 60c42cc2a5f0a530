import type { paths } from "./generated/api.js";

/**
 * Every `error_code` of the authlite contract, as SPEC.md names them, and the
 * codes the server gives for malformed HTTP. Kept by hand so that the union is
 * complete even while the OpenAPI document describes codes only in words.
 */
export type ContractErrorCode =
  | "INVALID_REQUEST"
  | "USER_NOT_FOUND"
  | "NO_PASSWORD_SET"
  | "INVALID_PASSWORD"
  | "USER_INACTIVE"
  | "TOO_MANY_ATTEMPTS"
  | "INVALID_TOKEN"
  | "TOKEN_EXPIRED"
  | "TOKEN_REVOKED"
  | "TOKEN_REUSED"
  | "MISSING_TOKEN"
  | "SESSION_NOT_FOUND"
  | "WEAK_PASSWORD"
  | "SERVER_BUSY"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "INTERNAL_ERROR"
  | "DATABASE_UNAVAILABLE"
  | "HTTP_ERROR";

// Every `error_code` enum of the generated document: each operation, each
// response, its JSON body. While the document types `error_code` as a plain
// string this is `never`, and the hand-kept union above stands alone.
type Operation = { [P in keyof paths]: paths[P][Exclude<keyof paths[P], "parameters">] }[keyof paths];
type ResponseOf<O> = O extends { responses: infer R } ? R[keyof R] : never;
type BodyOf<R> = R extends { content: { "application/json": infer B } } ? B : never;
type CodeOf<B> = B extends { error_code: infer C } ? C : never;
type DocumentCodes = CodeOf<BodyOf<ResponseOf<Operation>>>;

/** The `error_code` values the OpenAPI document lists as enums. */
export type DocumentErrorCode = string extends DocumentCodes ? never : DocumentCodes;

/**
 * What `AuthliteError.code` can be: every code of the contract and of the
 * server's OpenAPI document, plus `NETWORK_ERROR` when no answer came at all.
 *
 * @example
 * if (err instanceof AuthliteError && err.code === "TOO_MANY_ATTEMPTS") wait(err.retryAfter);
 */
export type ErrorCode = ContractErrorCode | DocumentErrorCode | "NETWORK_ERROR";

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
  readonly status: number;
  /** The server's `error_code`, or `NETWORK_ERROR`. */
  readonly code: ErrorCode;
  /** Seconds the server asks to wait (its `Retry-After`), or null. */
  readonly retryAfter: number | null;

  constructor(status: number, code: ErrorCode, message: string, options?: { cause?: unknown; retryAfter?: number | null }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AuthliteError";
    this.status = status;
    this.code = code;
    this.retryAfter = options?.retryAfter ?? null;
  }
}

/** The rejection of a call that needs a session, made while signed out. */
export const signedOut = () => new AuthliteError(401, "MISSING_TOKEN", "Not signed in.");

/** The rejection when no answer came: the server is down, unreachable, or the request was aborted. */
export function networkError(cause: unknown): AuthliteError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new AuthliteError(0, "NETWORK_ERROR", `No answer from the server: ${why}`, { cause });
}

/** The error of an answer that is not a success; a body without `error_code` is named by its status. */
export function answerError(res: Response, body: unknown): AuthliteError {
  const data = (body && typeof body === "object" ? body : {}) as { error_code?: unknown; message?: unknown };
  const code =
    typeof data.error_code === "string"
      ? (data.error_code as ErrorCode)
      : res.status === 413
        ? "PAYLOAD_TOO_LARGE"
        : res.status === 429
          ? "TOO_MANY_ATTEMPTS"
          : res.status >= 500
            ? "INTERNAL_ERROR"
            : "HTTP_ERROR";
  const message = typeof data.message === "string" ? data.message : `The server answered ${res.status}.`;
  const wait = Number(res.headers.get("Retry-After"));
  return new AuthliteError(res.status, code, message, { retryAfter: res.headers.has("Retry-After") && Number.isFinite(wait) ? wait : null });
}
