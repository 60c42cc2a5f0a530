//! One stored value on its way between engines, and how each engine takes it.

use std::error::Error;

use postgres::types::{IsNull, ToSql, Type};
use rusqlite::types::{ToSqlOutput, ValueRef};

/// A value as read from either engine. SQLite has no booleans (0 and 1) and
/// PostgreSQL's integers come in three widths; each side converts to the
/// column it writes into.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
}

/// The PostgreSQL column types a copy reads and writes: those the schema
/// steps use (BIGINT, TEXT, BYTEA), and their plain neighbours. Another type
/// is refused by name before anything is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PgKind {
    Int8,
    Int4,
    Int2,
    Float8,
    Float4,
    Bool,
    Text,
    Bytes,
}

impl PgKind {
    pub fn of(ty: &Type) -> Option<PgKind> {
        let kinds = [
            (Type::INT8, PgKind::Int8),
            (Type::INT4, PgKind::Int4),
            (Type::INT2, PgKind::Int2),
            (Type::FLOAT8, PgKind::Float8),
            (Type::FLOAT4, PgKind::Float4),
            (Type::BOOL, PgKind::Bool),
            (Type::TEXT, PgKind::Text),
            (Type::VARCHAR, PgKind::Text),
            (Type::BPCHAR, PgKind::Text),
            (Type::BYTEA, PgKind::Bytes),
        ];
        kinds.iter().find(|(t, _)| t == ty).map(|&(_, kind)| kind)
    }
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "integer",
            Value::Real(_) => "real",
            Value::Text(_) => "text",
            Value::Bytes(_) => "blob",
            Value::Bool(_) => "boolean",
        }
    }

    /// From a value SQLite read.
    pub fn from_sqlite(value: ValueRef<'_>) -> Value {
        match value {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Int(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => match std::str::from_utf8(t) {
                Ok(text) => Value::Text(text.to_owned()),
                Err(_) => Value::Bytes(t.to_vec()),
            },
            ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
        }
    }
}

type Failure = Box<dyn Error + Sync + Send>;

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Failure> {
        let Some(kind) = PgKind::of(ty) else {
            return Err(format!("copy does not write columns of type {ty}").into());
        };
        match (self, kind) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(i), PgKind::Int8) => i.to_sql(ty, out),
            (Value::Int(i), PgKind::Int4) => i32::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), PgKind::Int2) => i16::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), PgKind::Bool) => (*i != 0).to_sql(ty, out),
            // Integers in a REAL column stay exact up to 2^53, as in SQLite.
            #[allow(clippy::cast_precision_loss)]
            (Value::Int(i), PgKind::Float8) => (*i as f64).to_sql(ty, out),
            (Value::Real(f), PgKind::Float8) => f.to_sql(ty, out),
            #[allow(clippy::cast_possible_truncation)]
            (Value::Real(f), PgKind::Float4) => (*f as f32).to_sql(ty, out),
            (Value::Bool(b), PgKind::Bool) => b.to_sql(ty, out),
            (Value::Bool(b), PgKind::Int8) => i64::from(*b).to_sql(ty, out),
            (Value::Bool(b), PgKind::Int4) => i32::from(*b).to_sql(ty, out),
            (Value::Bool(b), PgKind::Int2) => i16::from(*b).to_sql(ty, out),
            (Value::Text(s), PgKind::Text) => s.as_str().to_sql(ty, out),
            // SQLite keeps text in a BLOB column as text (meta.healthz).
            (Value::Text(s), PgKind::Bytes) => s.as_bytes().to_sql(ty, out),
            (Value::Bytes(b), PgKind::Bytes) => b.as_slice().to_sql(ty, out),
            (Value::Bytes(b), PgKind::Text) => std::str::from_utf8(b)?.to_sql(ty, out),
            (value, _) => Err(format!("a {} cannot go into a {ty} column", value.kind()).into()),
        }
    }

    fn accepts(ty: &Type) -> bool {
        PgKind::of(ty).is_some()
    }

    postgres::types::to_sql_checked!();
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
        })
    }
}
