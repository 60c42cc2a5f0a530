//! DELETE /admin/users/{id}/mfa: a lost phone (SPEC §8).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::Scope;
use super::{as_admin, find_user};
use crate::clock::now;
use crate::error::{ApiError, ErrorBody, SuccessBody};
use crate::state::AppState;

#[utoipa::path(delete, path = "/admin/users/{id}/mfa", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user's TOTP, its waiting enrolment, recovery codes and passkeys are removed (also when there were none): the password alone signs in", body = SuccessBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin, or a key without users:write", body = ErrorBody),
        (status = 404, description = "USER_NOT_FOUND", body = ErrorBody),
    ))]
pub async fn reset_mfa(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    as_admin(&req, &state, Scope::UsersWrite, move |state, _, by| {
        state.db.write(move |store| {
            let user = find_user(store, &id)?;
            let totp = store.remove_mfa(&user.id)?;
            let passkeys = store.remove_passkeys(&user.id)?;
            let reset = by
                .event(
                    "mfa.reset",
                    now(),
                    json!({"totp": totp, "passkeys": passkeys}),
                )
                .user(&user.id);
            store.append_event(&reset)?;
            log::info!("second factors reset by an admin for user {}", user.id);
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}
