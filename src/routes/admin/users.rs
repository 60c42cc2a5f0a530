//! GET and POST /admin/users; GET, PATCH and DELETE /admin/users/{id}.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::auth::Scope;
use super::view::{cursor_after, email_of_cursor, AdminUser};
use super::{as_admin, find_user, require_bearer, require_org};
use crate::db::{new_id, now};
use crate::error::{ApiError, ErrorBody, ErrorCode, SuccessBody};
use crate::password::{self, policy};
use crate::roles::{check_role, role_list, RoleError};
use crate::routes::json_body;
use crate::routes::password::{on_gate, weak};
use crate::state::AppState;
use crate::store::{email_key, normalize_email, Status, Store, User, UserFilter};

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
    status: Option<String>,
    org_id: Option<String>,
    role: Option<String>,
    /// 1-200, default 50
    limit: Option<String>,
    /// `nextCursor` of the page before
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

fn user_body(user: AdminUser) -> UserBody {
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
    let query = web::Query::<UserQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::invalid_request(format!("The query could not be read: {e}")))?
        .into_inner();
    let (filter, after, limit) = read_query(query)?;
    let page = as_admin(&req, &state, Scope::UsersRead, move |state, store, _| {
        // One more than asked tells whether another page follows.
        let mut found = store.search_users(&filter, after.as_deref(), limit + 1)?;
        let more = found.len() > limit as usize;
        found.truncate(limit as usize);
        let next_cursor = more.then(|| found.last().map(|u| cursor_after(&u.email)));
        let now = now();
        let users = found
            .iter()
            .map(|u| AdminUser::read(&state.settings, store, u, now))
            .collect::<Result<_, _>>()?;
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

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserRequest {
    #[schema(example = "ada@acme.test")]
    email: String,
    name: String,
    org_id: Option<String>,
    roles: Option<Vec<String>>,
    /// active (default), inactive, banned or deleted
    status: Option<String>,
    /// Checked against the password policy; without one the user has none.
    password: Option<String>,
    /// Email the user a set-password link (this server sends no email yet: 501).
    #[serde(default)]
    invite: bool,
}

#[utoipa::path(post, path = "/admin/users", tag = "admin", security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "The user is created", body = UserBody),
        (status = 400, description = "INVALID_REQUEST (a bad email, role or status) or WEAK_PASSWORD", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
        (status = 404, description = "ORG_NOT_FOUND: no org has that orgId", body = ErrorBody),
        (status = 409, description = "EMAIL_TAKEN", body = ErrorBody),
        (status = 501, description = "EMAIL_DISABLED: an invitation asks for an email", body = ErrorBody),
        (status = 503, description = "SERVER_BUSY: the password-hashing queue is full", body = ErrorBody),
    ))]
