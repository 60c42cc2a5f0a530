//! POST /admin/users/{id}/password, /link and /unlock.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::auth::Scope;
use super::{as_admin, find_user, require_bearer};
use crate::clock::now;
use crate::error::{ApiError, ErrorBody, ErrorCode, SuccessBody};
use crate::mail;
use crate::password::{self, link, policy};
use crate::routes::email::public_base;
use crate::routes::password::{on_gate, weak};
use crate::routes::{json_body, optional_json_body};
use crate::state::AppState;
use crate::store::{email_key, Status};

/// A link lives a day unless told otherwise, and at most ten years (as `user link`).
const DEFAULT_LINK_TTL: u64 = 86_400;
const MAX_LINK_TTL: u64 = 315_360_000;

#[derive(Deserialize, ToSchema)]
pub struct SetPasswordRequest {
    #[schema(example = "a longer and newer pass phrase")]
    password: String,
}

#[utoipa::path(post, path = "/admin/users/{id}/password", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id")),
    request_body = SetPasswordRequest,
    responses(
        (status = 200, description = "The password is set; every session and link of the user ends", body = SuccessBody),
        (status = 400, description = "INVALID_REQUEST, or WEAK_PASSWORD as for /user/password", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
        (status = 404, description = "USER_NOT_FOUND", body = ErrorBody),
        (status = 503, description = "SERVER_BUSY: the password-hashing queue is full", body = ErrorBody),
    ))]
pub async fn set_password(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require_bearer(&req)?;
    let body: SetPasswordRequest = json_body(&req, payload).await?;
    let id = id.into_inner();
    let (user, by) = as_admin(&req, &state, Scope::UsersWrite, move |_, store, by| {
        Ok((find_user(store, &id)?, by))
    })
    .await?;
    policy::check(
        &body.password,
        &user.email,
        state.settings.min_password_length,
    )
    .map_err(weak)?;
    let job_state = state.get_ref().clone();
    on_gate(&state, move || {
        let phc = password::hash(&body.password, job_state.settings.pbkdf2_iterations)
            .map_err(ApiError::internal)?;
        job_state.write_ending_sessions(move |store| {
            let user = find_user(store, &user.id)?;
            let now = now();
            store.set_password_hash(&user.id, &phc, now)?;
            store.remove_user_links(&user.id)?;
            store.append_event(&by.event("password.set", now, json!({})).user(&user.id))?;
            by.revoke_sessions(store, &user.id, now, "password")?;
            log::info!("password set by {} for user {}", by.caller.actor(), user.id);
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct LinkRequest {
    /// Seconds the link works, 1 to 315360000; default 86400.
    #[schema(minimum = 1, maximum = 315_360_000)]
    #[serde(default, deserialize_with = "crate::routes::whole_seconds")]
    ttl: Option<u64>,
    /// Email it to the user instead of answering it (501 EMAIL_DISABLED when email is off).
    #[serde(default)]
    send: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkBody {
    success: bool,
    /// `--public-url` + `/#set-password=` + the token; left out when the link was emailed
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    expires_at: u64,
}

#[utoipa::path(post, path = "/admin/users/{id}/link", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id")),
    request_body(content = Option<LinkRequest>, description = "Optional"),
    responses(
        (status = 200, description = "A one-time set-password link; it replaces older ones. With send, it is emailed and url is left out", body = LinkBody),
        (status = 400, description = "INVALID_REQUEST: a ttl out of range", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
        (status = 404, description = "USER_NOT_FOUND (a deleted user too)", body = ErrorBody),
        (status = 501, description = "EMAIL_DISABLED: send asks for an email", body = ErrorBody),
    ))]
pub async fn create_link(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require_bearer(&req)?;
    let body: LinkRequest = optional_json_body(&req, payload).await?.unwrap_or_default();
    let ttl = body.ttl.unwrap_or(DEFAULT_LINK_TTL);
    if !(1..=MAX_LINK_TTL).contains(&ttl) {
        return Err(ApiError::invalid_request(
            "ttl: from 1 to 315360000 seconds",
        ));
    }
    let id = id.into_inner();
    let send = body.send;
    let answer = as_admin(&req, &state, Scope::UsersWrite, move |state, _, by| {
        if send && state.settings.email.is_none() {
            return Err(ApiError::new(ErrorCode::EmailDisabled));
        }
        let (token, digest) = link::new_token().map_err(ApiError::internal)?;
        let now = now();
        let expires_at = now.saturating_add(ttl);
        let job = state.clone();
        let mail_token = token.clone();
        state.db.write(move |store| {
            let user = find_user(store, &id)?;
            if user.status == Status::Deleted {
                return Err(ApiError::no_such_user());
            }
            store.replace_link(&user.id, &digest, expires_at, now)?;
            let mut detail = json!({"expiresAt": expires_at, "sent": send});
            if send {
                let link = mail::LinkMail {
                    kind: "link",
                    product: &job.settings.issuer,
                    base: public_base(&job),
                    user_id: &user.id,
                    email: &user.email,
                    token: &mail_token,
                    valid_for: ttl,
                };
                detail["messageId"] = mail::queue_link(store, &job.sealer, &link, now)?.into();
            }
            store.append_event(&by.event("link.created", now, detail).user(&user.id))?;
            Ok(())
        })?;
        if send {
            state.mail.ring();
        }
        Ok(LinkBody {
            success: true,
            url: (!send).then(|| format!("{}/#set-password={token}", public_base(state))),
            expires_at,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

#[utoipa::path(post, path = "/admin/users/{id}/unlock", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The account's failed-login count is cleared", body = SuccessBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
        (status = 404, description = "USER_NOT_FOUND", body = ErrorBody),
    ))]
pub async fn unlock(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    as_admin(&req, &state, Scope::UsersWrite, move |state, _, by| {
        state.db.write(move |store| {
            let user = find_user(store, &id)?;
            let cleared = store.clear_failures(&email_key(&user.email))?;
            let detail = json!({ "cleared": cleared });
            store.append_event(&by.event("user.unlocked", now(), detail).user(&user.id))?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}
