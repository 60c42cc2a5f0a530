//! PostgreSQL: several authlite instances on one database.

use super::{Store, StoreError};

/// Whether `target` names a PostgreSQL database rather than an SQLite file.
pub fn is_url(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

/// An open PostgreSQL database: a pool of connections.
pub struct Db {
    name: String,
}

impl Db {
    pub fn open(url: &str) -> Result<Db, String> {
        Err(format!(
            "{url}: PostgreSQL is not supported by this build yet"
        ))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn read<T, E: From<StoreError>>(
        &self,
        _work: impl FnOnce(&mut dyn Store) -> Result<T, E>,
    ) -> Result<T, E> {
        Err(StoreError::Failed("PostgreSQL is not supported by this build yet".into()).into())
    }

    pub fn transaction<T, E: From<StoreError>>(
        &self,
        _work: impl FnOnce(&mut dyn Store) -> Result<T, E>,
    ) -> Result<T, E> {
        Err(StoreError::Failed("PostgreSQL is not supported by this build yet".into()).into())
    }

    pub fn can_write(&self) -> Result<(), StoreError> {
        Err(StoreError::Failed(
            "PostgreSQL is not supported by this build yet".into(),
        ))
    }
}
