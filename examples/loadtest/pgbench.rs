//! The refresh's one statement alone, driven by `pgbench`: what PostgreSQL
//! itself does with it on this machine, the bound authlite's refresh on
//! PostgreSQL is measured against. The same conditional UPDATE the store
//! sends for a refresh that comes alone (store/postgres/sessions.rs,
//! `rotate_refresh`), prepared, a transaction each, on a session row per
//! client (of one seeded user), with a grace answer of a real pair's size;
//! each client spends the token its last UPDATE recorded. (Refreshes that
//! come together share one statement in authlite, store/postgres/batch.rs.)

use std::process::Command;

use postgres::{Client, NoTls};

/// Bytes of a sealed token pair, about.
const ANSWER_BYTES: usize = 1100;

/// Transactions per second of `clients` pgbench clients for `seconds`, on the
/// seeded database at `url`; or why not.
pub fn refresh_rate(url: &str, clients: usize, seconds: u64) -> Result<f64, String> {
    let user = prepare_sessions(url, clients)?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let script = dir.path().join("refresh.sql");
    std::fs::write(&script, script_for(&user)).map_err(|e| e.to_string())?;
    let output = Command::new("pgbench")
        .args(["--no-vacuum", "--protocol=prepared", "--define=n=0"])
        .arg(format!("--client={clients}"))
        .arg(format!("--jobs={}", clients.min(4)))
        .arg(format!("--time={seconds}"))
        .arg(format!("--file={}", script.display()))
        .arg(url)
        .output()
        .map_err(|e| format!("cannot run pgbench: {e}"))?;
    let shown = String::from_utf8_lossy(&output.stdout);
    let failed = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("pgbench failed: {}", failed.trim()));
    }
    let rate = tps(&shown).ok_or_else(|| format!("no tps in pgbench's output: {shown}"))?;
    // Each transaction must have spent a token, not found its row changed.
    let spent = tokens_spent(url)?;
    let expected = rate * seconds as f64;
    if (spent as f64) < expected * 0.95 {
        return Err(format!(
            "pgbench spent {spent} tokens in about {expected:.0} transactions"
        ));
    }
    Ok(rate)
}

fn tokens_spent(url: &str) -> Result<i64, String> {
    let mut db = Client::connect(url, NoTls).map_err(|e| e.to_string())?;
    let row = db
        .query_one(
            "SELECT coalesce(sum(split_part(refresh_jti, '-', 3)::BIGINT), 0)::BIGINT
               FROM sessions WHERE id LIKE 'pgbench-%'",
            &[],
        )
        .map_err(|e| e.to_string())?;
    Ok(row.get(0))
}

/// A session row `pgbench-N` per client, its token `pgbench-N-0`.
fn prepare_sessions(url: &str, clients: usize) -> Result<[String; 5], String> {
    let mut db = Client::connect(url, NoTls).map_err(|e| e.to_string())?;
    let row = db
        .query_one(
            "SELECT id, email, name, coalesce(org_id, ''),
                    coalesce((SELECT string_agg(role, ' ' ORDER BY role) FROM user_roles r
                              WHERE r.user_id = u.id), '')
               FROM users u ORDER BY email LIMIT 1",
            &[],
        )
        .map_err(|e| e.to_string())?;
    let user = [row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)];
    for n in 0..clients {
        db.execute(
            "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at,
                                   refresh_jti, refresh_hash)
             VALUES ($1, $2, 0, 0, 4000000000, $3, $4)",
            &[
                &format!("pgbench-{}", n + 1),
                &user[0],
                &format!("pgbench-{}-0", n + 1),
                &vec![7u8; 32],
            ],
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(user)
}

/// pgbench numbers its clients from 0; the script adds one.
fn script_for([id, email, name, org, roles]: &[String; 5]) -> String {
    format!(
        r"\set c :client_id + 1
\set next :n + 1
UPDATE sessions
   SET refresh_jti = 'pgbench-' || :c || '-' || :next, refresh_hash = '\x{hash}',
       expires_at = 4000000000, last_used_at = 1700000000,
       spent_jti = refresh_jti, spent_at_ms = 1700000000000, grace_answer = '\x{answer}'
 WHERE id = 'pgbench-' || :c AND refresh_jti = 'pgbench-' || :c || '-' || :n
   AND refresh_hash = '\x{hash}' AND user_id = '{id}' AND revoked_at IS NULL AND amr = 'pwd'
   AND EXISTS (SELECT 1 FROM users u WHERE u.id = '{id}' AND u.status = 'active'
               AND u.email = '{email}' AND u.name = '{name}'
               AND u.org_id IS NOT DISTINCT FROM nullif('{org}', ''))
   AND (SELECT string_agg(role, ' ' ORDER BY role) FROM user_roles WHERE user_id = '{id}')
       IS NOT DISTINCT FROM nullif('{roles}', '')
   AND EXISTS (SELECT 1 FROM oidc_grants g WHERE g.sid = 'pgbench-' || :c) = false;
\set n :next
",
        hash = "07".repeat(32),
        answer = "78".repeat(ANSWER_BYTES),
    )
}

/// "tps = 12345.6 (without initial connection time)"
fn tps(output: &str) -> Option<f64> {
    output
        .lines()
        .find(|line| line.starts_with("tps = ") && line.contains("without"))
        .and_then(|line| line["tps = ".len()..].split_whitespace().next())
        .and_then(|figure| figure.parse().ok())
}