pub async fn create_user(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require_bearer(&req)?;
    let body: CreateUserRequest = json_body(&req, payload).await?;
    let mut user = new_user(&body)?;
    as_admin(&req, &state, Scope::UsersWrite, |_, _, _| Ok(())).await?;
    if body.invite && body.password.is_none() {
        return Err(ApiError::new(ErrorCode::EmailDisabled));
    }
    if let Some(password) = body.password {
        policy::check(&password, &user.email, state.settings.min_password_length).map_err(weak)?;
        let iterations = state.settings.pbkdf2_iterations;
        let phc = on_gate(&state, move || {
            password::hash(&password, iterations).map_err(ApiError::internal)
        })
        .await?;
        user.password_hash = Some(phc);
    }
    let (state, settings) = (state.get_ref().clone(), state.settings.clone());
    let created = web::block(move || {
        state.db.write(move |store| {
            require_org(store, user.org_id.as_deref())?;
            if store.find_user_by_email(&user.email)?.is_some() {
                return Err(ApiError::new(ErrorCode::EmailTaken));
            }
            let now = now();
            store.insert_user(&user, now)?;
            // audit: user.created
            AdminUser::read(&settings, store, &user, now)
        })
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(HttpResponse::Created().json(user_body(created)))
}

fn new_user(body: &CreateUserRequest) -> Result<User, ApiError> {
    let email = normalize_email(&body.email)
        .map_err(|why| ApiError::invalid_request(format!("email {why}")))?;
    Ok(User {
        id: new_id(),
        email,
        name: checked_name(&body.name)?,
        org_id: body.org_id.clone(),
        password_hash: None,
        status: read_status(body.status.as_deref())?.unwrap_or(Status::Active),
        created_at: now(),
        roles: read_roles(body.roles.as_deref())?.unwrap_or_default(),
    })
}

fn checked_name(name: &str) -> Result<String, ApiError> {
    match name.trim() {
        "" => Err(ApiError::invalid_request("name: must not be empty")),
        trimmed => Ok(trimmed.to_string()),
    }
}

fn read_status(raw: Option<&str>) -> Result<Option<Status>, ApiError> {
    raw.map(str::parse)
        .transpose()
        .map_err(|why: String| ApiError::invalid_request(format!("status: {why}")))
}

fn read_roles(raw: Option<&[String]>) -> Result<Option<Vec<String>>, ApiError> {
    raw.map(role_list).transpose().map_err(|e| {
        ApiError::invalid_request(match e {
            RoleError::Malformed { index, why } => format!("roles[{index}]: {why}"),
            RoleError::TooMany(n) => crate::roles::too_many(n),
        })
    })
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

/// A field that may be given as null: `Some(None)`.
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserRequest {
    email: Option<String>,
    name: Option<String>,
    /// null takes the user out of their org.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    org_id: Option<Option<String>>,
    roles: Option<Vec<String>>,
    /// A status other than active revokes every session of the user.
    status: Option<String>,
}

#[utoipa::path(patch, path = "/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The user as changed", body = UserBody),
        (status = 400, description = "INVALID_REQUEST: a bad email, name, role or status", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
        (status = 404, description = "USER_NOT_FOUND, or ORG_NOT_FOUND for an unknown orgId", body = ErrorBody),
        (status = 409, description = "EMAIL_TAKEN", body = ErrorBody),
    ))]
pub async fn update_user(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require_bearer(&req)?;
    let body: UpdateUserRequest = json_body(&req, payload).await?;
    let email = body
        .email
        .as_deref()
        .map(normalize_email)
        .transpose()
        .map_err(|why| ApiError::invalid_request(format!("email {why}")))?;
    let name = body.name.as_deref().map(checked_name).transpose()?;
    let status = read_status(body.status.as_deref())?;
    let roles = read_roles(body.roles.as_deref())?;
    let (id, org_id) = (id.into_inner(), body.org_id);
    let user = as_admin(&req, &state, Scope::UsersWrite, move |state, _, _| {
        let settings = state.settings.clone();
        state.write_ending_sessions(move |store| {
            let mut user = find_user(store, &id)?;
            if let Some(email) = email.filter(|e| *e != user.email) {
                if store.find_user_by_email(&email)?.is_some() {
                    return Err(ApiError::new(ErrorCode::EmailTaken));
                }
                user.email = email;
            }
            if let Some(org_id) = org_id {
                require_org(store, org_id.as_deref())?;
                user.org_id = org_id;
            }
            user.name = name.unwrap_or(user.name);
            user.status = status.unwrap_or(user.status);
            let now = now();
            if let Some(roles) = roles {
                store.set_user_roles(&user.id, &roles, now)?;
                user.roles = roles;
            }
            store.update_user(&user, now)?;
            if status.is_some_and(|s| s != Status::Active) {
                store.revoke_user_sessions(&user.id, None, now)?;
                // audit: session.revoked (reason "status")
            }
            // audit: user.updated
            AdminUser::read(&settings, store, &user, now)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(user_body(user)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// true: remove the user and everything of theirs for good
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
    let query = web::Query::<DeleteQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::invalid_request(format!("The query could not be read: {e}")))?;
    let erase = match query.erase.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::invalid_request("erase: true or false")),
    };
    let id = id.into_inner();
    as_admin(&req, &state, Scope::UsersWrite, move |state, _, _| {
        state.write_ending_sessions(move |store| remove_user(store, &id, erase))
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

fn remove_user(store: &mut dyn Store, id: &str, erase: bool) -> Result<(), ApiError> {
    let user = find_user(store, id)?;
    let now = now();
    if erase {
        store.clear_failures(&email_key(&user.email))?;
        store.erase_user(&user.id)?;
        // audit: user.erased (the id only, not the email)
    } else {
        store.set_user_status(&user.id, Status::Deleted, now)?;
        store.revoke_user_sessions(&user.id, None, now)?;
        // audit: user.deleted
    }
    Ok(())
}
