//! What one verification of a stored hash costs, in memory and in time, and
//! the cap an imported hash must stay under so that no login can exhaust the
//! server: 256 MiB and about one second of one core, the cost of bcrypt at
//! cost 14 (about twelve default PBKDF2 verifications).
//!
//! Time is estimated from each algorithm's work count and the time one unit
//! took on the reference machine (one core of the 2-core CI box, crypto
//! crates built with opt-level 3):
//!
//! | algorithm | unit | measured |
//! | --- | --- | --- |
//! | PBKDF2-SHA256 | iteration × 32-byte block | 600,000 × 1: 83-94 ms |
//! | PBKDF2-SHA512 | iteration × 64-byte block | 600,000 × 1: 332 ms |
//! | bcrypt | 2^cost | cost 13: 535 ms |
//! | Argon2 | KiB × pass | 64 MiB × 1: 98-101 ms; 256 MiB × 1: 340 ms |
//! | scrypt | r × p × (N + 4) | ln=16,r=8,p=1: 181-223 ms; ln=0,r=2^14,p=16: 387 ms |
//!
//! scrypt's `+ 4` is its PBKDF2 over the `128·r·p` bytes of B, which
//! dominates when N is small. Argon2's lanes run one after another here, so
//! its time is `m·t` whatever `p` is.

use std::fmt;
use std::time::{Duration, Instant};

/// The most memory one verification may allocate.
pub const MAX_MEMORY_BYTES: u64 = 256 << 20;
/// The most time one verification may take on the reference machine.
pub const MAX_NANOS: u64 = 1_000_000_000;

const PBKDF2_SHA256_NANOS: u64 = 150;
const PBKDF2_SHA512_NANOS: u64 = 560;
const BCRYPT_ROUND_NANOS: u64 = 60_000;
const ARGON2_KIB_PASS_NANOS: u64 = 1_400;
const SCRYPT_UNIT_NANOS: u64 = 300;
/// scrypt's PBKDF2 over B, in units of one ROMix step.
const SCRYPT_PBKDF2_STEPS: u64 = 4;

/// The estimated cost of one verification; saturates rather than overflows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Work {
    pub memory_bytes: u64,
    pub nanos: u64,
}

impl Work {
    pub fn pbkdf2_sha256(iterations: u32, output_len: usize) -> Work {
        Work::pbkdf2(iterations, output_len, 32, PBKDF2_SHA256_NANOS)
    }

    pub fn pbkdf2_sha512(iterations: u32, output_len: usize) -> Work {
        Work::pbkdf2(iterations, output_len, 64, PBKDF2_SHA512_NANOS)
    }

    fn pbkdf2(iterations: u32, output_len: usize, block: usize, unit: u64) -> Work {
        let blocks = output_len.div_ceil(block).max(1) as u64;
        Work {
            memory_bytes: 0,
            nanos: u64::from(iterations)
                .saturating_mul(blocks)
                .saturating_mul(unit),
        }
    }

    pub fn bcrypt(cost: u32) -> Work {
        let rounds = 1u64.checked_shl(cost).unwrap_or(u64::MAX);
        Work {
            memory_bytes: 0,
            nanos: rounds.saturating_mul(BCRYPT_ROUND_NANOS),
        }
    }

    pub fn argon2(memory_kib: u32, passes: u32) -> Work {
        let kib = u64::from(memory_kib);
        Work {
            memory_bytes: kib.saturating_mul(1024),
            nanos: kib
                .saturating_mul(u64::from(passes))
                .saturating_mul(ARGON2_KIB_PASS_NANOS),
        }
    }

    /// scrypt holds V (`128·r·N`), B (`128·r·p`) and its two work blocks (`256·r`).
    pub fn scrypt(log_n: u8, r: u32, p: u32) -> Work {
        let n = 1u64.checked_shl(u32::from(log_n)).unwrap_or(u64::MAX);
        let (r, p) = (u64::from(r), u64::from(p));
        let blocks = n.saturating_add(p).saturating_add(2);
        let steps = n.saturating_add(SCRYPT_PBKDF2_STEPS);
        Work {
            memory_bytes: r.saturating_mul(128).saturating_mul(blocks),
            nanos: r
                .saturating_mul(p)
                .saturating_mul(steps)
                .saturating_mul(SCRYPT_UNIT_NANOS),
        }
    }

    /// Whether one verification stays under the cap, and if not, why.
    pub fn check(self) -> Result<(), OverCap> {
        if self.memory_bytes > MAX_MEMORY_BYTES {
            return Err(OverCap::Memory(self.memory_bytes));
        }
        if self.nanos > MAX_NANOS {
            return Err(OverCap::Time(self.nanos));
        }
        Ok(())
    }
}

