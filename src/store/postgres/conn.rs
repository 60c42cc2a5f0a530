//! One pooled connection with its prepared statements, and the pool's
//! connection manager.

use std::collections::HashMap;
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, Row, Statement};

use super::url::Target;
use crate::store::{Result, StoreError};

/// How long a validity check on checkout may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// One connection and the statements prepared on it, so that a query is one
/// round trip (bind and execute) after its first use on the connection.
pub struct Conn {
    /// None only once dropped.
    client: Option<Client>,
    statements: HashMap<&'static str, Statement>,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl Conn {
    pub fn new(client: Client) -> Conn {
        Conn {
            client: Some(client),
            statements: HashMap::new(),
        }
    }

    fn client(&mut self) -> Result<&mut Client> {
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::Failed("the connection is closed".into()))
    }

    /// The client itself, for tests that look under the store.
    #[cfg(test)]
    pub fn raw(&mut self) -> &mut Client {
        self.client.as_mut().unwrap()
    }

    /// Statements without parameters or results (BEGIN, COMMIT, ROLLBACK).
    pub fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.client()?.batch_execute(sql)?)
    }

    fn statement(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client()?.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// A statement the server no longer has (or whose plan a schema change
    /// made stale) is prepared again on its next use.
    fn checked<T>(&mut self, done: std::result::Result<T, postgres::Error>) -> Result<T> {
        use postgres::error::SqlState;
        if let Err(e) = &done {
            if matches!(
                e.code(),
                Some(&SqlState::FEATURE_NOT_SUPPORTED | &SqlState::INVALID_SQL_STATEMENT_NAME)
            ) {
                self.statements.clear();
            }
        }
        Ok(done?)
    }

    pub fn query(&mut self, sql: &'static str, params: Params) -> Result<Vec<Row>> {
        let statement = self.statement(sql)?;
        let rows = self.client()?.query(&statement, params);
        self.checked(rows)
    }

    pub fn query_opt(&mut self, sql: &'static str, params: Params) -> Result<Option<Row>> {
        let statement = self.statement(sql)?;
        let row = self.client()?.query_opt(&statement, params);
        self.checked(row)
    }

    pub fn query_one(&mut self, sql: &'static str, params: Params) -> Result<Row> {
        let statement = self.statement(sql)?;
        let row = self.client()?.query_one(&statement, params);
        self.checked(row)
    }

    /// Rows changed.
    pub fn execute(&mut self, sql: &'static str, params: Params) -> Result<u64> {
        let statement = self.statement(sql)?;
        let changed = self.client()?.execute(&statement, params);
        self.checked(changed)
    }
}

/// Closing a connection blocks on its own small runtime, which panics on a
/// thread that is running async tasks (a pool dropped inside an actix system):
/// so it is closed on a thread of its own.
impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = std::thread::Builder::new()
                .name("authlite-pg-close".into())
                .spawn(move || drop(client));
        }
    }
}

/// The pool's connection manager: connects with the URL's settings and checks
/// a connection (one empty query, at most CHECK_TIMEOUT) before handing it out,
/// so that one a database restart has closed is replaced, not used.
pub struct Manager {
    pub target: Target,
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
        Ok(Conn::new(client))
    }

    fn is_valid(&self, conn: &mut Conn) -> std::result::Result<(), ConnectError> {
        match conn.client.as_mut() {
            Some(client) => client
                .is_valid(CHECK_TIMEOUT)
                .map_err(|e| ConnectError(super::describe(&e))),
            None => Ok(()),
        }
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.as_ref().is_none_or(Client::is_closed)
    }
}
