import type { components, operations } from "./generated/api.js";

type Schemas = components["schemas"];

/** The admin view of a user: `{ id, email, name, orgId, roles, status, hasPassword, createdAt, updatedAt, lastLoginAt, lockedUntil, mfa }`. */
export type AdminUser = Schemas["AdminUser"];
/** What `admin.users()` filters by: `{ query, status, orgId, role, limit, cursor }`, each optional. */
export type UserFilter = NonNullable<operations["list_users"]["parameters"]["query"]>;
/** The body of `admin.createUser()`: `{ email, name, orgId?, roles?, status?, password?, invite? }`. */
export type NewUser = Schemas["CreateUserRequest"];
/** The body of `admin.updateUser()`: any of `{ email, name, orgId, roles, status }`. */
export type UserChanges = Schemas["UpdateUserRequest"];
/** One of a user's live sessions, as the admin API lists them (no `current`). */
export type AdminSession = Schemas["AdminSession"];
/** `{ id, name, users }`: `users` counts its members, deleted ones aside. */
export type Org = Schemas["OrgView"];
/** An API key as listed: never the key itself. */
export type ApiKey = Schemas["ApiKeyView"];
/** An OpenID Connect client as `/admin/clients` shows it (never its secret). */
export type OidcClient = Schemas["ClientView"];
/** What `createClient` takes. */
export type NewOidcClient = Schemas["CreateClientRequest"];
/** One page of a list: its items and the cursor of the next page (null on the last). */
export type Page<K extends string, T> = { [key in K]: T[] } & { nextCursor: string | null };

/**
 * One security event of the audit log (SPEC section 8): `{ id, at, type, userId, actor, ip, userAgent, detail }`,
 * the generated type with `detail` readable (its fields depend on `type`).
 */
export type AuditEvent = Omit<Schemas["AuditEvent"], "detail"> & { detail: Record<string, unknown> };

/** What `admin.audit()` filters by: `{ userId, type, since, until, limit, cursor }`, times in Unix seconds. */
export type AuditFilter = NonNullable<operations["list_events"]["parameters"]["query"]>;

/** Sends one request of the signed-in session (the client's bearer, renewed on TOKEN_EXPIRED). */
export type AuthorizedCall = (method: string, path: string, body?: object) => Promise<Record<string, unknown>>;

const id = (value: string) => encodeURIComponent(value);

