//! GET /oauth/logout (OpenID Connect RP-Initiated Logout 1.0): ends the
//! client's session named by `id_token_hint`, then sends the browser to
//! authlite's page, which signs itself out and goes on to the client's
//! registered post-logout URI (through /oauth/continue).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::authorize::{error_page, redirect};
use super::{public_base, with_query, REQUEST_TTL};
use crate::clock::now;
use crate::error::ApiError;
use crate::ids::new_id;
use crate::routes::{blocking, origin};
use crate::state::AppState;
use crate::store::audit::{revoked, user_actor};
use crate::store::{OidcRequest, Origin, Store, LOGOUT};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogoutQuery {
    /// An ID token this server issued to the client (expired ones too)
    id_token_hint: Option<String>,
    /// One of the client's registered post-logout URIs
    post_logout_redirect_uri: Option<String>,
    /// Names the client when there is no id_token_hint
    client_id: Option<String>,
    state: Option<String>,
}

#[utoipa::path(get, path = "/oauth/logout", tag = "oidc", operation_id = "oauthLogout", params(LogoutQuery),
    responses(
        (status = 303, description = "To authlite's page (`PUBLIC_URL/#logout=ID`), which signs out and goes on to post_logout_redirect_uri?state=…"),
        (status = 400, description = "An error page: an id_token_hint not from this server, or a post-logout URI the client did not register", content_type = "text/html", body = String),
    ))]
pub async fn logout(
    req: HttpRequest,
    query: Result<web::Query<LogoutQuery>, actix_web::Error>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Ok(web::Query(query)) = query else {
        return Ok(error_page("The sign-out request could not be read."));
    };
    let base = public_base(&req, state.settings.public_url.as_deref());
    let origin = origin(&req, &state.settings.trusted_proxies);
    let outcome = blocking(&state, move |state, store| {
        Ok(end(state, store, query, &origin))
    })
    .await?;
    match outcome {
        Ok(id) => Ok(redirect(&format!("{base}/#logout={id}"))),
        Err(message) => Ok(error_page(message)),
    }
}

/// Ends the hinted session and keeps the request for the page; or says why not.
fn end(
    state: &AppState,
    store: &mut dyn Store,
    query: LogoutQuery,
    origin: &Origin,
) -> Result<String, &'static str> {
    let hint =
        match &query.id_token_hint {
            Some(token) => {
                let ring = state.keys.ring(store);
                let read = ring.read_id_token_hint(token, &state.settings.issuer);
                Some(read.map_err(|_| {
                    "The sign-out request carries a token this server did not issue."
                })?)
            }
            None => None,
        };
    let client_id = match (&hint, &query.client_id) {
        (Some((_, aud, _)), Some(id)) if aud != id => {
            return Err("The sign-out request names two different applications.")
        }
        (Some((_, aud, _)), _) => Some(aud.clone()),
        (None, id) => id.clone(),
    };
    let busy = "The server could not take the sign-out request; try again.";
    let client = match &client_id {
        Some(id) => store.find_client(id).map_err(|_| busy)?.map(|c| c.client),
        None => None,
    };
    let target = match (&query.post_logout_redirect_uri, &client) {
        (None, _) => String::new(),
        (Some(uri), Some(client)) if client.post_logout_uris.contains(uri) => {
            with_query(uri, &[("state", query.state.as_deref())])
        }
        (Some(_), _) => {
            return Err("The application asked to return to an address it did not register.")
        }
    };
    let Some(client) = client else {
        return Err("The sign-out request names no application registered here.");
    };
    let now = now();
    let request = OidcRequest {
        id: format!("{}{}", new_id(), new_id()),
        kind: LOGOUT.into(),
        client_id: client.id.clone(),
        redirect_uri: target,
        scope: String::new(),
        state: None,
        nonce: None,
        code_challenge: None,
        prompt: None,
        created_at: now,
        expires_at: now.saturating_add(REQUEST_TTL),
    };
    let id = request.id.clone();
    let ended = hint.and_then(|(sub, _, sid)| sid.map(|sid| (sub, sid)));
    let origin = origin.clone();
    state
        .write_ending_sessions(move |store| {
            if let Some((sub, sid)) = ended {
                let owned = store.find_session(&sid)?.is_some_and(|s| s.user_id == sub);
                if owned && store.revoke_session(&sid, now)? {
                    let event = revoked(&sid, "logout", &user_actor(&sub), now, &origin).user(&sub);
                    store.append_event(&event)?;
                }
            }
            store.insert_oidc_request(&request)
        })
        .map_err(|_| busy)?;
    Ok(id)
}
