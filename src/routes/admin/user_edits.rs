//! POST /admin/users and PATCH /admin/users/{id}: what a body may say about
//! a user, checked before anything is read, then written in one transaction.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer};
use serde_json::json;
use utoipa::ToSchema;

use super::auth::Scope;
use super::users::{user_body, UserBody};
use super::view::{checked_text, AdminUser, RoleName, StatusName};
use super::{as_admin, find_user, require_bearer, require_org, By};
use crate::clock::now;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::ids::new_id;
use crate::mail::{self, INVITE_TTL};
use crate::password::{self, link, policy};
use crate::roles::{role_list, RoleError};
use crate::routes::email::public_base;
use crate::routes::json_body;
use crate::routes::password::{on_gate, weak};
use crate::state::AppState;
use crate::store::{normalize_email, AuditEvent, Status, Store, User};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserRequest {
    #[schema(example = "ada@acme.test")]
    email: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    name: String,
    org_id: Option<String>,
    #[schema(value_type = Option<Vec<RoleName>>, max_items = 32)]
    roles: Option<Vec<String>>,
    /// active (default), inactive, banned or deleted
    #[schema(value_type = Option<StatusName>)]
    status: Option<String>,
    /// Checked against the password policy; without one the user has none.
    password: Option<String>,
    /// With no password: email the user a set-password link, valid 7 days
    /// (501 EMAIL_DISABLED when email is off).
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
    let by = as_admin(&req, &state, Scope::UsersWrite, |_, _, by| Ok(by)).await?;
    let invite = body.invite && body.password.is_none();
    if invite && state.settings.email.is_none() {
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
    let job = state.get_ref().clone();
    let created = web::block(move || {
        let (token, digest) = link::new_token().map_err(ApiError::internal)?;
        let state = job.clone();
        job.db.write(move |store| {
            require_org(store, user.org_id.as_deref())?;
            if store.find_user_by_email(&user.email)?.is_some() {
                return Err(ApiError::new(ErrorCode::EmailTaken));
            }
            let now = now();
            store.insert_user(&user, now)?;
            store.append_event(&by.event("user.created", now, json!({})).user(&user.id))?;
            if invite {
                invite_user(&state, store, &by, (&user, &token, &digest), now)?;
            }
            AdminUser::read(&state.settings, store, &user, now)
        })
    })
    .await
    .map_err(ApiError::internal)??;
    if invite {
        state.mail.ring();
    }
    Ok(HttpResponse::Created().json(user_body(created)))
}

/// An invited user's set-password link (SPEC §12: valid 7 days) and its message.
fn invite_user(
    state: &AppState,
    store: &mut dyn Store,
    by: &By,
    (user, token, digest): (&User, &str, &[u8]),
    now: u64,
) -> Result<(), ApiError> {
    let expires_at = now.saturating_add(INVITE_TTL);
    store.replace_link(&user.id, digest, expires_at, now)?;
    let link = mail::LinkMail {
        kind: "invite",
        product: &state.settings.issuer,
        base: public_base(state),
        user_id: &user.id,
        email: &user.email,
        token,
        valid_for: INVITE_TTL,
    };
    let id = mail::queue_link(store, &state.sealer, &link, now)?;
    let detail = json!({"expiresAt": expires_at, "sent": true, "messageId": id});
    store.append_event(&by.event("link.created", now, detail).user(&user.id))?;
    Ok(())
}

fn new_user(body: &CreateUserRequest) -> Result<User, ApiError> {
    let email = normalize_email(&body.email)
        .map_err(|why| ApiError::invalid_request(format!("email {why}")))?;
    Ok(User {
        id: new_id(),
        email,
        name: checked_text("name", &body.name)?,
        org_id: body.org_id.clone(),
        password_hash: None,
        status: read_status(body.status.as_deref())?.unwrap_or(Status::Active),
        created_at: now(),
        roles: read_roles(body.roles.as_deref())?.unwrap_or_default(),
    })
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

/// A field that may be given as null: `Some(None)`.
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserRequest {
    // A string, not null, so that the document's `format: email` holds.
    #[schema(value_type = String, required = false)]
    email: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    name: Option<String>,
    /// null takes the user out of their org.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    org_id: Option<Option<String>>,
    #[schema(value_type = Option<Vec<RoleName>>, max_items = 32)]
    roles: Option<Vec<String>>,
    /// A status other than active revokes every session of the user.
    #[schema(value_type = Option<StatusName>)]
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
    let name = body
        .name
        .as_deref()
        .map(|n| checked_text("name", n))
        .transpose()?;
    let status = read_status(body.status.as_deref())?;
    let roles = read_roles(body.roles.as_deref())?;
    let (id, org_id) = (id.into_inner(), body.org_id);
    let user = as_admin(&req, &state, Scope::UsersWrite, move |state, _, by| {
        let settings = state.settings.clone();
        state.write_ending_sessions(move |store| {
            let mut user = find_user(store, &id)?;
            let before = user.clone();
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
                by.revoke_sessions(store, &user.id, now, "status")?;
            }
            for event in change_events(&before, &user, &by, now) {
                store.append_event(&event)?;
            }
            AdminUser::read(&settings, store, &user, now)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(user_body(user)))
}

/// `user.updated` naming the fields that changed, as the seed names them; a
/// status that became `deleted` is `user.deleted` instead (as on the CLI).
fn change_events(before: &User, after: &User, by: &By, now: u64) -> Vec<AuditEvent> {
    let changes = [
        ("email", before.email != after.email),
        ("name", before.name != after.name),
        ("orgId", before.org_id != after.org_id),
        ("roles", set(&before.roles) != set(&after.roles)),
    ];
    let fields: Vec<&str> = changes.iter().filter(|c| c.1).map(|c| c.0).collect();
    let deleted = before.status != after.status && after.status == Status::Deleted;
    let fields = match before.status != after.status && !deleted {
        true => [fields, vec!["status"]].concat(),
        false => fields,
    };
    let mut events = Vec::new();
    if !fields.is_empty() {
        let event = by.event("user.updated", now, json!({ "fields": fields }));
        events.push(event.user(&after.id));
    }
    if deleted {
        events.push(by.event("user.deleted", now, json!({})).user(&after.id));
    }
    events
}

fn set(roles: &[String]) -> std::collections::BTreeSet<&str> {
    roles.iter().map(String::as_str).collect()
}
