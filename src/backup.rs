//! Scheduled backups (`serve --backup-dir`, SPEC §14): every interval, the
//! first at start, a copy of the database as the SQLite file
//! `authlite-YYYYMMDDTHHMMSSZ.db` (UTC), written as `authlite copy` writes
//! one (under a temporary name, renamed when complete), and the oldest beyond
//! `keep` removed. It runs on a thread of its own, off the HTTP workers; a
//! failure is logged and tried again at the next interval, and never stops
//! the server.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use prometheus::IntGauge;

use crate::clock;
use crate::store::copy;

/// Where and how often.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// `--db`: what is copied.
    pub source: String,
    pub dir: PathBuf,
    pub every: Duration,
    pub keep: usize,
}

const PREFIX: &str = "authlite-";
const SUFFIX: &str = ".db";

/// Starts the backup thread; `last_success` is set to the Unix time of each
/// backup written.
pub fn start(schedule: Schedule, last_success: IntGauge) -> std::io::Result<()> {
    thread::Builder::new()
        .name("authlite-backup".into())
        .spawn(move || {
            remove_abandoned(&schedule.dir);
            loop {
                match write_one(&schedule) {
                    Ok(path) => {
                        log::info!("backup written: {}", path.display());
                        last_success.set(i64::try_from(clock::now()).unwrap_or(i64::MAX));
                    }
                    Err(e) => log::warn!(
                        "backup into {} failed (tried again in {} s): {e}",
                        schedule.dir.display(),
                        schedule.every.as_secs()
                    ),
                }
                thread::sleep(schedule.every);
            }
        })
        .map(drop)
}

fn write_one(schedule: &Schedule) -> Result<PathBuf, String> {
    let path = schedule.dir.join(file_name(clock::now()));
    let dest = path
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path", path.display()))?;
    copy::copy(&schedule.source, dest)?;
    keep_newest(&schedule.dir, schedule.keep)
        .map_err(|e| format!("cannot remove the oldest backups: {e}"))?;
    Ok(path)
}

/// `authlite-YYYYMMDDTHHMMSSZ.db` for a Unix time.
pub fn file_name(unix: u64) -> String {
    let (days, secs) = (unix / 86_400, unix % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{PREFIX}{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z{SUFFIX}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// algorithm), so that no date crate is needed for one file name.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Whether `name` is one of ours: `authlite-` 8 digits `T` 6 digits `Z.db`.
fn is_backup(name: &str) -> bool {
    let Some(stamp) = name
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_suffix(SUFFIX))
    else {
        return false;
    };
    let bytes = stamp.as_bytes();
    bytes.len() == 16
        && bytes[8] == b'T'
        && bytes[15] == b'Z'
        && bytes[..8]
            .iter()
            .chain(&bytes[9..15])
            .all(u8::is_ascii_digit)
}

/// Removes all but the newest `keep` backups (their names sort by time).
fn keep_newest(dir: &Path, keep: usize) -> std::io::Result<()> {
    let mut names: Vec<String> = fs::read_dir(dir)?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| is_backup(name))
        .collect();
    names.sort_unstable_by(|a, b| b.cmp(a));
    for old in names.iter().skip(keep) {
        fs::remove_file(dir.join(old))?;
        log::info!("old backup removed: {}", dir.join(old).display());
    }
    Ok(())
}

/// A backup cut short by the process ending (`.authlite-….db.PID-N.partial`
/// and its SQLite side files) is removed once that process is gone, where
/// /proc tells.
fn remove_abandoned(dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Some(pid) = abandoned_by(&name) else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The process id in the name of a backup's temporary file.
fn abandoned_by(name: &str) -> Option<&str> {
    let rest = name.strip_prefix('.')?;
    let (backup, rest) = rest.split_once(".db.")?;
    if !is_backup(&format!("{backup}.db")) {
        return None;
    }
    let (pid, _) = rest.split_once('-')?;
    match !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) && rest.contains(".partial") {
        true => Some(pid),
        false => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_utc_times() {
        assert_eq!(file_name(0), "authlite-19700101T000000Z.db");
        assert_eq!(file_name(951_782_400), "authlite-20000229T000000Z.db");
        assert_eq!(file_name(1_767_225_599), "authlite-20251231T235959Z.db");
        assert_eq!(file_name(4_107_542_400), "authlite-21000301T000000Z.db");
    }

    #[test]
    fn only_our_names_are_backups() {
        assert!(is_backup("authlite-20251231T235959Z.db"));
        for other in [
            "authlite-20251231T235959Z.db-wal",
            "authlite-2025123T235959Z.db",
            ".authlite-20251231T235959Z.db.12-34.partial",
            "authlite.db",
            "authlite-20251231X235959Z.db",
        ] {
            assert!(!is_backup(other), "{other}");
        }
        assert_eq!(
            abandoned_by(".authlite-20251231T235959Z.db.1234-5678.partial-wal"),
            Some("1234")
        );
        assert_eq!(abandoned_by(".other.db.1234-5678.partial"), None);
    }

    #[test]
    fn the_newest_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        for t in [10, 20, 30, 40] {
            fs::write(dir.path().join(file_name(t)), b"x").unwrap();
        }
        fs::write(dir.path().join("authlite.db"), b"x").unwrap();
        keep_newest(dir.path(), 2).unwrap();
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, [file_name(30), file_name(40), "authlite.db".into()]);
    }
}
