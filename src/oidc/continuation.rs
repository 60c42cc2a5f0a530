//! POST /oauth/continue: the login page finishes a waiting authorization (or
//! logout) on its own origin, with its own session's bearer. No cookies: the
//! page holds the session, the database holds the request, and any instance
//! may answer.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{public_base, with_query, CODE_TTL};
use crate::clock::now;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::routes::session::authenticate_any;
use crate::routes::{blocking, json_body, optional_bearer, origin};
use crate::state::AppState;
use crate::store::{AuditEvent, AuthCode, Client, OidcRequest, Origin, Store, LOGOUT};
use crate::tokens::digest;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContinueRequest {
    /// The id the page got in `#authorize=ID` or `#logout=ID`
    request_id: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContinueBody {
    success: bool,
    /// Where the browser goes now: the client's redirect URI with `code` and
    /// `state` (or `error` and `state`), or after a logout the client's
    /// post-logout URI (or this page)
    redirect_url: String,
}

#[utoipa::path(post, path = "/oauth/continue", tag = "oidc", operation_id = "oauthContinue", security(("bearer" = []), ()),
    request_body = ContinueRequest,
    responses(
        (status = 200, description = "Where the browser goes now. Without a bearer, only for prompt=none (error=login_required) and logouts", body = ContinueBody),
        (status = 400, description = "INVALID_REQUEST", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN (sign in first), LOGIN_REQUIRED (prompt=login: sign in again), INVALID_TOKEN (a client's token is not the page's), TOKEN_EXPIRED, TOKEN_REVOKED, USER_INACTIVE", body = ErrorBody),
        (status = 404, description = "AUTHORIZATION_NOT_FOUND: unknown, finished or expired", body = ErrorBody),
    ))]
pub async fn continue_request(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let bearer = optional_bearer(&req)?;
    let body: ContinueRequest = json_body(&req, payload).await?;
    let origin = origin(&req, &state.settings.trusted_proxies);
    let page = format!(
        "{}/",
        public_base(&req, state.settings.public_url.as_deref())
    );
    let redirect_url = blocking(&state, move |state, store| {
        let request = store
            .find_oidc_request(&body.request_id)?
            .filter(|r| r.expires_at >= now())
            .ok_or(ErrorCode::AuthorizationNotFound)?;
        let client = store
            .find_client(&request.client_id)?
            .ok_or(ErrorCode::AuthorizationNotFound)?
            .client;
        match request.kind.as_str() {
            LOGOUT => {
                take(state, &request.id)?;
                Ok(match request.redirect_uri.is_empty() {
                    true => page,
                    false => request.redirect_uri.clone(),
                })
            }
            _ => authorize(
                state,
                store,
                (&request, &client),
                bearer.as_deref(),
                &origin,
            ),
        }
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ContinueBody {
            success: true,
            redirect_url,
        }))
}

/// The redirect URI with a code for the page's user, or with the error that
/// ends the authorization; Err where the page must sign in (again).
fn authorize(
    state: &AppState,
    store: &mut dyn Store,
    (request, client): (&OidcRequest, &Client),
    bearer: Option<&str>,
    origin: &Origin,
) -> Result<String, ApiError> {
    let silent = request.prompt.as_deref() == Some("none");
    let refused = |error: &str| -> Result<String, ApiError> {
        take(state, &request.id)?;
        Ok(back(request, &[("error", Some(error))]))
    };
    let signed_in = match bearer {
        None => Err(ApiError::new(ErrorCode::MissingToken)),
        Some(token) => authenticate_any(state, store, token),
    };
    let (user, verified) = match signed_in {
        Ok(found) => found,
        Err(_) if silent => return refused("login_required"),
        Err(e) => return Err(e),
    };
    // A client's access token is the client's, not the page's session.
    if verified.claims.client_id.is_some() {
        return Err(ApiError::new(ErrorCode::InvalidToken));
    }
    let session = store
        .find_session(&verified.claims.sid)?
        .ok_or(ErrorCode::TokenRevoked)?;
    if request.prompt.as_deref() == Some("login") && session.created_at < request.created_at {
        return Err(ApiError::new(ErrorCode::LoginRequired));
    }
    if !client.roles.is_empty() && !user.roles.iter().any(|r| client.roles.contains(r)) {
        log::info!(
            "authorization refused: user {} lacks the roles of client {}",
            user.id,
            client.id
        );
        return refused("access_denied");
    }
    let code = new_code()?;
    let stored = AuthCode {
        client_id: client.id.clone(),
        user_id: user.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        scope: request.scope.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        amr: session.amr.clone(),
        auth_time: session.created_at,
        expires_at: now().saturating_add(CODE_TTL),
        used_at: None,
        sid: None,
    };
    let event = AuditEvent::new(
        "oidc.authorized",
        crate::store::audit::user_actor(&user.id),
        now(),
        json!({ "clientId": client.id }),
    )
    .user(&user.id)
    .origin(origin);
    let (id, code_digest) = (request.id.clone(), digest(&code));
    let taken = state.db.write(move |store| {
        if !store.take_oidc_request(&id)? {
            return Ok(false);
        }
        store.insert_code(&code_digest, &stored)?;
        store.append_event(&event)?;
        Ok::<_, ApiError>(true)
    })?;
    if !taken {
        return Err(ApiError::new(ErrorCode::AuthorizationNotFound));
    }
    log::info!("authorized user {} for client {}", user.id, client.id);
    Ok(back(request, &[("code", Some(&code))]))
}

/// The client's redirect URI with these parameters and the request's state.
fn back(request: &OidcRequest, pairs: &[(&str, Option<&str>)]) -> String {
    let mut all = pairs.to_vec();
    all.push(("state", request.state.as_deref()));
    with_query(&request.redirect_uri, &all)
}

/// Ends a request that is answered without a code.
fn take(state: &AppState, id: &str) -> Result<(), ApiError> {
    let id = id.to_string();
    state.db.write(move |store| store.take_oidc_request(&id))?;
    Ok(())
}

/// 32 random bytes, base64url: only its digest is stored.
fn new_code() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    Ok(Base64UrlUnpadded::encode_string(&bytes))
}
