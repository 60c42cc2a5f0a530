//! The admin API (SPEC section 8): every endpoint authorizes its caller first
//! (`auth`), then does its reads and its one write on a blocking thread.

pub(crate) mod api_keys;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod clients;
pub(crate) mod mfa;
pub(crate) mod orgs;
pub(crate) mod sessions;
pub(crate) mod user_actions;
pub(crate) mod user_edits;
pub(crate) mod users;
mod view;

use actix_web::{web, HttpRequest};
use serde_json::Value;

use self::auth::{authorize, Caller, Scope};
use super::{blocking, optional_bearer, origin};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::audit::revoke_user_sessions_noted;
use crate::store::{AuditEvent, Origin, Store, User};

/// Who made an admin request and where it came from: what its audit events name.
#[derive(Clone, Debug)]
pub struct By {
    pub caller: Caller,
    pub origin: Origin,
}

impl By {
    /// An event of `kind` by this caller, from this request's origin.
    fn event(&self, kind: &str, now: u64, detail: Value) -> AuditEvent {
        AuditEvent::new(kind, self.caller.actor(), now, detail).origin(&self.origin)
    }

    /// Revokes every session of the user, recording each live one as ended for `reason`.
    fn revoke_sessions(
        &self,
        store: &mut dyn Store,
        user_id: &str,
        now: u64,
        reason: &str,
    ) -> Result<usize, ApiError> {
        let actor = self.caller.actor();
        let by = (actor.as_str(), &self.origin);
        Ok(revoke_user_sessions_noted(
            store, user_id, None, now, reason, by,
        )?)
    }
}

/// Runs `work` on a blocking thread once the caller is authorized for `scope`.
async fn as_admin<T, F>(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    scope: Scope,
    work: F,
) -> Result<T, ApiError>
where
    F: FnOnce(&AppState, &mut dyn Store, By) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let token = optional_bearer(req)?;
    let origin = origin(req, &state.settings.trusted_proxies);
    blocking(state, move |state, store| {
        let caller = authorize(state, store, token.as_deref(), scope)?;
        log::debug!("admin API call by {}", caller.actor());
        work(state, store, By { caller, origin })
    })
    .await
}

/// The bearer token must be there before a body is read.
fn require_bearer(req: &HttpRequest) -> Result<(), ApiError> {
    match optional_bearer(req)? {
        Some(_) => Ok(()),
        None => Err(ApiError::new(ErrorCode::MissingToken)),
    }
}

fn find_user(store: &mut dyn Store, id: &str) -> Result<User, ApiError> {
    store
        .find_user_by_id(id)?
        .ok_or_else(ApiError::no_such_user)
}

/// The org must exist: 404 ORG_NOT_FOUND for an unknown id in a body.
fn require_org(store: &mut dyn Store, org_id: Option<&str>) -> Result<(), ApiError> {
    match org_id {
        Some(id) if store.org_name(id)?.is_none() => Err(ApiError::new(ErrorCode::OrgNotFound)),
        _ => Ok(()),
    }
}

/// The admin API's routes; each path answers 405 with `Allow` for other methods.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use actix_web::Resource;
    let not_allowed = |allow: &'static str| web::to(move || super::method_not_allowed(allow));
    let resource = |path: &str, allow: &'static str| -> Resource {
        web::resource(path).default_service(not_allowed(allow))
    };
    cfg.service(
        resource("/admin/audit", "GET, HEAD")
            .route(web::get().to(audit::list_events))
            .route(web::head().to(audit::list_events)),
    )
    .service(
        resource("/admin/users", "GET, HEAD, POST")
            .route(web::get().to(users::list_users))
            .route(web::head().to(users::list_users))
            .route(web::post().to(user_edits::create_user)),
    )
    .service(
        resource("/admin/users/{id}", "GET, HEAD, PATCH, DELETE")
            .route(web::get().to(users::get_user))
            .route(web::head().to(users::get_user))
            .route(web::patch().to(user_edits::update_user))
            .route(web::delete().to(users::delete_user)),
    )
    .service(
        resource("/admin/users/{id}/password", "POST")
            .route(web::post().to(user_actions::set_password)),
    )
    .service(
        resource("/admin/users/{id}/link", "POST").route(web::post().to(user_actions::create_link)),
    )
    .service(
        resource("/admin/users/{id}/unlock", "POST").route(web::post().to(user_actions::unlock)),
    )
    .service(resource("/admin/users/{id}/mfa", "DELETE").route(web::delete().to(mfa::reset_mfa)))
    .service(
        resource("/admin/users/{id}/sessions", "GET, HEAD, DELETE")
            .route(web::get().to(sessions::list_user_sessions))
            .route(web::head().to(sessions::list_user_sessions))
            .route(web::delete().to(sessions::revoke_user_sessions)),
    )
    .service(
        resource("/admin/sessions/{sid}", "DELETE")
            .route(web::delete().to(sessions::revoke_session)),
    )
    .service(
        resource("/admin/clients", "GET, HEAD, POST")
            .route(web::get().to(clients::list_clients))
            .route(web::head().to(clients::list_clients))
            .route(web::post().to(clients::create_client)),
    )
    .service(
        resource("/admin/clients/{id}", "DELETE").route(web::delete().to(clients::remove_client)),
    )
    .service(
        resource("/admin/orgs", "GET, HEAD, POST")
            .route(web::get().to(orgs::list_orgs))
            .route(web::head().to(orgs::list_orgs))
            .route(web::post().to(orgs::create_org)),
    )
    .service(
        resource("/admin/orgs/{id}", "PATCH, DELETE")
            .route(web::patch().to(orgs::rename_org))
            .route(web::delete().to(orgs::delete_org)),
    );
}
