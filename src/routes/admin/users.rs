//! GET /admin/users (a page by email), GET and DELETE /admin/users/{id}.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::auth::Scope;
use super::view::{cursor_after, email_of_cursor, AdminUser, RoleName, StatusName};
use super::{as_admin, find_user, require_bearer, By};
use crate::clock::now;
use crate::error::{ApiError, ErrorBody, SuccessBody};
use crate::roles::check_role;
use crate::state::AppState;
use crate::store::{email_key, Status, Store, UserFilter};

/// Users a page holds when `limit` is not given, and at most.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// A substring of the email or the name, case-insensitive.
    query: Option<String>,
    /// active, inactive, banned or deleted
    #[param(value_type = Option<StatusName>)]
    status: Option<String>,
    org_id: Option<String>,
    #[param(value_type = Option<RoleName>)]
    role: Option<String>,
    /// 1-200, default 50
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// `nextCursor` of the page before
    #[param(pattern = "^([0-9a-f]{2})*$")]
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    success: bool,
    users: Vec<AdminUser>,
    /// null on the last page
    next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UserBody {
    success: bool,
    user: AdminUser,
}

pub(super) fn user_body(user: AdminUser) -> UserBody {
    UserBody {
        success: true,
        user,
    }
}

#[utoipa::path(get, path = "/admin/users", tag = "admin", security(("bearer" = [])),
    params(UserQuery),
    responses(
        (status = 200, description = "A page of users by email", body = UserPage),
        (status = 400, description = "INVALID_REQUEST: a bad limit, cursor, status or role", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
    ))]
pub async fn list_users(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require_bearer(&req)?;
    let query = web::Query::<UserQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::invalid_request(format!("The query could not be read: {e}")))?
        .into_inner();
    // No email, name or org id holds a NUL, and PostgreSQL refuses one in
    // text: such a filter matches nobody, on both engines.
    let matches_nobody = [&query.query, &query.org_id]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| v.contains('\0')));
    let (filter, after, limit) = read_query(query)?;
    let page = as_admin(&req, &state, Scope::UsersRead, move |state, store, _| {
        // One more than asked tells whether another page follows.
        let mut found = match matches_nobody {
            true => Vec::new(),
            false => store.search_users(&filter, after.as_deref(), limit + 1)?,
        };
        let more = found.len() > limit as usize;
        found.truncate(limit as usize);
        let next_cursor = more.then(|| found.last().map(|u| cursor_after(&u.email)));
        let users = AdminUser::read_page(&state.settings, store, &found, now())?;
        Ok(UserPage {
            success: true,
            users,
            next_cursor: next_cursor.flatten(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

fn read_query(query: UserQuery) -> Result<(UserFilter, Option<String>, u32), ApiError> {
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::invalid_request("limit: a whole number from 1 to 200"))?,
    };
    let status = query
        .status
        .map(|s| s.parse::<Status>())
        .transpose()
        .map_err(|why| ApiError::invalid_request(format!("status: {why}")))?;
    if let Some(role) = &query.role {
        check_role(role).map_err(|why| ApiError::invalid_request(format!("role: {why}")))?;
    }
    let after = query.cursor.as_deref().map(email_of_cursor).transpose()?;
    let filter = UserFilter {
        query: query
            .query
            .map(|q| q.to_lowercase())
            .filter(|q| !q.is_empty()),
        status,
        org_id: query.org_id,
        role: query.role,
    };
    Ok((filter, after, limit))
}

#[utoipa::path(get, path = "/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = UserBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
        (status = 404, description = "USER_NOT_FOUND", body = ErrorBody),
    ))]
pub async fn get_user(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let user = as_admin(&req, &state, Scope::UsersRead, move |state, store, _| {
        let user = find_user(store, &id)?;
        AdminUser::read(&state.settings, store, &user, now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(user_body(user)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// true: remove the user and everything of theirs for good
    #[param(value_type = Option<bool>)]
    erase: Option<String>,
}

#[utoipa::path(delete, path = "/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id"), DeleteQuery),
    responses(
        (status = 200, description = "The user is deleted (or with erase=true, removed) and every session revoked", body = SuccessBody),
        (status = 400, description = "INVALID_REQUEST: erase is neither true nor false", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
        (status = 404, description = "USER_NOT_FOUND", body = ErrorBody),
    ))]
pub async fn delete_user(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require_bearer(&req)?;
    let query = web::Query::<DeleteQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::invalid_request(format!("The query could not be read: {e}")))?;
    let erase = match query.erase.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::invalid_request("erase: true or false")),
    };
    let id = id.into_inner();
    as_admin(&req, &state, Scope::UsersWrite, move |state, _, by| {
        if !erase {
            return state.write_ending_sessions(move |store| delete(store, &id, &by));
        }
        // The erased rows' bytes must not stay behind in the database's files.
        let erased = state
            .db
            .overwriting(move |store| erase_user(store, &id, &by));
        state.sessions.clear();
        erased
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

/// Status `deleted`, each live session ended for it.
fn delete(store: &mut dyn Store, id: &str, by: &By) -> Result<(), ApiError> {
    let user = find_user(store, id)?;
    let now = now();
    store.set_user_status(&user.id, Status::Deleted, now)?;
    by.revoke_sessions(store, &user.id, now, "status")?;
    store.append_event(&by.event("user.deleted", now, json!({})).user(&user.id))?;
    Ok(())
}

/// The user and their rows go; their events stay, under the id, with every
/// email of theirs taken out (SPEC §8).
fn erase_user(store: &mut dyn Store, id: &str, by: &By) -> Result<(), ApiError> {
    let user = find_user(store, id)?;
    let now = now();
    by.revoke_sessions(store, &user.id, now, "admin")?;
    store.clear_failures(&email_key(&user.email))?;
    store.erase_user(&user.id)?;
    store.forget_email(&user.id, &user.email)?;
    store.append_event(&by.event("user.erased", now, json!({})).user(&user.id))?;
    log::info!("user {} erased by {}", user.id, by.caller.actor());
    Ok(())
}
