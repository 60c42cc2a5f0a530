// Compiled, never run: what a user writes must type-check against dist/*.d.ts.
import { AuthliteClient, AuthliteError, type AdminUser, type ApiKey, type AuditEvent, type ErrorCode, type MfaStatus, type ServerErrorCode, type Session, type SessionInfo, type TotpEnrolment, type User } from "../../dist/index.js";

const auth = new AuthliteClient({ baseUrl: "http://127.0.0.1:8080", storage: "memory", refreshMargin: 60, fetch: globalThis.fetch });
const custom = new AuthliteClient({
  baseUrl: new URL("http://127.0.0.1:8080"),
  storage: { get: async (key) => key, set: async () => {}, remove: () => {} },
});

export async function use(): Promise<void> {
  const session: Session = await auth.login("ada@acme.test", "pw");
  const token: string = session.accessToken;
  const expires: number = session.expiresAt;
  const org: string | null = session.user.orgId;
  const roles: readonly string[] = session.user.roles;
  const current: Session | null = auth.session;
  const fresh: string = await auth.accessToken();
  const res: Response = await auth.fetch("/api", { method: "POST" });
  const res2: Response = await auth.fetch(new Request("http://x/"));
  const me: User = await auth.me();
  const again: Session = await auth.refresh();
  const list: SessionInfo[] = await auth.sessions();
  const sid: string = list[0].sid;
  const here: boolean = list[0].current;
  await auth.revokeSession(sid);
  await auth.changePassword("a", "b");
  const user: User = await auth.resetPassword("token", "new");
  await auth.logout();
  await auth.logout({ all: true });
  const stop: () => void = auth.onChange((s: Session | null) => void s?.user.email);
  stop();
  void [token, expires, org, roles, current, fresh, res, res2, me, again, here, user, custom];
}

export async function admin(): Promise<void> {
  const { users, nextCursor } = await auth.admin.users({ query: "ada", status: "active", role: "admin", limit: 10 });
  const first: AdminUser = users[0];
  const locked: number | null | undefined = first.lockedUntil;
  const created: AdminUser = await auth.admin.createUser({ email: "lin@acme.test", name: "Lin", roles: ["staff"], password: "pw" });
  const changed: AdminUser = await auth.admin.updateUser(created.id, { name: "Lin Li", orgId: null, status: "inactive" });
  await auth.admin.deleteUser(created.id, { erase: true });
  const link: { url?: string; expiresAt: number } = await auth.admin.makeLink(first.id, { ttl: 60 });
  const sids: string[] = (await auth.admin.userSessions(first.id)).map((s) => s.sid);
  const { events }: { events: AuditEvent[] } = await auth.admin.audit({ userId: first.id, type: "login.failed" });
  const { key, apiKey }: { key: string; apiKey: ApiKey } = await auth.admin.createApiKey({ name: "b", scopes: ["users:read"] });
  // @ts-expect-error a status is one of the contract's
  await auth.admin.users({ status: "sleeping" });
  const session: Session = await auth.loginMfa("mfa-token", "123456");
  const err = new AuthliteError(401, "INVALID_TOKEN", "");
  const mfaToken: string | null = err.mfaToken;
  const methods: string[] | null = err.methods;
  const kind: AuditEvent["type"] = events[0].type;
  const detail: unknown = events[0].detail.code;
  // @ts-expect-error an audit type is one of the contract's
  await auth.admin.audit({ type: "login.maybe" });
  void [kind, detail];
  void [nextCursor, locked, changed, link, sids, events, key, apiKey, session, mfaToken, methods];
}

export async function secondFactor(): Promise<void> {
  const status: MfaStatus = await auth.mfa();
  const on: boolean = status.totp;
  const left: number = status.recoveryCodesLeft;
  const enrolment: TotpEnrolment = await auth.enableTotp();
  const { secret, otpauthUrl, qrSvg }: { secret: string; otpauthUrl: string; qrSvg: string } = enrolment;
  const recoveryCodes: string[] = await auth.confirmTotp("123456");
  const fresh: string[] = await auth.newRecoveryCodes("123456");
  const off: void = await auth.disableTotp("abcde-fghij");
  void [on, left, secret, otpauthUrl, qrSvg, recoveryCodes, fresh, off];
}

export function codes(err: unknown): number {
  if (!(err instanceof AuthliteError)) return -1;
  const status: number = err.status;
  const code: ErrorCode = err.code;
  const message: string = err.message;
  const all: ErrorCode[] = [
    "INVALID_REQUEST", "USER_NOT_FOUND", "NO_PASSWORD_SET", "INVALID_PASSWORD", "USER_INACTIVE", "TOO_MANY_ATTEMPTS",
    "INVALID_TOKEN", "TOKEN_EXPIRED", "TOKEN_REVOKED", "TOKEN_REUSED", "MISSING_TOKEN", "SESSION_NOT_FOUND",
    "WEAK_PASSWORD", "SERVER_BUSY", "REQUEST_TIMEOUT", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE",
    "NOT_FOUND", "METHOD_NOT_ALLOWED", "INTERNAL_ERROR", "HTTP_ERROR", "NETWORK_ERROR",
  ];
  // @ts-expect-error not a code of the contract
  const wrong: ErrorCode = "NOT_A_CODE";
  // @ts-expect-error a code the server never sends
  const never: ErrorCode = "DATABASE_UNAVAILABLE";
  const server: ServerErrorCode = "SERVER_BUSY";
  // @ts-expect-error the client's own code, never the server's
  const local: ServerErrorCode = "NETWORK_ERROR";
  void [code, message, all, wrong, never, server, local];
  return status;
}
