//! A PostgreSQL cluster of a test's own, in a temp dir, that the test may stop
//! and start: `initdb`, then `pg_ctl start`/`stop` on a free port, run as the
//! `postgres` user (through `runuser`) when the test runs as root.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::harness::skip;

pub struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
    as_postgres: bool,
}

impl Cluster {
    /// A new cluster, running; `None` (after the banner) without PostgreSQL's binaries.
    pub fn start_new() -> Option<Cluster> {
        let Some(bin) = server_binaries() else {
            skip(
                "no initdb, pg_ctl and postgres under /usr/lib/postgresql/*/bin or on PATH \
                  for the outage test's own cluster (apt-get install postgresql)",
            );
            return None;
        };
        let as_postgres = is_root();
        let dir = tempfile::tempdir().expect("a temp dir");
        if as_postgres {
            // initdb refuses to run as root; the cluster belongs to `postgres`.
            let owned = Command::new("chown")
                .args(["postgres:", &dir.path().display().to_string()])
                .status()
                .expect("run chown");
            assert!(owned.success(), "chown postgres: {}", dir.path().display());
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Cluster {
            bin,
            dir,
            port,
            as_postgres,
        };
        let data = cluster.data().display().to_string();
        cluster.run_ok(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--no-locale",
            ],
        );
        cluster.start();
        Some(cluster)
    }

    /// The admin URL of this cluster (trust authentication on 127.0.0.1).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts the cluster and waits until it accepts connections.
    pub fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let data = self.data().display().to_string();
        let log = self.dir.path().join("postgres.log").display().to_string();
        self.run_ok(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "30", "start",
            ],
        );
    }

    /// Stops the cluster at once, as a crash or a network cut would: every
    /// connection is cut, nothing is waited for.
    pub fn stop(&self) {
        let data = self.data().display().to_string();
        self.run_ok("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let program = self.bin.join(tool);
        let mut cmd = match self.as_postgres {
            true => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", "postgres", "--"]).arg(&program);
                cmd
            }
            false => Command::new(&program),
        };
        cmd.args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
    }

    #[track_caller]
    fn run_ok(&self, tool: &str, args: &[&str]) {
        let out = self.run(tool, args);
        assert!(
            out.status.success(),
            "{tool} {args:?} failed:\n{}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The directory of the newest installed server binaries.
fn server_binaries() -> Option<PathBuf> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|tool| dir.join(tool).is_file())
    };
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_all(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|dir| has_all(dir))
}
