//! The signed-in user's passkeys (SPEC §11): a registration begun and
//! finished, the list, and removal.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::pair::token_response;
use super::session::authenticate;
use super::{bearer, blocking, json_body, origin};
use crate::clock::now;
use crate::error::{ApiError, ErrorBody, ErrorCode, SuccessBody};
use crate::ids::new_id;
use crate::mfa::passkeys::{Refusal, CEREMONY_TTL};
use crate::password::link;
use crate::state::AppState;
use crate::store::audit::user_actor;
use crate::store::{AuditEvent, Ceremony, CeremonyKind, StoredPasskey};

/// The longest passkey name kept, in characters.
const MAX_NAME: usize = 100;

/// A ceremony begun: its id, and the options for the browser.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CeremonyBody {
    success: bool,
    /// Sent back with the credential to finish the ceremony (within 300 s, once).
    ceremony_id: String,
    /// The JSON form of `PublicKeyCredentialCreationOptions` (registration) or
    /// `PublicKeyCredentialRequestOptions` (sign-in), binary fields base64url:
    /// what `PublicKeyCredential.parseCreationOptionsFromJSON` /
    /// `parseRequestOptionsFromJSON` take.
    #[schema(value_type = Object)]
    public_key: Value,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyView {
    id: String,
    name: String,
    created_at: u64,
    last_used_at: Option<u64>,
}

impl From<&StoredPasskey> for PasskeyView {
    fn from(p: &StoredPasskey) -> PasskeyView {
        PasskeyView {
            id: p.id.clone(),
            name: p.name.clone(),
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PasskeyBody {
    success: bool,
    passkey: PasskeyView,
}

#[derive(Serialize, ToSchema)]
pub struct PasskeysBody {
    success: bool,
    passkeys: Vec<PasskeyView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterFinishRequest {
    // No examples here: an example is a request schemathesis expects to be
    // taken, and no example credential can be (it is 400 INVALID_CREDENTIAL).
    /// The `ceremonyId` of POST /user/passkeys/register.
    ceremony_id: String,
    /// The created credential's JSON form (`credential.toJSON()`).
    #[schema(value_type = Object)]
    credential: Value,
    /// A name to tell it by (default "Passkey"), at most 100 characters.
    name: Option<String>,
}

#[utoipa::path(post, path = "/user/passkeys/register", operation_id = "register_passkey", tag = "passkeys", security(("bearer" = [])),
    responses(
        (status = 200, description = "A registration begun: options for navigator.credentials.create", body = CeremonyBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 501, description = "PASSKEYS_UNAVAILABLE: --public-url names an IP address, which no browser takes as relying party", body = ErrorBody),
    ))]
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req)?;
    let body = blocking(&state, move |state, store| {
        let (user, _) = authenticate(state, store, &token)?;
        let exclude = store
            .list_passkeys(&user.id)?
            .into_iter()
            .map(|p| p.credential_id)
            .collect();
        let (public_key, rp_state) = state
            .relying_party
            .start_registration(&user.id, &user.email, &user.name, exclude)
            .map_err(refusal)?;
        let ceremony_id = begin(state, CeremonyKind::Register, Some(user.id), rp_state)?;
        Ok(CeremonyBody::new(ceremony_id, public_key))
    })
    .await?;
    ceremony_answer(&body)
}

#[utoipa::path(post, path = "/user/passkeys/register/finish", operation_id = "finish_passkey_registration", tag = "passkeys", security(("bearer" = [])),
    request_body = RegisterFinishRequest,
    responses(
        (status = 201, description = "The passkey is registered", body = PasskeyBody),
        (status = 400, description = "INVALID_REQUEST, or INVALID_CREDENTIAL: an unknown, spent or expired ceremony, or a credential that fails a check (challenge, origin, relying party, signature, no user verification, registered already)", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 501, description = "PASSKEYS_UNAVAILABLE", body = ErrorBody),
    ))]
pub async fn register_finish(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req)?;
    let body: RegisterFinishRequest = json_body(&req, payload).await?;
    let name = passkey_name(body.name.as_deref())?;
    let credential = credential_object(body.credential)?;
    let origin = origin(&req, &state.settings.trusted_proxies);
    let passkey = blocking(&state, move |state, store| {
        let (user, _) = authenticate(state, store, &token)?;
        let digest = link::digest(&body.ceremony_id);
        let user_id = user.id.clone();
        let ceremony = state
            .db
            .write(move |store| {
                store.take_ceremony(&digest, CeremonyKind::Register, Some(&user_id))
            })?
            .filter(|c| c.expires_at > now())
            .ok_or_else(|| invalid("an unknown, spent or expired registration"))?;
        let registered = state
            .relying_party
            .finish_registration(credential, &ceremony.state)
            .map_err(refusal)?;
        let now = now();
        let passkey = StoredPasskey {
            id: new_id(),
            user_id: user.id.clone(),
            credential_id: registered.credential_id,
            name,
            credential: registered.record,
            sign_count: registered.sign_count,
            backup_eligible: registered.backup_eligible,
            backup_state: registered.backup_state,
            created_at: now,
            last_used_at: None,
        };
        let event = AuditEvent::new(
            "passkey.added",
            user_actor(&user.id),
            now,
            json!({"passkeyId": passkey.id}),
        )
        .origin(&origin)
        .user(&user.id);
        let stored = passkey.clone();
        state.db.write(move |store| {
            if !store.add_passkey(&stored)? {
                return Err(invalid("a credential registered already"));
            }
            store.append_event(&event)?;
            Ok::<_, ApiError>(())
        })?;
        log::info!("passkey added: {} ({})", user.email, passkey.id);
        Ok(passkey)
    })
    .await?;
    Ok(HttpResponse::Created().json(PasskeyBody {
        success: true,
        passkey: PasskeyView::from(&passkey),
    }))
}

