//! Who is calling the admin API, and whether they may do what they ask: the
//! access token of a user holding the role `admin`, or an API key (`alk_…`)
//! holding the scope.

use std::time::Instant;

use crate::api_keys;
use crate::clock::now;
use crate::error::{ApiError, ErrorCode};
use crate::routes::session;
use crate::state::AppState;
use crate::store::{ApiKey, Store};

/// The role that opens the admin API.
pub const ADMIN_ROLE: &str = "admin";

/// Who is calling the admin API.
#[derive(Clone, Debug)]
pub enum Caller {
    /// An admin user, by id.
    User(String),
    /// An API key, by id.
    ApiKey(String),
}

impl Caller {
    /// The audit log's `actor` (SPEC §8): `user:ID` or `apikey:ID`.
    pub fn actor(&self) -> String {
        match self {
            Caller::User(id) => format!("user:{id}"),
            Caller::ApiKey(id) => format!("apikey:{id}"),
        }
    }
}

/// What an endpoint needs (SPEC §8, the API keys table).
// The users, audit and clients endpoints (built beside this file) use the rest.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    UsersRead,
    UsersWrite,
    AuditRead,
    ClientsWrite,
    /// Only admin users, never a key.
    ApiKeys,
}

impl Scope {
    /// The scope a key must hold for it; None: no key may.
    fn key_scope(self) -> Option<&'static str> {
        match self {
            Scope::UsersRead => Some("users:read"),
            Scope::UsersWrite => Some("users:write"),
            Scope::AuditRead => Some("audit:read"),
            Scope::ClientsWrite => Some("clients:write"),
            Scope::ApiKeys => None,
        }
    }
}

/// Reads `Authorization: Bearer X` and decides: 401 as for `/user/me` (for
/// a key: INVALID_TOKEN unknown, TOKEN_EXPIRED, TOKEN_REVOKED), 403 FORBIDDEN
/// for a user without the `admin` role or a key without the scope. Run it
/// inside `routes::blocking`.
pub fn authorize(
    state: &AppState,
    store: &mut dyn Store,
    req_bearer: Option<&str>,
    scope: Scope,
) -> Result<Caller, ApiError> {
    let bearer = req_bearer.ok_or_else(|| ApiError::new(ErrorCode::MissingToken))?;
    if api_keys::is_api_key(bearer) {
        let key = live_key(state, store, bearer)?;
        let allowed = scope
            .key_scope()
            .is_some_and(|needed| api_keys::grants(&key.scopes, needed));
        return match allowed {
            true => Ok(Caller::ApiKey(key.id)),
            false => Err(ApiError::new(ErrorCode::Forbidden)),
        };
    }
    let (user, _) = session::authenticate(state, store, bearer)?;
    match user.roles.iter().any(|role| role == ADMIN_ROLE) {
        true => Ok(Caller::User(user.id)),
        false => Err(ApiError::new(ErrorCode::Forbidden)),
    }
}

