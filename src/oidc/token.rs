//! POST /oauth/token (SPEC §13, RFC 6749 §4.1.3 and §6): a code for tokens,
//! or a refresh token for new ones, with errors in RFC 6749 §5.2's shape.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use base64ct::{Base64, Encoding};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::clients::secret_digest;
use super::id_token::{self, Signing};
use super::{has_scope, pkce_matches};
use crate::clock::now;
use crate::error::ApiError;
use crate::ids::new_id;
use crate::routes::pair::{sign_pair_for, token_response, ForClient, TokenPair};
use crate::routes::refresh::rotate;
use crate::routes::{blocking, form_body, origin};
use crate::state::AppState;
use crate::store::audit::{revoked, SYSTEM};
use crate::store::{Client, Origin, Session, Status, Store};
use crate::tokens::{digest, same_digest};

/// An OAuth error (RFC 6749 §5.2): its status, `error` and a description.
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> OAuthError {
        let status = match error {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        OAuthError {
            status,
            error,
            description: description.into(),
        }
    }

    fn grant(description: &str) -> OAuthError {
        OAuthError::new("invalid_grant", description)
    }

    fn response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"authlite\""));
        }
        res.json(json!({ "error": self.error, "error_description": self.description }))
    }
}

/// Our own failures keep their cause in the log; a busy database is
/// `temporarily_unavailable`, anything else `server_error`.
impl From<ApiError> for OAuthError {
    fn from(e: ApiError) -> OAuthError {
        match e.status.as_u16() {
            503 => OAuthError::new("temporarily_unavailable", "try again in a moment"),
            500.. => OAuthError::new("server_error", "something went wrong on the server"),
            _ => OAuthError::grant("the grant is not valid"),
        }
    }
}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> OAuthError {
        OAuthError::from(ApiError::from(e))
    }
}

/// An error of the token endpoint (RFC 6749 §5.2).
#[derive(Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`,
    /// `unsupported_grant_type`, `invalid_scope`
    error: String,
    error_description: String,
}

/// The token answer (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Serialize, ToSchema)]
pub struct TokenAnswer {
    access_token: String,
    /// `Bearer`
    token_type: &'static str,
    /// Seconds the access token lives
    expires_in: u64,
    id_token: String,
    /// The scope granted
    scope: String,
    /// Only when `offline_access` was granted
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

/// The request's parameters, each at most once (RFC 6749 §3.2).
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut found = self.0.iter().filter(|(n, _)| n == name);
        match (found.next(), found.next()) {
            (_, Some(_)) => Err(OAuthError::new(
                "invalid_request",
                format!("{name} is given more than once"),
            )),
            (Some((_, v)), None) if !v.is_empty() => Ok(Some(v)),
            _ => Ok(None),
        }
    }

    fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?
            .ok_or_else(|| OAuthError::new("invalid_request", format!("{name} is missing")))
    }
}

/// The form of POST /oauth/token (RFC 6749 §4.1.3 and §6): read as its
/// pairs by `Params`, this type only describes it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// `authorization_code` or `refresh_token`
    grant_type: String,
    /// authorization_code: the code from the redirect
    code: Option<String>,
    /// authorization_code: the redirect URI the code was made for
    redirect_uri: Option<String>,
    /// authorization_code: the PKCE verifier, when the request had a challenge
    code_verifier: Option<String>,
    /// refresh_token: the refresh token
    refresh_token: Option<String>,
    /// refresh_token: at most the scope granted
    scope: Option<String>,
    /// client_secret_post and public clients
    client_id: Option<String>,
    /// client_secret_post
    client_secret: Option<String>,
}

#[utoipa::path(post, path = "/oauth/token", tag = "oidc", operation_id = "oauthToken",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded",
        description = "grant_type=authorization_code with code, redirect_uri, code_verifier; or grant_type=refresh_token with refresh_token. The client authenticates with HTTP Basic (client_secret_basic) or client_id and client_secret in the body (client_secret_post); a public client sends client_id alone"),
    responses(
        (status = 200, description = "Tokens (Cache-Control: no-store)", body = TokenAnswer),
        (status = 400, description = "RFC 6749 §5.2: invalid_request, invalid_grant (a code unknown, used, expired, for another client, redirect URI or verifier; a second use revokes what the first issued), unsupported_grant_type, invalid_scope", body = OAuthErrorBody),
        (status = 401, description = "invalid_client: an unknown client, a wrong or missing secret", body = OAuthErrorBody,
            headers(("WWW-Authenticate" = String, description = "Basic realm=\"authlite\""))),
        (status = 503, description = "temporarily_unavailable", body = OAuthErrorBody),
    ))]
