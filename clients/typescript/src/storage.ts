import type { Session } from "./client.js";

/**
 * Where a client keeps its session: three functions over string values, each
 * of which may return a promise (an encrypted store, IndexedDB, a file, Redis).
 *
 * @example
 * const files: AuthliteStorage = {
 *   get: (key) => readFile(`${key}.json`, "utf8").catch(() => null),
 *   set: (key, value) => writeFile(`${key}.json`, value, { mode: 0o600 }),
 *   remove: (key) => rm(`${key}.json`, { force: true }),
 * };
 */
export interface AuthliteStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
  remove(key: string): void | Promise<void>;
}

/** `"memory"` (the default: this client only), `"local"` (localStorage, shared by tabs) or your own. */
export type StorageOption = "memory" | "local" | AuthliteStorage;

/** A Map: the session lives as long as the client. */
export function memoryStorage(): AuthliteStorage {
  const map = new Map<string, string>();
  return {
    get: (key) => map.get(key) ?? null,
    set: (key, value) => void map.set(key, value),
    remove: (key) => void map.delete(key),
  };
}

/** The browser's localStorage; throws where there is none (Node, some workers). */
export function localStore(): AuthliteStorage {
  let local: Storage | undefined;
  try {
    local = typeof localStorage === "undefined" ? undefined : localStorage;
  } catch {
    // Some runtimes throw on the very access (a sandboxed frame, Node without a storage file).
  }
  if (!local) throw new TypeError('AuthliteClient: storage "local" needs localStorage (a browser); use "memory" or your own storage');
  return {
    get: (key) => local.getItem(key),
    set: (key, value) => local.setItem(key, value),
    remove: (key) => local.removeItem(key),
  };
}

export function openStorage(option: StorageOption): AuthliteStorage {
  if (option === "memory") return memoryStorage();
  if (option === "local") return localStore();
  const custom = option as Partial<AuthliteStorage> | null;
  if (!custom || typeof custom.get !== "function" || typeof custom.set !== "function" || typeof custom.remove !== "function") {
    throw new TypeError('AuthliteClient: storage must be "memory", "local" or an object with get, set and remove');
  }
  return custom as AuthliteStorage;
}

/** The stored JSON back to a session; anything that is not one counts as none. */
export function parseSession(raw: unknown): Session | null {
  if (typeof raw !== "string") return null;
  try {
    const s = JSON.parse(raw);
    const ok =
      s && typeof s.accessToken === "string" && typeof s.refreshToken === "string" &&
      typeof s.expiresAt === "number" && s.user && typeof s.user === "object";
    if (!ok) return null;
    // A session stored before the server sent roles: it holds none until its next refresh.
    if (!Array.isArray(s.user.roles)) s.user.roles = [];
    return freeze(s);
  } catch {
    return null;
  }
}

export function freeze(session: Session): Session {
  Object.freeze(session.user.roles);
  Object.freeze(session.user);
  return Object.freeze(session);
}
