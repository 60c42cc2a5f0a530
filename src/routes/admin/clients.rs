//! GET, POST /admin/clients and DELETE /admin/clients/{id}: OpenID Connect
//! clients (SPEC §13), for admin users and keys with `clients:write`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::auth::Scope;
use super::{as_admin, require_bearer};
use crate::clock::now;
use crate::error::{ApiError, ErrorBody, ErrorCode, SuccessBody};
use crate::oidc::clients::{make, NewClient};
use crate::routes::json_body;
use crate::state::AppState;
use crate::store::Client;

/// A client as the admin API shows it: never its secret.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    /// The `client_id`
    id: String,
    name: String,
    redirect_uris: Vec<String>,
    /// A public client has no secret and must use PKCE
    public: bool,
    /// When not empty, only users holding one of these may sign in to it
    roles: Vec<String>,
    post_logout_uris: Vec<String>,
    /// Unix seconds
    created_at: u64,
}

impl From<Client> for ClientView {
    fn from(c: Client) -> ClientView {
        ClientView {
            id: c.id,
            name: c.name,
            redirect_uris: c.redirect_uris,
            public: c.public,
            roles: c.roles,
            post_logout_uris: c.post_logout_uris,
            created_at: c.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ClientsBody {
    success: bool,
    /// Oldest first
    clients: Vec<ClientView>,
}

#[utoipa::path(get, path = "/admin/clients", tag = "admin", operation_id = "listClients", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every OpenID Connect client, oldest first", body = ClientsBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin, nor a key with clients:write", body = ErrorBody),
    ))]
pub async fn list_clients(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let clients = as_admin(&req, &state, Scope::ClientsWrite, |_, store, _| {
        Ok(store.list_clients()?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ClientsBody {
        success: true,
        clients: clients.into_iter().map(ClientView::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateClientRequest {
    /// 1-100 characters
    #[schema(example = "Grafana")]
    name: String,
    /// Absolute http(s) URLs without a fragment, matched exactly (1-20)
    #[schema(example = json!(["https://grafana.acme.test/login/generic_oauth"]))]
    redirect_uris: Vec<String>,
    /// No secret; PKCE required (default false)
    #[serde(default)]
    public: bool,
    /// Only users holding one of these roles may sign in (default: everyone)
    #[serde(default)]
    roles: Vec<String>,
    /// Where `/oauth/logout` may send the browser back to
    #[serde(default)]
    post_logout_uris: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedClientBody {
    success: bool,
    client: ClientView,
    /// The `client_secret`, shown this once (only its digest is kept); null for a public client
    client_secret: Option<String>,
}

#[utoipa::path(post, path = "/admin/clients", tag = "admin", operation_id = "createClient", security(("bearer" = [])),
    request_body = CreateClientRequest,
    responses(
        (status = 201, description = "The client, and its secret shown this once", body = CreatedClientBody),
        (status = 400, description = "INVALID_REQUEST: a bad name, redirect URI, role or post-logout URI", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin, nor a key with clients:write", body = ErrorBody),
    ))]
pub async fn create_client(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require_bearer(&req)?;
    let body: CreateClientRequest = json_body(&req, payload).await?;
    let (client, secret) = as_admin(&req, &state, Scope::ClientsWrite, move |state, _, by| {
        let new = NewClient {
            name: &body.name,
            redirect_uris: &body.redirect_uris,
            public: body.public,
            roles: &body.roles,
            post_logout_uris: &body.post_logout_uris,
        };
        let now = now();
        let made = make(&new, now).map_err(|why| ApiError::invalid_request(sentence(&why)))?;
        let event = by.event("client.created", now, json!({ "clientId": made.client.id }));
        let (client, digest) = (made.client.clone(), made.digest);
        state.db.write(move |store| {
            store.insert_client(&client, digest.as_deref())?;
            store.append_event(&event)
        })?;
        log::info!(
            "OIDC client {} created by {}",
            made.client.id,
            by.caller.actor()
        );
        Ok((made.client, made.secret))
    })
    .await?;
    Ok(HttpResponse::Created().json(CreatedClientBody {
        success: true,
        client: ClientView::from(client),
        client_secret: secret,
    }))
}

#[utoipa::path(delete, path = "/admin/clients/{id}", tag = "admin", operation_id = "removeClient", security(("bearer" = [])),
    params(("id" = String, Path, description = "The client_id")),
    responses(
        (status = 200, description = "The client is removed, its codes void and the sessions it made revoked", body = SuccessBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin, nor a key with clients:write", body = ErrorBody),
        (status = 404, description = "CLIENT_NOT_FOUND", body = ErrorBody),
    ))]
pub async fn remove_client(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    as_admin(&req, &state, Scope::ClientsWrite, move |state, _, by| {
        let now = now();
        let event = by.event("client.removed", now, json!({ "clientId": id }));
        let gone = state.write_ending_sessions(move |store| {
            let gone = store.remove_client(&id, now)?;
            if gone {
                store.append_event(&event)?;
            }
            Ok::<_, ApiError>(gone)
        })?;
        match gone {
            true => Ok(()),
            false => Err(ApiError::new(ErrorCode::ClientNotFound)),
        }
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

/// A sentence of `oidc::clients` as the message of a 400.
fn sentence(why: &str) -> String {
    let mut chars = why.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!("{first}{}.", chars.as_str())
}
