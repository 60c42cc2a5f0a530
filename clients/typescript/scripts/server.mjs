// Starts the real authlite binary on a free port over a fresh SQLite file in a
// temp directory, for the tests and for `npm run generate`.
import { spawn, execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const run = promisify(execFile);
const here = fileURLToPath(new URL(".", import.meta.url));

/** The binary: $AUTHLITE_BIN (set by tests/tools/typescript.rs), else the crate's debug build. */
export function binary() {
  return process.env.AUTHLITE_BIN || resolve(here, "../../../target/debug/authlite");
}

export const ADA = { email: "ada@acme.test", name: "Ada Lovelace", orgId: "acme", password: "correct horse battery staple" };
export const GRACE = { email: "grace@acme.test", name: "Grace Hopper", orgId: null, password: "a ship in port is safe" };
export const BANNED = { email: "gone@acme.test", name: "Gone", orgId: "acme", password: "long enough password" };
/** The one admin of the seed, for the admin API and the console. */
export const ROOT = { email: "root@acme.test", name: "Root Admin", orgId: null, password: "keys to the whole kingdom", roles: ["admin"] };

const SEED = {
  orgs: [{ id: "acme", name: "Acme Inc" }],
  users: [
    { email: ADA.email, name: ADA.name, orgId: ADA.orgId, password: ADA.password },
    { email: GRACE.email, name: GRACE.name, password: GRACE.password },
    { email: "invited@acme.test", name: "Invited", orgId: "acme" },
    { email: BANNED.email, name: BANNED.name, orgId: "acme", password: BANNED.password, status: "banned" },
    { email: ROOT.email, name: ROOT.name, password: ROOT.password, roles: ROOT.roles },
  ],
};

/**
 * With $AUTHLITE_TEST_API_POSTGRES (an admin URL, as for the HTTP suite), a new
 * PostgreSQL database made with psql: `{ url, drop() }`; else null (SQLite).
 */
async function postgresDatabase() {
  const admin = process.env.AUTHLITE_TEST_API_POSTGRES;
  if (!admin) return null;
  const name = `authlite_client_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  await run("psql", [admin, "-qc", `CREATE DATABASE ${name}`]);
  return {
    url: `${admin.slice(0, admin.lastIndexOf("/"))}/${name}`,
    drop: () => run("psql", [admin, "-qc", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]).catch(() => {}),
  };
}

/**
 * Starts `authlite serve` with `flags` (e.g. ["--access-ttl", "3"]); resolves once
 * it listens. `stop()` ends it and removes its files; `cli(...args)` runs another
 * command of the binary on the same database. With `postgres: true` and
 * $AUTHLITE_TEST_API_POSTGRES set, the database is a new PostgreSQL one.
 */
export async function startServer(flags = [], { port = 0, dir, postgres = false } = {}) {
  const ownDir = !dir;
  dir ??= await mkdtemp(join(tmpdir(), "authlite-client-"));
  const pg = postgres ? await postgresDatabase() : null;
  const db = pg?.url ?? join(dir, "authlite.db");
  const seed = join(dir, "seed.json");
  await writeFile(seed, JSON.stringify(SEED));
  const globals = ["--db", db, "--pbkdf2-iterations", "1000"];
  const child = spawn(binary(), [...globals, "serve", "--bind", `127.0.0.1:${port}`, "--seed", seed, ...flags], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || "warn" },
  });
  let output = "";
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`authlite did not start within 20 s:\n${output}`)), 20_000);
    const read = (chunk) => {
      output += chunk;
      const m = /authlite listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    };
    child.stdout.setEncoding("utf8").on("data", read);
    child.stderr.setEncoding("utf8").on("data", read);
    child.once("error", (e) => { clearTimeout(timer); reject(e); });
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`authlite exited (${code}):\n${output}`)); });
  });
  child.removeAllListeners("exit");
  const exited = new Promise((done) => child.once("exit", done));
  let stopped = false;
  return {
    url,
    port: Number(new URL(url).port),
    dir,
    db,
    /** Runs `authlite --db DB ...args`, resolving to its stdout. */
    async cli(...args) {
      const { stdout } = await run(binary(), [...globals, ...args]);
      return stdout;
    },
    /** Ends the server; `keepFiles` leaves the database for a restart on it. */
    async stop({ keepFiles = false } = {}) {
      if (!stopped) {
        stopped = true;
        child.kill("SIGTERM");
        await exited;
      }
      if (ownDir && !keepFiles) await rm(dir, { recursive: true, force: true });
      if (pg && !keepFiles) await pg.drop();
    },
  };
}