pub async fn token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let params = match form_body(&req, payload).await {
        Ok(pairs) => Params(pairs),
        Err(Some(e)) => return OAuthError::new("invalid_request", e.message).response(),
        Err(None) => {
            let why = "the body must be an application/x-www-form-urlencoded form";
            return OAuthError::new("invalid_request", why).response();
        }
    };
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let origin = origin(&req, &state.settings.trusted_proxies);
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(512).collect::<String>());
    let answer = blocking(&state, move |state, store| {
        Ok(grant(
            state,
            store,
            &params,
            basic.as_deref(),
            (origin, user_agent),
        ))
    })
    .await
    .unwrap_or_else(|e| Err(OAuthError::from(e)));
    match answer {
        Ok(answer) => match serde_json::to_string(&answer) {
            Ok(body) => token_response().body(body),
            Err(e) => OAuthError::from(ApiError::internal(e)).response(),
        },
        Err(e) => e.response(),
    }
}

fn grant(
    state: &AppState,
    store: &mut dyn Store,
    params: &Params,
    basic: Option<&str>,
    from: (Origin, Option<String>),
) -> Result<TokenAnswer, OAuthError> {
    let grant_type = params.require("grant_type")?;
    if !matches!(grant_type, "authorization_code" | "refresh_token") {
        return Err(OAuthError::new(
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
        ));
    }
    let client = authenticate_client(store, params, basic)?;
    match grant_type {
        "authorization_code" => redeem_code(state, store, params, &client, from),
        _ => refresh(state, store, params, &client, &from.0),
    }
}

/// The client, authenticated as it registered: a confidential client by its
/// secret (Basic or in the body, not both), a public one by its id alone.
fn authenticate_client(
    store: &mut dyn Store,
    params: &Params,
    basic: Option<&str>,
) -> Result<Client, OAuthError> {
    let unknown = || OAuthError::new("invalid_client", "client authentication failed");
    let from_body = (params.get("client_id")?, params.get("client_secret")?);
    let (id, secret) = match (basic, from_body) {
        (Some(header), (_, None)) => {
            let (id, secret) = read_basic(header).ok_or_else(unknown)?;
            if from_body.0.is_some_and(|body_id| body_id != id) {
                return Err(OAuthError::new(
                    "invalid_request",
                    "two different client ids",
                ));
            }
            (id, Some(secret))
        }
        (Some(_), (_, Some(_))) => {
            return Err(OAuthError::new(
                "invalid_request",
                "use one way of client authentication, not two",
            ))
        }
        (None, (Some(id), secret)) => (id.to_string(), secret.map(str::to_string)),
        (None, (None, _)) => return Err(OAuthError::new("invalid_client", "no client_id")),
    };
    let stored = store.find_client(&id)?.ok_or_else(unknown)?;
    let good = match (&stored.secret_digest, secret) {
        (None, None) => true,
        (Some(kept), Some(secret)) => same_digest(kept, &secret_digest(&secret)),
        _ => false,
    };
    match good {
        true => Ok(stored.client),
        false => Err(unknown()),
    }
}

/// `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn read_basic(header: &str) -> Option<(String, String)> {
    let encoded = header.strip_prefix("Basic ")?.trim();
    let decoded = String::from_utf8(Base64::decode_vec(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| -> Option<String> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={s}")).ok()?;
        match pairs.as_slice() {
            [(_, value)] => Some(value.clone()),
            _ => None,
        }
    };
    Some((unescape(id)?, unescape(secret)?))
}

fn redeem_code(
    state: &AppState,
    store: &mut dyn Store,
    params: &Params,
    client: &Client,
    (origin, user_agent): (Origin, Option<String>),
) -> Result<TokenAnswer, OAuthError> {
    let code = params.require("code")?;
    let redirect_uri = params.require("redirect_uri")?;
    let verifier = params.get("code_verifier")?;
    let code_digest = digest(code);
    let found = store.find_code(&code_digest)?;
    let stored = found
        .filter(|c| c.client_id == client.id)
        .ok_or_else(|| OAuthError::grant("the code is not valid"))?;
    let now = now();
    if stored.used_at.is_some() {
        revoke_reused(state, stored.sid.clone(), &origin)?;
        return Err(OAuthError::grant("the code was used already"));
    }
    if stored.expires_at < now {
        return Err(OAuthError::grant("the code has expired"));
    }
    if stored.redirect_uri != redirect_uri {
        return Err(OAuthError::grant(
            "redirect_uri is not the one the code was made for",
        ));
    }
    let pkce_ok = match (&stored.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) => pkce_matches(verifier, challenge),
        (None, None) => true,
        _ => false,
    };
    if !pkce_ok {
        return Err(OAuthError::grant(
            "the code_verifier does not match the code_challenge",
        ));
    }
    let user = store
        .find_user_by_id(&stored.user_id)?
        .filter(|u| u.status == Status::Active)
        .ok_or_else(|| OAuthError::grant("the user is not active"))?;
    let sid = new_id();
    let for_client = ForClient {
        client_id: client.id.clone(),
        scope: stored.scope.clone(),
    };
    let ring = state.keys.ring(store);
    let signed = sign_pair_for(
        state,
        &ring,
        &user,
        (&sid, &stored.amr),
        now,
        Some(&for_client),
    )?;
    let id_token = id_token::sign(
        &ring,
        &user,
        &Signing {
            issuer: &state.settings.issuer,
            client_id: &client.id,
            sid: &sid,
            scope: &stored.scope,
            nonce: stored.nonce.as_deref(),
            amr: &stored.amr,
            auth_time: stored.auth_time,
            now,
            lifetime: state.settings.access_ttl,
        },
    )
    .map_err(ApiError::internal)?;
    let session = Session {
        id: sid.clone(),
        user_id: user.id.clone(),
        created_at: now,
        last_used_at: now,
        expires_at: now.saturating_add(state.settings.refresh_ttl),
        revoked_at: None,
        user_agent,
        ip: origin.ip.clone(),
        amr: stored.amr.clone(),
    };
    let grant = crate::store::Grant {
        sid: sid.clone(),
        client_id: client.id.clone(),
        scope: stored.scope.clone(),
        auth_time: stored.auth_time,
    };
    let pair = signed.pair;
    let (refresh_jti, refresh_hash, refresh_exp) = (
        pair.token_id.clone(),
        digest(&pair.refresh_token),
        now.saturating_add(state.settings.refresh_ttl),
    );
    let won = state.db.write(move |store| {
        if !store.spend_code(&code_digest, now, &sid)? {
            // A racing redemption won: this second use revokes what it issued.
            let first = store.find_code(&code_digest)?.and_then(|c| c.sid);
            if let Some(first) = first {
                store.revoke_session(&first, now)?;
            }
            return Ok(false);
        }
        let refresh = crate::store::NewRefresh {
            jti: &refresh_jti,
            hash: &refresh_hash,
            expires_at: refresh_exp,
        };
        store.create_session(&session, &refresh)?;
        store.insert_grant(&grant)?;
        Ok::<_, ApiError>(true)
    })?;
    state.sessions.clear();
    if !won {
        log::warn!("an authorization code was used twice: its session is revoked");
        return Err(OAuthError::grant("the code was used already"));
    }
    Ok(answer_from(state, pair, id_token, &stored.scope))
}

