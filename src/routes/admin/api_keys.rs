//! GET, POST /admin/api-keys and DELETE /admin/api-keys/{id}: admin users
//! only, never a key (SPEC §8).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::auth::Caller;
use super::auth::{authorize, Scope};
use crate::api_keys;
use crate::clock::now;
use crate::error::{ApiError, ErrorBody, ErrorCode, SuccessBody};
use crate::ids::new_id;
use crate::routes::{blocking, json_body, optional_bearer, origin};
use crate::state::AppState;
use crate::store::audit::revoke_api_key;
use crate::store::{ApiKey, AuditEvent, Origin};

/// Longest lifetime a key may be given, in seconds (10 years, as every lifetime).
const MAX_TTL: u64 = 315_360_000;

/// An API key as the admin API shows it: never the key itself.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    id: String,
    name: String,
    /// `users:read`, `users:write`, `audit:read`, `clients:write`
    scopes: Vec<String>,
    /// Unix seconds
    created_at: u64,
    /// Unix seconds; null: it never expires
    expires_at: Option<u64>,
    /// Unix seconds, recorded at most once a minute; null: never used
    last_used_at: Option<u64>,
    /// Unix seconds; null: not revoked
    revoked_at: Option<u64>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(key: ApiKey) -> ApiKeyView {
        ApiKeyView {
            id: key.id,
            name: key.name,
            scopes: key.scopes,
            created_at: key.created_at,
            expires_at: key.expires_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeysBody {
    success: bool,
    /// Newest first, revoked and expired ones too
    api_keys: Vec<ApiKeyView>,
}

#[utoipa::path(get, path = "/admin/api-keys", tag = "admin", operation_id = "listApiKeys", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every API key, newest first", body = ApiKeysBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin user (an API key never is)", body = ErrorBody),
    ))]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let bearer = optional_bearer(&req)?;
    let keys = blocking(&state, move |state, store| {
        authorize(state, store, bearer.as_deref(), Scope::ApiKeys)?;
        Ok(store.list_api_keys()?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ApiKeysBody {
        success: true,
        api_keys: keys.into_iter().map(ApiKeyView::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateApiKeyRequest {
    /// 1-100 characters
    name: String,
    /// At least one of `users:read`, `users:write`, `audit:read`, `clients:write`
    scopes: Vec<String>,
    /// Seconds it stays valid (1-315360000); without it, until revoked
    #[schema(minimum = 1, maximum = 315_360_000)]
    #[serde(default, deserialize_with = "crate::routes::whole_seconds")]
    ttl: Option<u64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKeyBody {
    success: bool,
    api_key: ApiKeyView,
    /// The key (`alk_…`), shown this once: only its digest is kept
    key: String,
}

#[utoipa::path(post, path = "/admin/api-keys", tag = "admin", operation_id = "createApiKey", security(("bearer" = [])),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "The key, shown this once", body = CreatedApiKeyBody),
        (status = 400, description = "INVALID_REQUEST: a bad name, scope or ttl", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin user (an API key never is)", body = ErrorBody),
    ))]
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let bearer = optional_bearer(&req)?;
    let origin = origin(&req, &state.settings.trusted_proxies);
    let body: CreateApiKeyRequest = json_body(&req, payload).await?;
    let (key, secret) = blocking(&state, move |state, store| {
        let caller = authorize(state, store, bearer.as_deref(), Scope::ApiKeys)?;
        let (key, secret, digest) = new_key(body)?;
        let stored = key.clone();
        let created = key_event("apikey.created", &key.id, &caller, &origin);
        state.db.write(move |store| {
            store.insert_api_key(&stored, &digest)?;
            store.append_event(&created)
        })?;
        log::info!("API key {} created by {}", key.id, caller.actor());
        Ok((key, secret))
    })
    .await?;
    Ok(HttpResponse::Created().json(CreatedApiKeyBody {
        success: true,
        api_key: ApiKeyView::from(key),
        key: secret,
    }))
}

/// The key the request describes, its secret, and the digest to store.
fn new_key(body: CreateApiKeyRequest) -> Result<(ApiKey, String, Vec<u8>), ApiError> {
    let name = api_keys::check_name(&body.name).map_err(|why| invalid(&why))?;
    let scopes = api_keys::scope_list(&body.scopes).map_err(|why| invalid(&why))?;
    if body.ttl.is_some_and(|ttl| !(1..=MAX_TTL).contains(&ttl)) {
        return Err(invalid(&format!(
            "ttl is not within 1 to {MAX_TTL} seconds"
        )));
    }
    let (secret, digest) = api_keys::new_key().map_err(ApiError::internal)?;
    let now = now();
    let key = ApiKey {
        id: new_id(),
        name,
        scopes,
        created_at: now,
        expires_at: body.ttl.map(|ttl| now.saturating_add(ttl)),
        last_used_at: None,
        revoked_at: None,
    };
    Ok((key, secret, digest))
}

/// A sentence of `api_keys` as the message of a 400.
fn invalid(why: &str) -> ApiError {
    let mut chars = why.chars();
    let sentence: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    ApiError::invalid_request(format!("{sentence}."))
}

#[utoipa::path(delete, path = "/admin/api-keys/{id}", tag = "admin", operation_id = "revokeApiKey", security(("bearer" = [])),
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = 200, description = "The key is revoked (one revoked already stays so)", body = SuccessBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin user (an API key never is)", body = ErrorBody),
        (status = 404, description = "API_KEY_NOT_FOUND", body = ErrorBody),
    ))]
pub async fn revoke(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let bearer = optional_bearer(&req)?;
    let origin = origin(&req, &state.settings.trusted_proxies);
    let id = id.into_inner();
    blocking(&state, move |state, store| {
        let caller = authorize(state, store, bearer.as_deref(), Scope::ApiKeys)?;
        let revoked = key_event("apikey.revoked", &id, &caller, &origin);
        let found = state.db.write({
            let id = id.clone();
            move |store| revoke_api_key(store, &id, &revoked)
        })?;
        // The key is refused by this server from now on, not within FRESH.
        state.api_keys.clear();
        if !found {
            return Err(ApiError::new(ErrorCode::ApiKeyNotFound));
        }
        log::info!("API key {id} revoked by {}", caller.actor());
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

/// `apikey.created` or `apikey.revoked` (SPEC §8), by an admin user.
fn key_event(kind: &str, key_id: &str, caller: &Caller, origin: &Origin) -> AuditEvent {
    let detail = json!({ "apiKeyId": key_id });
    AuditEvent::new(kind, caller.actor(), now(), detail).origin(origin)
}
