//! The admin API (SPEC §8): who may call it (`auth`), and a file per area.

pub(crate) mod api_keys;
pub(crate) mod auth;