/// A second use of a code revokes the session its first use made.
fn revoke_reused(state: &AppState, sid: Option<String>, origin: &Origin) -> Result<(), OAuthError> {
    let Some(sid) = sid else { return Ok(()) };
    log::warn!("an authorization code was used twice: session {sid} revoked");
    let event = revoked(&sid, "revoked", SYSTEM, now(), origin);
    state.write_ending_sessions(move |store| {
        if store.revoke_session(&sid, now())? {
            store.append_event(&event)?;
        }
        Ok::<_, ApiError>(())
    })?;
    Ok(())
}

fn refresh(
    state: &AppState,
    store: &mut dyn Store,
    params: &Params,
    client: &Client,
    origin: &Origin,
) -> Result<TokenAnswer, OAuthError> {
    let token = params.require("refresh_token")?;
    let ring = state.keys.ring(store);
    let claims = ring
        .peek_refresh(token, &state.settings.issuer)
        .map_err(|_| OAuthError::grant("the refresh token is not valid"))?;
    let grant = store
        .find_grant(&claims.sid)?
        .filter(|g| g.client_id == client.id && has_scope(&g.scope, "offline_access"))
        .ok_or_else(|| OAuthError::grant("the refresh token is not this client's"))?;
    if let Some(asked) = params.get("scope")? {
        if !asked
            .split(' ')
            .all(|s| s.is_empty() || has_scope(&grant.scope, s))
        {
            return Err(OAuthError::new("invalid_scope", "more than was granted"));
        }
    }
    let for_client = ForClient {
        client_id: client.id.clone(),
        scope: grant.scope.clone(),
    };
    let answer = rotate(state, store, token, origin, Some(&for_client)).map_err(|e| {
        match e.status.as_u16() {
            401 => OAuthError::grant(e.message.as_ref()),
            _ => OAuthError::from(e),
        }
    })?;
    let pair: TokenPair = serde_json::from_str(&answer).map_err(ApiError::internal)?;
    let user = store
        .find_user_by_id(&pair.user.id)?
        .ok_or_else(|| OAuthError::grant("the user is gone"))?;
    let amr = store
        .find_session(&grant.sid)?
        .map(|s| s.amr)
        .unwrap_or_default();
    let id_token = id_token::sign(
        &ring,
        &user,
        &Signing {
            issuer: &state.settings.issuer,
            client_id: &client.id,
            sid: &grant.sid,
            scope: &grant.scope,
            nonce: None,
            amr: &amr,
            auth_time: grant.auth_time,
            now: now(),
            lifetime: state.settings.access_ttl,
        },
    )
    .map_err(ApiError::internal)?;
    Ok(answer_from(state, pair, id_token, &grant.scope))
}

fn answer_from(state: &AppState, pair: TokenPair, id_token: String, scope: &str) -> TokenAnswer {
    TokenAnswer {
        expires_in: pair
            .expires_at
            .saturating_sub(now())
            .min(state.settings.access_ttl),
        access_token: pair.access_token,
        token_type: "Bearer",
        id_token,
        scope: scope.to_string(),
        refresh_token: has_scope(scope, "offline_access").then_some(pair.refresh_token),
    }
}