/// Which limit a hash goes over, with its estimate.
#[derive(Debug, PartialEq, Eq)]
pub enum OverCap {
    Memory(u64),
    Time(u64),
}

impl fmt::Display for OverCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            OverCap::Memory(bytes) => write!(
                f,
                "one check would allocate {} MiB; the limit is {} MiB",
                bytes.div_ceil(1 << 20),
                MAX_MEMORY_BYTES >> 20
            ),
            OverCap::Time(nanos) => write!(
                f,
                "one check would take about {:.1} s of one core; the limit is about {} s",
                nanos as f64 / 1e9,
                MAX_NANOS / 1_000_000_000
            ),
        }
    }
}

/// How long the slowest verification authlite accepts takes on this machine:
/// the cap (or the server's own cost, if higher) scaled by how fast this
/// machine runs PBKDF2 against the reference, with a quarter more for the
/// other algorithms running relatively slower here. About 10 ms to measure.
pub fn slowest_verification_here(own_iterations: u32) -> Duration {
    const PROBE_ITERATIONS: u32 = 20_000;
    let probe = crate::password::dummy_hash(PROBE_ITERATIONS);
    let fastest = (0..3)
        .map(|_| {
            let started = Instant::now();
            crate::password::verify("", &probe);
            started.elapsed()
        })
        .min()
        .unwrap_or_default();
    let estimated = Work::pbkdf2_sha256(PROBE_ITERATIONS, 32).nanos as f64;
    let speed = fastest.as_nanos() as f64 / estimated;
    let slowest = MAX_NANOS.max(Work::pbkdf2_sha256(own_iterations, 32).nanos) as f64;
    Duration::from_nanos((slowest * speed * 1.25) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_admits_bcrypt_14_and_refuses_15() {
        assert_eq!(Work::bcrypt(14).check(), Ok(()));
        assert!(matches!(Work::bcrypt(15).check(), Err(OverCap::Time(_))));
        assert!(matches!(Work::bcrypt(31).check(), Err(OverCap::Time(_))));
    }

    #[test]
    fn scrypt_counts_the_memory_of_p_and_the_time_of_n_r_p() {
        // The issue's hash: V is 1 GiB, B 16 GiB.
        let issue = Work::scrypt(0, 8_388_608, 16);
        assert_eq!(issue.memory_bytes, 128 * 8_388_608 * 19);
        assert!(matches!(issue.check(), Err(OverCap::Memory(_))));
        // 256 MiB of V alone, plus B and the work blocks, is over.
        assert!(matches!(
            Work::scrypt(18, 8, 1).check(),
            Err(OverCap::Memory(_))
        ));
        assert_eq!(Work::scrypt(17, 8, 1).check(), Ok(()));
        assert!(matches!(
            Work::scrypt(17, 8, 16).check(),
            Err(OverCap::Time(_))
        ));
        assert!(Work::scrypt(63, u32::MAX, u32::MAX).check().is_err());
    }

    #[test]
    fn argon2_counts_memory_times_passes() {
        assert_eq!(Work::argon2(262_144, 2).check(), Ok(()));
        assert!(matches!(
            Work::argon2(262_144, 3).check(),
            Err(OverCap::Time(_))
        ));
        assert!(matches!(
            Work::argon2(262_145, 1).check(),
            Err(OverCap::Memory(_))
        ));
        assert!(matches!(
            Work::argon2(1024, 1024).check(),
            Err(OverCap::Time(_))
        ));
    }

    #[test]
    fn pbkdf2_counts_iterations_times_blocks() {
        assert_eq!(Work::pbkdf2_sha256(6_000_000, 32).check(), Ok(()));
        assert!(Work::pbkdf2_sha256(6_000_000, 64).check().is_err());
        assert_eq!(Work::pbkdf2_sha512(1_700_000, 64).check(), Ok(()));
        assert!(Work::pbkdf2_sha512(1_800_000, 64).check().is_err());
    }

    #[test]
    fn the_refusal_gives_the_estimate_and_the_limit() {
        let memory = Work::scrypt(0, 8_388_608, 16).check().unwrap_err();
        assert_eq!(
            memory.to_string(),
            "one check would allocate 19456 MiB; the limit is 256 MiB"
        );
        let time = Work::bcrypt(18).check().unwrap_err();
        assert_eq!(
            time.to_string(),
            "one check would take about 15.7 s of one core; the limit is about 1 s"
        );
    }
}
