//! GET and POST /admin/orgs, PATCH and DELETE /admin/orgs/{id}.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::auth::Scope;
use super::view::{checked_text, OrgView};
use super::{as_admin, require_bearer};
use crate::error::{ApiError, ErrorBody, ErrorCode, SuccessBody};
use crate::routes::json_body;
use crate::state::AppState;
use crate::store::Org;

#[derive(Serialize, ToSchema)]
pub struct OrgsBody {
    success: bool,
    orgs: Vec<OrgView>,
}

#[derive(Serialize, ToSchema)]
pub struct OrgBody {
    success: bool,
    org: OrgView,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateOrgRequest {
    #[schema(example = "acme")]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    id: String,
    #[schema(example = "Acme Inc")]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct RenameOrgRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    name: String,
}

fn org_body(org: Org) -> OrgBody {
    OrgBody {
        success: true,
        org: org.into(),
    }
}

#[utoipa::path(get, path = "/admin/orgs", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every org by id, with how many users not deleted it has", body = OrgsBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
    ))]
pub async fn list_orgs(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let orgs = as_admin(&req, &state, Scope::UsersRead, |_, store, _| {
        Ok(store.list_orgs()?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(OrgsBody {
        success: true,
        orgs: orgs.into_iter().map(OrgView::from).collect(),
    }))
}

#[utoipa::path(post, path = "/admin/orgs", tag = "admin", security(("bearer" = [])),
    request_body = CreateOrgRequest,
    responses(
        (status = 201, description = "The org is created", body = OrgBody),
        (status = 400, description = "INVALID_REQUEST: an id or name empty, over 200 characters or with control characters", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
        (status = 409, description = "ORG_EXISTS", body = ErrorBody),
    ))]
pub async fn create_org(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require_bearer(&req)?;
    let body: CreateOrgRequest = json_body(&req, payload).await?;
    let (id, name) = (
        checked_text("id", &body.id)?,
        checked_text("name", &body.name)?,
    );
    let org = as_admin(&req, &state, Scope::UsersWrite, move |state, _, _| {
        state.db.write(move |store| {
            if !store.insert_org(&id, &name)? {
                return Err(ApiError::new(ErrorCode::OrgExists));
            }
            Ok(Org { id, name, users: 0 })
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(org_body(org)))
}

#[utoipa::path(patch, path = "/admin/orgs/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The org's id")),
    request_body = RenameOrgRequest,
    responses(
        (status = 200, description = "The org as renamed", body = OrgBody),
        (status = 400, description = "INVALID_REQUEST: a name empty, over 200 characters or with control characters", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
        (status = 404, description = "ORG_NOT_FOUND", body = ErrorBody),
    ))]
pub async fn rename_org(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require_bearer(&req)?;
    let body: RenameOrgRequest = json_body(&req, payload).await?;
    let (id, name) = (id.into_inner(), checked_text("name", &body.name)?);
    let org = as_admin(&req, &state, Scope::UsersWrite, move |state, _, _| {
        state.db.write(move |store| {
            if !store.rename_org(&id, &name)? {
                return Err(ApiError::new(ErrorCode::OrgNotFound));
            }
            let users = store.count_org_members(&id)?;
            Ok(Org { id, name, users })
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(org_body(org)))
}

#[utoipa::path(delete, path = "/admin/orgs/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The org's id")),
    responses(
        (status = 200, description = "The org is removed (its deleted users keep no org)", body = SuccessBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
        (status = 404, description = "ORG_NOT_FOUND", body = ErrorBody),
        (status = 409, description = "ORG_NOT_EMPTY: users that are not deleted belong to it", body = ErrorBody),
    ))]
pub async fn delete_org(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    as_admin(&req, &state, Scope::UsersWrite, move |state, _, _| {
        state.db.write(move |store| {
            if store.count_org_members(&id)? > 0 {
                return Err(ApiError::new(ErrorCode::OrgNotEmpty));
            }
            if !store.delete_org(&id)? {
                return Err(ApiError::new(ErrorCode::OrgNotFound));
            }
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}
