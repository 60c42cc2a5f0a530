//! GET /admin/audit: the audit log, newest first, a page at a time (SPEC §8).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, ToSchema};

use super::auth::Scope;
use super::{as_admin, require_bearer};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::store::audit::EVENT_TYPES;
use crate::store::{AuditEvent, AuditQuery};

/// Events a page holds when `limit` is not given, and at most.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;
/// The last second of the year 9999: later times are refused, not misread.
const MAX_TIME: u64 = 253_402_300_799;

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AuditListQuery {
    /// Only the events of this user
    user_id: Option<String>,
    /// Only the events of this type
    #[serde(rename = "type")]
    #[param(rename = "type", schema_with = event_type)]
    kind: Option<String>,
    /// Unix seconds: only events at or after it
    #[param(value_type = Option<u64>, maximum = 253_402_300_799.0)]
    since: Option<String>,
    /// Unix seconds: only events at or before it
    #[param(value_type = Option<u64>, maximum = 253_402_300_799.0)]
    until: Option<String>,
    /// 1-200, default 50
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// `nextCursor` of the page before
    #[param(pattern = "^[0-9]{1,18}$")]
    cursor: Option<String>,
}

/// The event types of SPEC §8, as the document lists them.
fn event_type() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(EVENT_TYPES.iter().copied()))
        .into()
}

/// One event of the audit log (SPEC §8).
#[derive(Serialize, ToSchema)]
#[schema(as = AuditEvent)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventView {
    /// Later events have higher ids
    id: i64,
    /// Unix seconds
    at: u64,
    #[serde(rename = "type")]
    #[schema(rename = "type", schema_with = event_type)]
    kind: String,
    /// The user it is about; null when none is known
    user_id: Option<String>,
    /// `user:ID`, `apikey:ID`, `cli` or `system`
    actor: String,
    ip: Option<String>,
    user_agent: Option<String>,
    /// Fields that depend on the type; never a secret
    #[schema(value_type = Object)]
    detail: Value,
}

impl From<AuditEvent> for AuditEventView {
    fn from(e: AuditEvent) -> AuditEventView {
        AuditEventView {
            id: e.id,
            at: e.at,
            kind: e.kind,
            user_id: e.user_id,
            actor: e.actor,
            ip: e.ip,
            user_agent: e.user_agent,
            detail: e.detail,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    success: bool,
    /// Newest first
    events: Vec<AuditEventView>,
    /// null on the last page
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/admin/audit", tag = "admin", security(("bearer" = [])),
    params(AuditListQuery),
    responses(
        (status = 200, description = "A page of events, newest first", body = AuditPage),
        (status = 400, description = "INVALID_REQUEST: a bad type, since, until, limit or cursor", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: neither an admin nor a key with audit:read", body = ErrorBody),
    ))]
pub async fn list_events(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require_bearer(&req)?;
    let query = web::Query::<AuditListQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::invalid_request(format!("The query could not be read: {e}")))?;
    let query = read_query(query.into_inner())?;
    // No id holds a NUL, and PostgreSQL refuses one in text: no event matches.
    let matches_none = query.user_id.as_deref().is_some_and(|id| id.contains('\0'));
    let page = as_admin(&req, &state, Scope::AuditRead, move |_, store, _| {
        let limit = query.limit as usize;
        // One more than asked tells whether another page follows.
        let mut found = match matches_none {
            true => Vec::new(),
            false => store.list_events(&AuditQuery {
                limit: query.limit + 1,
                ..query
            })?,
        };
        let more = found.len() > limit;
        found.truncate(limit);
        let next_cursor = found.last().filter(|_| more).map(|e| e.id.to_string());
        Ok(AuditPage {
            success: true,
            events: found.into_iter().map(AuditEventView::from).collect(),
            next_cursor,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

fn read_query(query: AuditListQuery) -> Result<AuditQuery, ApiError> {
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::invalid_request("limit: a whole number from 1 to 200"))?,
    };
    if let Some(kind) = query.kind.as_deref() {
        if !EVENT_TYPES.contains(&kind) {
            return Err(ApiError::invalid_request(
                "type: not an event type (the document lists them)",
            ));
        }
    }
    let before = query
        .cursor
        .as_deref()
        .map(|raw| {
            Some(raw)
                .filter(|c| (1..=18).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|c| c.parse::<i64>().ok())
                .ok_or_else(|| ApiError::invalid_request("cursor: not a cursor this server gave"))
        })
        .transpose()?;
    Ok(AuditQuery {
        user_id: query.user_id,
        kind: query.kind,
        since: time("since", query.since.as_deref())?,
        until: time("until", query.until.as_deref())?,
        before,
        limit,
    })
}

/// A time in the query: whole Unix seconds, 0 to MAX_TIME.
fn time(name: &str, raw: Option<&str>) -> Result<Option<u64>, ApiError> {
    raw.map(|raw| {
        raw.parse::<u64>()
            .ok()
            .filter(|t| *t <= MAX_TIME && raw.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                ApiError::invalid_request(format!(
                    "{name}: whole Unix seconds from 0 to {MAX_TIME}"
                ))
            })
    })
    .transpose()
}
