//! Issue 18, point 1: an imported hash may cost one login at most 256 MiB and
//! about a second of one core (SPEC section 4). Hashes over that are refused
//! at import naming the user; the costliest accepted hash of each kind is
//! measured on a real server: its peak memory (VmHWM) and its time.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;
use crate::server::{assert_error, http_agent, login, Server};
use crate::state::{assert_user_count, s, temp, write};

const SALT: &str = "c2FsdHNhbHRzYWx0c2FsdA";
/// 32 bytes: no password matches it, and checking it costs what a real one does.
const OUT32: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const OUT64: &str =
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const BCRYPT_SALT_AND_HASH: &str = "abcdefghijklmnopqrstuu5bYMXbkbWu8Mqn1SNr3yPQV9pU3iHgS";

/// The most one check may add to the server's peak memory: the cap and some
/// room for the allocator.
const MEMORY_BOUND: u64 = (256 + 16) << 20;
/// About 1 s on the reference machine; the room is for a loaded CI box.
const TIME_BOUND: Duration = Duration::from_secs(5);

fn phc(prefix: &str, params: &str, out: &str) -> String {
    format!("${prefix}${params}${SALT}${out}")
}

fn bcrypt(cost: u32) -> String {
    format!("$2b${cost:02}${BCRYPT_SALT_AND_HASH}")
}

fn django(iterations: u32) -> String {
    format!("pbkdf2_sha256${iterations}$saltsaltsalt${OUT32}=")
}

/// Right at the cap, one per kind and shape: the most memory, the most time.
fn costliest_accepted() -> Vec<(&'static str, String)> {
    vec![
        ("bcrypt cost 14", bcrypt(14)),
        (
            "argon2id 256 MiB × 2",
            phc("argon2id", "v=19$m=262144,t=2,p=1", OUT32),
        ),
        (
            "argon2i 256 MiB × 2, p=16",
            phc("argon2i", "v=19$m=262144,t=2,p=16", OUT32),
        ),
        (
            "scrypt V of 254 MiB",
            phc("scrypt", "ln=14,r=127,p=1", OUT32),
        ),
        ("scrypt N·r·p", phc("scrypt", "ln=17,r=8,p=3", OUT32)),
        (
            "scrypt B of 80 MiB",
            phc("scrypt", "ln=0,r=131072,p=5", OUT32),
        ),
        (
            "pbkdf2-sha256",
            phc("pbkdf2-sha256", "i=6600000,l=32", OUT32),
        ),
        (
            "pbkdf2-sha512",
            phc("pbkdf2-sha512", "i=1780000,l=64", OUT64),
        ),
        ("django", django(6_600_000)),
    ]
}

/// Each over the cap by one step; the first six were accepted by the old
/// per-parameter caps (the 18 GiB scrypt, 80 s Argon2, 16 s bcrypt).
fn over_the_cap() -> Vec<(&'static str, String)> {
    vec![
        (
            "scrypt B of 16 GiB",
            phc("scrypt", "ln=0,r=8388608,p=16", OUT32),
        ),
        (
            "scrypt V+B over 256 MiB",
            phc("scrypt", "ln=18,r=8,p=1", OUT32),
        ),
        (
            "argon2 1 GiB × 64",
            phc("argon2id", "v=19$m=1048576,t=64,p=1", OUT32),
        ),
        (
            "argon2 256 MiB × 3",
            phc("argon2id", "v=19$m=262144,t=3,p=1", OUT32),
        ),
        ("bcrypt cost 15", bcrypt(15)),
        (
            "pbkdf2-sha512",
            phc("pbkdf2-sha512", "i=1800000,l=64", OUT64),
        ),
        (
            "argon2 over 256 MiB",
            phc("argon2id", "v=19$m=262145,t=1,p=1", OUT32),
        ),
        ("scrypt N·r·p", phc("scrypt", "ln=17,r=8,p=4", OUT32)),
        (
            "pbkdf2-sha256 blocks",
            phc("pbkdf2-sha256", "i=6600000,l=64", OUT64),
        ),
        ("django", django(7_000_000)),
    ]
}

#[test]
fn a_hash_over_the_work_cap_is_refused_by_user_add_and_seed_naming_the_user() {
    let (dir, db) = temp();
    for (kind, hash) in over_the_cap() {
        let out = authlite(
            &db,
            &user_add("slow@example.test", "Slow", &["--password-hash", &hash]),
        );
        assert_fails_naming(&out, &["slow@example.test", "too costly"]);
        let seed = write(
            &dir,
            "import.json",
            &json!({"users": [
                { "email": "ok@example.test", "name": "Ok", "passwordHash": bcrypt(4) },
                { "email": "slow@example.test", "name": "Slow", "passwordHash": hash },
            ]})
            .to_string(),
        );
        let out = authlite(&db, &["seed", s(&seed)]);
        assert_fails_naming(
            &out,
            &["import.json", "users[1]", "slow@example.test", "too costly"],
        );
        assert!(!stderr(&out).contains(&hash), "{kind}: the hash is quoted");
        assert_user_count(&db, 0);
    }
}

/// The server's peak resident memory so far, in bytes.
fn peak_memory(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc");
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .expect("a VmHWM line");
    let kib: u64 = line
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("VmHWM in kB");
    kib * 1024
}

/// A fresh server per hash, so that no other check's memory is in its peak:
/// the memory a wrong password adds, and how long it takes.
fn measure_one_check(db: &Path, hash: &str) -> (u64, Duration) {
    succeeds(
        db,
        &user_add("worst@example.test", "Worst", &["--password-hash", hash]),
    );
    let mut cmd = command(db);
    cmd.args(["serve", "--bind", "127.0.0.1:0"]);
    let server = Server::start(cmd);
    let agent = http_agent();
    let (status, body) = login(&agent, &server, "nobody@example.test", "warm up");
    assert_error(status, &body, 401, "USER_NOT_FOUND");
    let before = peak_memory(server.pid());
    let started = Instant::now();
    let (status, body) = login(&agent, &server, "worst@example.test", "not the password");
    let took = started.elapsed();
    assert_error(status, &body, 401, "INVALID_PASSWORD");
    (peak_memory(server.pid()).saturating_sub(before), took)
}

#[test]
fn the_costliest_accepted_hash_of_each_kind_stays_within_256_mib_and_seconds() {
    let mut figures = Vec::new();
    for (kind, hash) in costliest_accepted() {
        let (_dir, db) = temp();
        let (memory, took) = measure_one_check(&db, &hash);
        figures.push(format!(
            "{kind}: +{} MiB peak, {} ms",
            memory >> 20,
            took.as_millis()
        ));
        assert!(memory <= MEMORY_BOUND, "{kind}: {figures:#?}");
        assert!(took <= TIME_BOUND, "{kind}: {figures:#?}");
    }
    eprintln!("one wrong-password check each:\n{}", figures.join("\n"));
}
