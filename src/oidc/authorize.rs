//! GET /oauth/authorize (SPEC §13): checks the request, keeps it in the
//! database, and sends the browser to authlite's own page, which signs in (or
//! finds its session) and finishes it through /oauth/continue.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{granted_scope, public_base, valid_challenge, with_query, REQUEST_TTL};
use crate::clock::now;
use crate::error::ApiError;
use crate::ids::new_id;
use crate::routes::blocking;
use crate::state::AppState;
use crate::store::{OidcRequest, StoredClient, AUTHORIZE};

/// Longest `state` or `nonce` kept, in bytes.
const MAX_VALUE: usize = 1024;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeQuery {
    /// `code`
    response_type: Option<String>,
    client_id: Option<String>,
    /// Exactly one of the client's redirect URIs
    redirect_uri: Option<String>,
    /// Space-separated, with `openid`: `openid email profile groups offline_access`
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    /// The PKCE S256 challenge (required of public clients)
    code_challenge: Option<String>,
    /// `S256`
    code_challenge_method: Option<String>,
    /// `none` or `login`
    prompt: Option<String>,
}

#[utoipa::path(get, path = "/oauth/authorize", tag = "oidc", operation_id = "oauthAuthorize", params(AuthorizeQuery),
    responses(
        (status = 303, description = "To authlite's page (`PUBLIC_URL/#authorize=ID`), which signs in and finishes the authorization; or back to the redirect URI with `error` (invalid_request, unsupported_response_type, invalid_scope) and `state`"),
        (status = 400, description = "An error page: an unknown client, or a redirect URI the client did not register (never a redirect)", content_type = "text/html", body = String),
    ))]
pub async fn authorize(
    req: HttpRequest,
    query: Result<web::Query<AuthorizeQuery>, actix_web::Error>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Ok(web::Query(query)) = query else {
        return Ok(error_page("The sign-in request could not be read."));
    };
    let base = public_base(&req, state.settings.public_url.as_deref());
    let (Some(client_id), Some(redirect_uri)) =
        (query.client_id.clone(), query.redirect_uri.clone())
    else {
        return Ok(error_page(
            "The sign-in request names no application or no address to return to.",
        ));
    };
    let found = {
        let client_id = client_id.clone();
        blocking(&state, move |_, store| Ok(store.find_client(&client_id)?)).await?
    };
    let Some(StoredClient { client, .. }) = found else {
        return Ok(error_page(
            "No application with that client_id is registered here.",
        ));
    };
    if !client.redirect_uris.contains(&redirect_uri) {
        return Ok(error_page(
            "The application asked to return to an address it did not register.",
        ));
    }
    let back = |error: &str, why: &str| {
        let to = with_query(
            &redirect_uri,
            &[
                ("error", Some(error)),
                ("error_description", Some(why)),
                ("state", query.state.as_deref()),
            ],
        );
        redirect(&to)
    };
    if query.response_type.as_deref() != Some("code") {
        return Ok(back(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    let Some(scope) = query.scope.as_deref().and_then(granted_scope) else {
        return Ok(back("invalid_scope", "the scope must include openid"));
    };
    if let Err(why) = check(&query, client.public) {
        return Ok(back("invalid_request", why));
    }
    let now = now();
    let request = OidcRequest {
        id: format!("{}{}", new_id(), new_id()),
        kind: AUTHORIZE.into(),
        client_id,
        redirect_uri: redirect_uri.clone(),
        scope,
        state: query.state.clone(),
        nonce: query.nonce.clone(),
        code_challenge: query.code_challenge.clone(),
        prompt: query.prompt.clone().filter(|p| p == "none" || p == "login"),
        created_at: now,
        expires_at: now.saturating_add(REQUEST_TTL),
    };
    let id = request.id.clone();
    blocking(&state, move |state, _| {
        Ok(state
            .db
            .write(move |store| store.insert_oidc_request(&request))?)
    })
    .await?;
    Ok(redirect(&format!("{base}/#authorize={id}")))
}

/// The request's other parameters, or why they are refused (invalid_request).
fn check(query: &AuthorizeQuery, public: bool) -> Result<(), &'static str> {
    let too_long = |v: &Option<String>| v.as_ref().is_some_and(|v| v.len() > MAX_VALUE);
    if too_long(&query.state) || too_long(&query.nonce) {
        return Err("state and nonce are at most 1024 bytes");
    }
    match (
        &query.code_challenge,
        query.code_challenge_method.as_deref(),
    ) {
        (None, None) if public => return Err("a public client must send a PKCE code_challenge"),
        (None, None) => {}
        (Some(challenge), Some("S256")) if valid_challenge(challenge) => {}
        (Some(_), Some("S256")) => return Err("the code_challenge is not an S256 challenge"),
        _ => return Err("code_challenge_method must be S256, with a code_challenge"),
    }
    match query.prompt.as_deref() {
        None | Some("none" | "login" | "consent" | "select_account") => Ok(()),
        Some(_) => Err("prompt must be none or login"),
    }
}

pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// 400 with a page a person can read: never a redirect to an address the
/// client did not register. `message` is always one of ours, never input.
pub fn error_page(message: &'static str) -> HttpResponse {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>Sign-in error</title></head><body style=\"font-family:system-ui;max-width:32rem;margin:3rem auto\">\
         <h1>This sign-in cannot go on</h1><p id=\"error\">{message}</p>\
         <p>Go back to the application and try again, or tell its administrator.</p></body></html>"
    );
    HttpResponse::BadRequest()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page)
}