/// The key behind `bearer`, if it is neither unknown, revoked nor expired;
/// read from the key cache when it was read within its `FRESH`.
fn live_key(state: &AppState, store: &mut dyn Store, bearer: &str) -> Result<ApiKey, ApiError> {
    let digest = api_keys::digest(bearer);
    let found = match state.api_keys.get(&digest) {
        Some(found) => found,
        None => {
            let (epoch, read_at) = (state.api_keys.epoch(), Instant::now());
            let found = store.find_api_key(&digest)?;
            state.api_keys.put(epoch, &digest, found.clone(), read_at);
            found
        }
    };
    let key = found.ok_or_else(|| ApiError::new(ErrorCode::InvalidToken))?;
    let now = now();
    if key.revoked_at.is_some() {
        return Err(ApiError::new(ErrorCode::TokenRevoked));
    }
    if key.expires_at.is_some_and(|at| at <= now) {
        return Err(ApiError::new(ErrorCode::TokenExpired));
    }
    state.api_keys.note_use(&key, now);
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;
    use crate::store::Database;

    struct Fixture {
        state: AppState,
        _folder: tempfile::TempDir,
    }

    fn fixture() -> Fixture {
        let folder = tempfile::tempdir().unwrap();
        let db = Database::sqlite(&folder.path().join("auth.sqlite")).unwrap();
        let settings = Settings {
            pbkdf2_iterations: 1000,
            ..Settings::default()
        };
        let state = AppState::new(db, settings).unwrap();
        Fixture {
            state,
            _folder: folder,
        }
    }

    /// Stores a key holding `scopes`, and gives its secret.
    fn key(state: &AppState, id: &str, scopes: &[&str], expires_at: Option<u64>) -> String {
        let (secret, digest) = api_keys::new_key().unwrap();
        let key = ApiKey {
            id: id.into(),
            name: id.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            created_at: now(),
            expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        state
            .db
            .transaction(|s| s.insert_api_key(&key, &digest))
            .unwrap();
        secret
    }

    fn answer(state: &AppState, bearer: Option<&str>, scope: Scope) -> Result<String, ErrorCode> {
        state
            .db
            .read(|store| Ok(authorize(state, store, bearer, scope)))
            .map_err(|e: ApiError| e.code)?
            .map(|caller| caller.actor())
            .map_err(|e| e.code)
    }

    #[test]
    fn each_key_scope_opens_exactly_what_the_spec_says() {
        use Scope::*;
        let f = fixture();
        let everything = [UsersRead, UsersWrite, AuditRead, ClientsWrite, ApiKeys];
        let cases: [(&str, &[Scope]); 4] = [
            ("users:read", &[UsersRead]),
            ("users:write", &[UsersRead, UsersWrite]),
            ("audit:read", &[AuditRead]),
            ("clients:write", &[ClientsWrite]),
        ];
        for (i, (scope, opens)) in cases.iter().enumerate() {
            let id = format!("k{i}");
            let secret = key(&f.state, &id, &[scope], None);
            for needed in everything {
                let expected = match opens.contains(&needed) {
                    true => Ok(format!("apikey:{id}")),
                    false => Err(ErrorCode::Forbidden),
                };
                assert_eq!(
                    answer(&f.state, Some(&secret), needed),
                    expected,
                    "{scope} {needed:?}"
                );
            }
        }
        let all = key(&f.state, "all", &api_keys::SCOPES, None);
        assert_eq!(
            answer(&f.state, Some(&all), ApiKeys),
            Err(ErrorCode::Forbidden)
        );
    }

    #[test]
    fn a_key_unknown_expired_or_revoked_is_refused_with_its_code() {
        let f = fixture();
        let state = &f.state;
        assert_eq!(
            answer(state, None, Scope::UsersRead),
            Err(ErrorCode::MissingToken)
        );
        let unknown = api_keys::new_key().unwrap().0;
        assert_eq!(
            answer(state, Some(&unknown), Scope::UsersRead),
            Err(ErrorCode::InvalidToken)
        );
        let expired = key(state, "old", &["users:read"], Some(now() - 1));
        assert_eq!(
            answer(state, Some(&expired), Scope::UsersRead),
            Err(ErrorCode::TokenExpired)
        );
        let live = key(state, "live", &["users:read"], Some(now() + 100));
        assert_eq!(
            answer(state, Some(&live), Scope::UsersRead),
            Ok("apikey:live".into())
        );
        state
            .db
            .transaction(|s| s.revoke_api_key("live", now()))
            .unwrap();
        // Read within FRESH, the key is still in the cache: a revocation made
        // elsewhere is seen once it goes stale; one made here clears it.
        state.api_keys.clear();
        assert_eq!(
            answer(state, Some(&live), Scope::UsersRead),
            Err(ErrorCode::TokenRevoked)
        );
    }

    #[test]
    fn a_cached_key_is_answered_without_the_database_until_it_goes_stale() {
        let f = fixture();
        let state = &f.state;
        let secret = key(state, "k", &["users:read"], None);
        assert_eq!(
            answer(state, Some(&secret), Scope::UsersRead),
            Ok("apikey:k".into())
        );
        // Revoked behind the cache's back, as another process would.
        state
            .db
            .transaction(|s| s.revoke_api_key("k", now()))
            .unwrap();
        assert_eq!(
            answer(state, Some(&secret), Scope::UsersRead),
            Ok("apikey:k".into())
        );
        std::thread::sleep(crate::api_keys::cache::FRESH);
        assert_eq!(
            answer(state, Some(&secret), Scope::UsersRead),
            Err(ErrorCode::TokenRevoked)
        );
        let uses = state.api_keys.take_uses();
        assert_eq!(uses.iter().map(|u| u.0.as_str()).collect::<Vec<_>>(), ["k"]);
    }
}
