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
export declare function memoryStorage(): AuthliteStorage;
/** The browser's localStorage; throws where there is none (Node, some workers). */
export declare function localStore(): AuthliteStorage;
export declare function openStorage(option: StorageOption): AuthliteStorage;
/** The stored JSON back to a session; anything that is not one counts as none. */
export declare function parseSession(raw: unknown): Session | null;
export declare function freeze(session: Session): Session;
