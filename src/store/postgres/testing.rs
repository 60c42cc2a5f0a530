//! For tests against a real PostgreSQL server: `AUTHLITE_TEST_POSTGRES` holds
//! an admin URL (a role that may create databases), and each test gets a
//! database of its own, made with a random name and dropped after it.
//! Without the variable a test prints a loud banner and passes; with
//! `AUTHLITE_REQUIRE_POSTGRES=1` (as in `.ci/run`) it fails instead.

use std::io::Write;

use super::url;

/// A database made for one test; dropped (with its connections) when this is.
pub struct TestDatabase {
    /// Its URL: the admin URL with the database name replaced.
    pub url: String,
    admin: String,
    name: String,
}

/// A new, empty database, or None (after the banner) when there is no
/// PostgreSQL to test against.
pub fn database(test: &str) -> Option<TestDatabase> {
    let Some(admin) = std::env::var("AUTHLITE_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        let why = "AUTHLITE_TEST_POSTGRES is not set (an admin URL such as \
                   postgres://authlite:authlite@127.0.0.1:5432/postgres)";
        if std::env::var("AUTHLITE_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            panic!("AUTHLITE_REQUIRE_POSTGRES=1 but {why}");
        }
        // Straight to the process's stderr, once: `eprintln!` would be captured
        // by the test harness and never shown for a passing test.
        static BANNER: std::sync::Once = std::sync::Once::new();
        BANNER.call_once(|| {
            let line = "=".repeat(78);
            let _ = writeln!(
                std::io::stderr(),
                "\n{line}\nPostgreSQL tests are SKIPPED (first: {test}): {why}.\n\
                 AUTHLITE_REQUIRE_POSTGRES=1 makes them fail instead.\n{line}\n"
            );
        });
        return None;
    };
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).expect("the system's random numbers");
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let name = format!("authlite_test_{suffix}");
    admin_sql(&admin, &format!("CREATE DATABASE {name}"));
    Some(TestDatabase {
        url: with_database(&admin, &name),
        admin,
        name,
    })
}

impl TestDatabase {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `sql` as the admin role, on the admin URL's database.
    pub fn admin(&self, sql: &str) {
        admin_sql(&self.admin, sql);
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        admin_sql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Runs `sql` on the database of `url`, under the store.
pub fn run(url: &str, sql: &str) {
    admin_sql(url, sql);
}

fn admin_sql(admin: &str, sql: &str) {
    let target = url::parse(admin).expect("AUTHLITE_TEST_POSTGRES is a usable URL");
    let mut client = target
        .config
        .connect(target.tls)
        .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", target.name));
    client
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql} on {}: {e:?}", target.name));
}

/// `url` naming database `name` instead of its own.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}