#[utoipa::path(get, path = "/user/passkeys", operation_id = "list_passkeys", tag = "passkeys", security(("bearer" = [])),
    responses(
        (status = 200, description = "The user's passkeys, oldest first", body = PasskeysBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
    ))]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req)?;
    let passkeys = blocking(&state, move |state, store| {
        let (user, _) = authenticate(state, store, &token)?;
        Ok(store.list_passkeys(&user.id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(PasskeysBody {
        success: true,
        passkeys: passkeys.iter().map(PasskeyView::from).collect(),
    }))
}

#[utoipa::path(delete, path = "/user/passkeys/{id}", operation_id = "remove_passkey", tag = "passkeys", security(("bearer" = [])),
    params(("id" = String, Path, description = "The passkey's id")),
    responses(
        (status = 200, description = "The passkey is removed: it signs in no more", body = SuccessBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 404, description = "PASSKEY_NOT_FOUND: none of the user's passkeys has that id", body = ErrorBody),
    ))]
pub async fn remove(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req)?;
    let id = path.into_inner();
    let origin = origin(&req, &state.settings.trusted_proxies);
    blocking(&state, move |state, store| {
        let (user, _) = authenticate(state, store, &token)?;
        let event = AuditEvent::new(
            "passkey.removed",
            user_actor(&user.id),
            now(),
            json!({"passkeyId": id}),
        )
        .origin(&origin)
        .user(&user.id);
        let user_id = user.id.clone();
        state.db.write(move |store| {
            if !store.remove_passkey(&user_id, &id)? {
                return Err(ApiError::new(ErrorCode::PasskeyNotFound));
            }
            store.append_event(&event)?;
            Ok(())
        })?;
        log::info!("passkey removed: {}", user.email);
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

/// Stores a new ceremony; its id.
pub(super) fn begin(
    state: &AppState,
    kind: CeremonyKind,
    user_id: Option<String>,
    rp_state: String,
) -> Result<String, ApiError> {
    let (ceremony_id, digest) = link::new_token().map_err(ApiError::internal)?;
    let ceremony = Ceremony {
        digest,
        kind,
        user_id,
        state: rp_state,
        expires_at: now().saturating_add(CEREMONY_TTL),
    };
    state
        .db
        .write(move |store| store.create_ceremony(&ceremony))?;
    Ok(ceremony_id)
}

/// A ceremony's options are used once: never kept by a cache.
pub(super) fn ceremony_answer(body: &CeremonyBody) -> Result<HttpResponse, ApiError> {
    let body = serde_json::to_string(body).map_err(ApiError::internal)?;
    Ok(token_response().body(body))
}

impl CeremonyBody {
    pub(super) fn new(ceremony_id: String, public_key: Value) -> CeremonyBody {
        CeremonyBody {
            success: true,
            ceremony_id,
            public_key,
        }
    }
}

/// INVALID_CREDENTIAL, with why in the log (never to the client).
pub(super) fn invalid(why: &str) -> ApiError {
    log::info!("passkey refused: {why}");
    ApiError::new(ErrorCode::InvalidCredential)
}

pub(super) fn refusal(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Invalid(why) => invalid(&why),
        Refusal::Unavailable(why) => {
            log::warn!("{why}");
            ApiError::new(ErrorCode::PasskeysUnavailable)
        }
    }
}

/// The body's `credential`, which must be an object.
pub(super) fn credential_object(credential: Value) -> Result<Value, ApiError> {
    match credential {
        Value::Object(_) => Ok(credential),
        _ => Err(ApiError::invalid_request(
            "credential must be the JSON form of a credential (an object).",
        )),
    }
}

fn passkey_name(name: Option<&str>) -> Result<String, ApiError> {
    let name = name.map(str::trim).unwrap_or_default();
    if name.chars().any(char::is_control) || name.chars().count() > MAX_NAME {
        return Err(ApiError::invalid_request(format!(
            "name must be at most {MAX_NAME} characters, none of them a control character."
        )));
    }
    Ok(match name {
        "" => "Passkey".to_string(),
        name => name.to_string(),
    })
}