function query(params: object = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/**
 * The admin API (SPEC section 8) with the signed-in session's token: the
 * account needs the role `admin`, else every call rejects with 403 `FORBIDDEN`.
 * Reached as `auth.admin`.
 *
 * @example
 * await auth.login("root@acme.test", password);
 * const { users, nextCursor } = await auth.admin.users({ query: "ada", status: "active" });
 */
export class AdminApi {
  #call: AuthorizedCall;

  constructor(call: AuthorizedCall) {
    this.#call = call;
  }

  /**
   * A page of users by email (`GET /admin/users`).
   *
   * @example
   * const { users, nextCursor } = await auth.admin.users({ role: "admin", limit: 20 });
   */
  async users(filter: UserFilter = {}): Promise<Page<"users", AdminUser>> {
    const page = await this.#call("GET", `admin/users${query(filter)}`);
    return { users: page.users as AdminUser[], nextCursor: (page.nextCursor as string | null) ?? null };
  }

  /**
   * One user (`GET /admin/users/{id}`); 404 `USER_NOT_FOUND`.
   *
   * @example
   * const user = await auth.admin.user(id);
   */
  async user(userId: string): Promise<AdminUser> {
    return (await this.#call("GET", `admin/users/${id(userId)}`)).user as AdminUser;
  }

  /**
   * Creates a user (`POST /admin/users`); with `invite: true` and no password the
   * user is emailed a link (501 `EMAIL_DISABLED` when no email can be sent).
   *
   * @example
   * const user = await auth.admin.createUser({ email: "lin@acme.test", name: "Lin", password });
   */
  async createUser(user: NewUser): Promise<AdminUser> {
    return (await this.#call("POST", "admin/users", user)).user as AdminUser;
  }

  /**
   * Changes any of `{ email, name, orgId, roles, status }` (`PATCH /admin/users/{id}`);
   * a status other than `active` ends every session of the user.
   *
   * @example
   * await auth.admin.updateUser(id, { roles: ["admin"], status: "active" });
   */
  async updateUser(userId: string, changes: UserChanges): Promise<AdminUser> {
    return (await this.#call("PATCH", `admin/users/${id(userId)}`, changes)).user as AdminUser;
  }

  /**
   * Deletes a user (`DELETE /admin/users/{id}`): status `deleted`, every session
   * ended; with `{ erase: true }` the user and everything of theirs is removed for good.
   *
   * @example
   * await auth.admin.deleteUser(id, { erase: true });
   */
  async deleteUser(userId: string, options: { erase?: boolean } = {}): Promise<void> {
    await this.#call("DELETE", `admin/users/${id(userId)}${query({ erase: options.erase ? "true" : undefined })}`);
  }

  /**
   * Sets a user's password (the password policy applies: 400 `WEAK_PASSWORD`) and ends their sessions.
   *
   * @example
   * await auth.admin.setPassword(id, "a long new pass phrase");
   */
  async setPassword(userId: string, password: string): Promise<void> {
    await this.#call("POST", `admin/users/${id(userId)}/password`, { password });
  }

  /**
   * Makes a set-password link (`POST /admin/users/{id}/link`): `{ url, expiresAt }`;
   * with `{ send: true }` it is emailed instead and `url` is left out.
   *
   * @example
   * const { url } = await auth.admin.makeLink(id, { ttl: 3600 });
   */
  async makeLink(userId: string, options: { ttl?: number; send?: boolean } = {}): Promise<{ url?: string; expiresAt: number }> {
    const answer = await this.#call("POST", `admin/users/${id(userId)}/link`, options);
    const link: { url?: string; expiresAt: number } = { expiresAt: answer.expiresAt as number };
    if (typeof answer.url === "string") link.url = answer.url;
    return link;
  }

  /**
   * Clears the account's failed-login count (`POST /admin/users/{id}/unlock`).
   *
   * @example
   * await auth.admin.unlock(id);
   */
  async unlock(userId: string): Promise<void> {
    await this.#call("POST", `admin/users/${id(userId)}/unlock`);
  }

  /**
   * Removes the user's second factors: TOTP, recovery codes and passkeys (`DELETE /admin/users/{id}/mfa`).
   *
   * @example
   * await auth.admin.resetMfa(id); // a lost phone
   */
  async resetMfa(userId: string): Promise<void> {
    await this.#call("DELETE", `admin/users/${id(userId)}/mfa`);
  }

  /**
   * The user's live sessions (`GET /admin/users/{id}/sessions`).
   *
   * @example
   * for (const s of await auth.admin.userSessions(id)) console.log(s.sid, s.userAgent);
   */
  async userSessions(userId: string): Promise<AdminSession[]> {
    return (await this.#call("GET", `admin/users/${id(userId)}/sessions`)).sessions as AdminSession[];
  }

  /**
   * Ends every session of the user (`DELETE /admin/users/{id}/sessions`).
   *
   * @example
   * await auth.admin.revokeUserSessions(id);
   */
  async revokeUserSessions(userId: string): Promise<void> {
    await this.#call("DELETE", `admin/users/${id(userId)}/sessions`);
  }

  /**
   * Ends one session, whoever's it is (`DELETE /admin/sessions/{sid}`); 404 `SESSION_NOT_FOUND`.
   *
   * @example
   * await auth.admin.revokeSession(sid);
   */
  async revokeSession(sid: string): Promise<void> {
    await this.#call("DELETE", `admin/sessions/${id(sid)}`);
  }

  /**
   * Every org with how many users it has (`GET /admin/orgs`).
   *
   * @example
   * const names = (await auth.admin.orgs()).map((o) => o.name);
   */
  async orgs(): Promise<Org[]> {
    return (await this.#call("GET", "admin/orgs")).orgs as Org[];
  }

  /**
   * A page of the audit log, newest first (`GET /admin/audit`).
   *
   * @example
   * const { events, nextCursor } = await auth.admin.audit({ userId: id, type: "login.failed" });
   */
  async audit(filter: AuditFilter = {}): Promise<Page<"events", AuditEvent>> {
    const page = await this.#call("GET", `admin/audit${query(filter)}`);
    return { events: page.events as AuditEvent[], nextCursor: (page.nextCursor as string | null) ?? null };
  }

  /**
   * Every API key, newest first, revoked and expired ones too (`GET /admin/api-keys`).
   *
   * @example
   * const live = (await auth.admin.apiKeys()).filter((k) => !k.revokedAt);
   */
  async apiKeys(): Promise<ApiKey[]> {
    return (await this.#call("GET", "admin/api-keys")).apiKeys as ApiKey[];
  }

  /**
   * Creates an API key (`POST /admin/api-keys`): `key` (`alk_…`) is shown this once.
   *
   * @example
   * const { key, apiKey } = await auth.admin.createApiKey({ name: "backend", scopes: ["users:write"] });
   */
  async createApiKey(request: { name: string; scopes: string[]; ttl?: number }): Promise<{ apiKey: ApiKey; key: string }> {
    const answer = await this.#call("POST", "admin/api-keys", request);
    return { apiKey: answer.apiKey as ApiKey, key: answer.key as string };
  }

  /**
   * Revokes an API key (`DELETE /admin/api-keys/{id}`): servers refuse it within a second.
   *
   * @example
   * await auth.admin.revokeApiKey(apiKey.id);
   */
  async revokeApiKey(keyId: string): Promise<void> {
    await this.#call("DELETE", `admin/api-keys/${id(keyId)}`);
  }

  /**
   * Every OpenID Connect client, oldest first (`GET /admin/clients`).
   *
   * @example
   * const names = (await auth.admin.clients()).map((c) => c.name);
   */
  async clients(): Promise<OidcClient[]> {
    return (await this.#call("GET", "admin/clients")).clients as OidcClient[];
  }

  /**
   * Registers an OpenID Connect client (`POST /admin/clients`): `clientSecret`
   * is shown this once (null for a public client).
   *
   * @example
   * const { client, clientSecret } = await auth.admin.createClient({ name: "Grafana", redirectUris: ["https://grafana.example.com/login/generic_oauth"] });
   */
  async createClient(request: NewOidcClient): Promise<{ client: OidcClient; clientSecret: string | null }> {
    const answer = await this.#call("POST", "admin/clients", request);
    return { client: answer.client as OidcClient, clientSecret: (answer.clientSecret as string | null) ?? null };
  }

  /**
   * Removes a client (`DELETE /admin/clients/{id}`): its codes stop working and
   * the sessions it made are revoked.
   *
   * @example
   * await auth.admin.removeClient(client.id);
   */
  async removeClient(clientId: string): Promise<void> {
    await this.#call("DELETE", `admin/clients/${id(clientId)}`);
  }
}
