//! Between Rust values and columns: a value of the wrong type or sign is an
//! error, never a panic.

use postgres::Row;

use crate::store::{Result, StoreError};

pub fn text(row: &Row, i: usize) -> Result<String> {
    Ok(row.try_get(i)?)
}

pub fn opt_text(row: &Row, i: usize) -> Result<Option<String>> {
    Ok(row.try_get(i)?)
}

pub fn bytes(row: &Row, i: usize) -> Result<Vec<u8>> {
    Ok(row.try_get(i)?)
}

pub fn opt_bytes(row: &Row, i: usize) -> Result<Option<Vec<u8>>> {
    Ok(row.try_get(i)?)
}

pub fn time(row: &Row, i: usize) -> Result<u64> {
    let value: i64 = row.try_get(i)?;
    u64::try_from(value)
        .map_err(|_| StoreError::Failed(format!("a stored time is negative ({value})")))
}

pub fn opt_time(row: &Row, i: usize) -> Result<Option<u64>> {
    let value: Option<i64> = row.try_get(i)?;
    value
        .map(|v| {
            u64::try_from(v)
                .map_err(|_| StoreError::Failed(format!("a stored time is negative ({v})")))
        })
        .transpose()
}

/// A time as BIGINT (times before the year 292 billion fit).
pub fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub fn count(changed: u64) -> usize {
    usize::try_from(changed).unwrap_or(usize::MAX)
}
