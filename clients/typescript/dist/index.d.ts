/**
 * authlite-client: sign in to authlite, keep the access token fresh, share the
 * session between tabs.
 *
 * @example
 * import { AuthliteClient, AuthliteError } from "authlite-client";
 * const auth = new AuthliteClient({ baseUrl: "http://127.0.0.1:8080" });
 * await auth.login("ada@acme.test", "correct horse battery staple");
 * console.log(await auth.me());
 */
export { AuthliteClient } from "./client.js";
export type { AuthliteClientOptions, ChangeListener, Features, MfaStatus, Passkey, Session, SessionInfo, TotpEnrolment, User } from "./client.js";
export type { AdminApi } from "./admin.js";
export type { AdminSession, AdminUser, ApiKey, AuditEvent, AuditFilter, NewOidcClient, NewUser, OidcClient, Org, Page, UserChanges, UserFilter } from "./admin.js";
export { AuthliteError } from "./errors.js";
export type { ErrorCode, ServerErrorCode } from "./errors.js";
export type { AuthliteStorage, StorageOption } from "./storage.js";
export type { components, paths } from "./generated/api.js";
