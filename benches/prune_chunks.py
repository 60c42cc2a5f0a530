#!/usr/bin/env python3
"""How long one pruning chunk holds the write lock, on a table of a million sessions.

python3 benches/prune_chunks.py [ROWS]   (default 1,000,000; needs ~1.5 GB of disk)

Builds a database from schema.sql with ROWS sessions (each with a 1.1 KB grace
answer, as a refreshed session has), half of them expired, then deletes the
expired ones and clears the grace answers in the server's chunks, printing the
p50/p99/max time of a chunk including its commit. The server's limit is 50 ms.
"""
import os
import sqlite3
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHUNK = 100  # src/store/model.rs PRUNE_CHUNK


def timed_chunks(conn, sql):
    times = []
    while True:
        started = time.perf_counter()
        changed = conn.execute(sql, (CHUNK,)).rowcount
        conn.commit()
        times.append(time.perf_counter() - started)
        if len(times) % 200 == 0:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        if changed < CHUNK:
            return sorted(times)


def report(name, times):
    ms = lambda q: round(times[min(len(times) - 1, int(len(times) * q))] * 1000, 2)
    print(f"{name}: {len(times)} chunks of {CHUNK}, p50 {ms(0.5)} ms, p99 {ms(0.99)} ms, max {ms(1.0)} ms")


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(os.path.join(tmp, "prune.db"))
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.executescript(open(os.path.join(ROOT, "schema.sql")).read())
        conn.execute("INSERT INTO users (id, email, name, created_at, updated_at) VALUES ('u', 'a@b.c', 'A', 0, 0)")
        conn.executemany(
            "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, refresh_jti,"
            " refresh_hash, spent_jti, spent_at_ms, grace_answer) VALUES (?, 'u', 0, 0, ?, ?, ?, ?, 1000, ?)",
            ((f"s{i:08d}", 100 if i % 2 else 10**10, f"j{i}", b"\x01" * 32, f"p{i}", b"x" * 1100) for i in range(rows)),
        )
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        print(f"{rows} sessions, SQLite {sqlite3.sqlite_version}")
        report("delete expired sessions", timed_chunks(conn,
            "DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE expires_at <= 200 LIMIT ?)"))
        report("clear grace answers", timed_chunks(conn,
            "UPDATE sessions SET grace_answer = NULL WHERE rowid IN"
            " (SELECT rowid FROM sessions WHERE grace_answer IS NOT NULL AND spent_at_ms < 5000 LIMIT ?)"))


if __name__ == "__main__":
    main()
