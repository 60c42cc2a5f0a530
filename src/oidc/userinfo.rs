//! GET and POST /oauth/userinfo (OpenID Connect Core §5.3): the user as the
//! access token's scope allows; errors as RFC 6750 §3 has them.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::id_token::Profile;
use crate::routes::session::authenticate_any;
use crate::routes::{bearer, blocking};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct UserInfo {
    sub: String,
    /// With the `email` scope
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    /// With the `profile` scope
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// With the `profile` scope: the email (authlite has no user names)
    #[serde(skip_serializing_if = "Option::is_none")]
    preferred_username: Option<String>,
    /// With the `groups` scope: the user's roles
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<String>>,
}

#[utoipa::path(get, path = "/oauth/userinfo", tag = "oidc", operation_id = "oauthUserinfo", security(("bearer" = [])),
    responses(
        (status = 200, description = "The user, as the token's scope allows", body = UserInfo),
        (status = 401, description = "RFC 6750: invalid_token, with WWW-Authenticate: a missing, invalid, expired or revoked token, or one not issued to a client", body = crate::oidc::token::OAuthErrorBody),
    ))]
pub async fn userinfo(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Ok(token) = bearer(&req) else {
        return refused("no access token");
    };
    let found = blocking(&state, move |state, store| {
        authenticate_any(state, store, &token)
    })
    .await;
    let (user, verified) = match found {
        Ok(found) => found,
        Err(e) if e.status.as_u16() == 401 => return refused(e.message.as_ref()),
        Err(e) => return HttpResponse::build(e.status).json(json!({ "error": "server_error" })),
    };
    let Some(scope) = verified.claims.scope else {
        return refused("the token was not issued to an OpenID Connect client");
    };
    let profile = Profile::of(&user, &scope);
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(UserInfo {
            sub: user.id,
            email: profile.email,
            email_verified: profile.email_verified,
            name: profile.name,
            preferred_username: profile.preferred_username,
            groups: profile.groups,
        })
}

#[utoipa::path(post, path = "/oauth/userinfo", tag = "oidc", operation_id = "oauthUserinfoPost", security(("bearer" = [])),
    responses(
        (status = 200, description = "As GET /oauth/userinfo", body = UserInfo),
        (status = 401, description = "RFC 6750: invalid_token, with WWW-Authenticate", body = crate::oidc::token::OAuthErrorBody),
    ))]
pub async fn userinfo_post(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    userinfo(req, state).await
}

fn refused(why: &str) -> HttpResponse {
    let challenge = format!(
        "Bearer error=\"invalid_token\", error_description=\"{}\"",
        why.replace(['"', '\\'], "")
    );
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, challenge))
        .json(json!({ "error": "invalid_token", "error_description": why }))
}
