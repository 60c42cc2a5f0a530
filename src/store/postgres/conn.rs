//! One pooled connection with its prepared statements, and the pool's
//! connection manager.

use std::collections::HashMap;
use std::sync::Arc;

use postgres::types::ToSql;
use postgres::{Client, Row, Statement};

use super::url::Target;
use crate::store::{Result, StoreError};

/// One connection and the statements prepared on it, so that a query is one
/// round trip (bind and execute) after its first use on the connection.
pub struct Conn {
    /// None only once dropped.
    live: Option<Live>,
    /// Where to connect again when the server has closed this connection.
    target: Arc<Target>,
    /// Just handed out by the pool: nothing has run on it since.
    fresh: bool,
}

struct Live {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];
type Outcome<T> = std::result::Result<T, postgres::Error>;

impl Conn {
    pub fn new(client: Client, target: Arc<Target>) -> Conn {
        Conn {
            live: Some(Live::new(client)),
            target,
            fresh: false,
        }
    }

    /// The client itself, for tests that look under the store.
    #[cfg(test)]
    pub fn raw(&mut self) -> &mut Client {
        &mut self.live.as_mut().unwrap().client
    }

    fn is_closed(&self) -> bool {
        self.live
            .as_ref()
            .is_none_or(|live| live.client.is_closed())
    }

    /// Runs `call`. The pool hands a connection out without asking the server
    /// whether it is still there (that would cost a round trip per request):
    /// instead, when the first call on it finds the server gone (a database
    /// restart ends every connection), it connects again once and repeats the
    /// call. Nothing ran on the old connection, so the repeat is safe.
    fn run<T>(&mut self, call: impl Fn(&mut Live) -> Outcome<T>) -> Result<T> {
        let first = std::mem::replace(&mut self.fresh, false);
        let Some(live) = self.live.as_mut() else {
            return Err(StoreError::Failed("the connection is closed".into()));
        };
        let done = match call(live) {
            Err(e) if first && connection_lost(&e) => match self.reconnect() {
                Some(live) => call(live),
                None => Err(e),
            },
            done => done,
        };
        if let (Err(e), Some(live)) = (&done, self.live.as_mut()) {
            live.forget_stale_statements(e);
        }
        Ok(done?)
    }

    fn reconnect(&mut self) -> Option<&mut Live> {
        let client = self.target.config.connect(self.target.tls.clone()).ok()?;
        if let Some(old) = self.live.replace(Live::new(client)) {
            close_elsewhere(old.client);
        }
        self.live.as_mut()
    }

    /// Statements without parameters or results (BEGIN, COMMIT, ROLLBACK).
    pub fn batch(&mut self, sql: &str) -> Result<()> {
        self.run(|live| live.client.batch_execute(sql))
    }

    pub fn query(&mut self, sql: &'static str, params: Params) -> Result<Vec<Row>> {
        self.run(|live| {
            let statement = live.statement(sql)?;
            live.client.query(&statement, params)
        })
    }

    pub fn query_opt(&mut self, sql: &'static str, params: Params) -> Result<Option<Row>> {
        self.run(|live| {
            let statement = live.statement(sql)?;
            live.client.query_opt(&statement, params)
        })
    }

    pub fn query_one(&mut self, sql: &'static str, params: Params) -> Result<Row> {
        self.run(|live| {
            let statement = live.statement(sql)?;
            live.client.query_one(&statement, params)
        })
    }

    /// Rows changed.
    pub fn execute(&mut self, sql: &'static str, params: Params) -> Result<u64> {
        self.run(|live| {
            let statement = live.statement(sql)?;
            live.client.execute(&statement, params)
        })
    }
}

impl Live {
    fn new(client: Client) -> Live {
        Live {
            client,
            statements: HashMap::new(),
        }
    }

    fn statement(&mut self, sql: &'static str) -> Outcome<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// A statement the server no longer has (or whose plan a schema change
    /// made stale) is prepared again on its next use.
    fn forget_stale_statements(&mut self, e: &postgres::Error) {
        use postgres::error::SqlState;
        if matches!(
            e.code(),
            Some(&SqlState::FEATURE_NOT_SUPPORTED | &SqlState::INVALID_SQL_STATEMENT_NAME)
        ) {
            self.statements.clear();
        }
    }
}

/// Whether the server is gone from under the connection (it ended it, or the
/// socket failed), as opposed to refusing a statement.
fn connection_lost(e: &postgres::Error) -> bool {
    let ended_by_server = e.code().is_some_and(|code| {
        let code = code.code();
        code.starts_with("08") || matches!(code, "57P01" | "57P02")
    });
    ended_by_server || e.is_closed() || super::has_io_cause(e)
}

/// Closing a connection blocks on its own small runtime, which panics on a
/// thread that is running async tasks (a pool dropped inside an actix system):
/// so it is closed on a thread of its own.
fn close_elsewhere(client: Client) {
    let _ = std::thread::Builder::new()
        .name("authlite-pg-close".into())
        .spawn(move || drop(client));
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(live) = self.live.take() {
            close_elsewhere(live.client);
        }
    }
}

/// The pool's connection manager: connects with the URL's settings. A
/// connection is checked on checkout only by what the client already knows
/// (no round trip); one the server has closed since is found by its first
/// statement (see `Conn::run`).
pub struct Manager {
    pub target: Arc<Target>,
}

/// Why the pool could not make or keep a connection, in the server's own
/// words (the client library's `Display` of a server error is only "db error").
#[derive(Debug)]
pub struct ConnectError(String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = ConnectError;

    fn connect(&self) -> std::result::Result<Conn, ConnectError> {
        let client = self
            .target
            .config
            .connect(self.target.tls.clone())
            .map_err(|e| ConnectError(super::describe(&e)))?;
        Ok(Conn::new(client, self.target.clone()))
    }

    fn is_valid(&self, conn: &mut Conn) -> std::result::Result<(), ConnectError> {
        conn.fresh = true;
        match self.has_broken(conn) {
            true => Err(ConnectError("the connection is closed".into())),
            false => Ok(()),
        }
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.is_closed()
    }
}
