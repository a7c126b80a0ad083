//! `GET /oauth/{vendor}/start` and `/callback`: the OAuth 2.0 authorization-code flow for
//! vendors configured with one (Splashtop's `auth.type = "oauth2"`): the vendor's adapter
//! offers the flow ([`crate::remote::OAuthFlow`]), these routes guard it.
//!
//! How it is protected:
//! - `start` needs the admin token, as a bearer token or, so that a browser can simply open the
//!   URL, as the password of HTTP Basic (any user name). Without this, anyone who can reach
//!   deskbridge could start a flow, approve it with their own Splashtop account and have
//!   deskbridge act as them.
//! - `start` issues a `state` of 256 random bits, stored server-side (in the store, so a restart
//!   in between does not matter) with the vendor it is for and a 10-minute expiry.
//! - `callback` accepts only such a state, for the same vendor, unexpired, and consumes it in one
//!   atomic step, so it works once. Anything else is refused with 403 before the code is used.
//! - Neither route ever shows a token; the callback answers with expiry times only.

use super::error::ApiError;
use super::extract::{PathParams, QueryParams};
use super::AppState;
use crate::clock::Millis;
use crate::ids::VendorId;
use crate::remote::OAuthFlow;
use crate::runtime::Runtime;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

const STATE_TTL_SECS: i64 = 600;
const STATE_PREFIX: &str = "oauth/state/";

#[derive(Serialize, Deserialize)]
struct PendingState {
    vendor: String,
    expires_at: i64,
}

/// The admin token as `Bearer <token>` or as the Basic password.
fn is_admin(st: &AppState, headers: &HeaderMap) -> bool {
    let rt = st.current.get();
    let Some(admin) = rt.config.server.admin_token.as_ref() else {
        return false;
    };
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(t) = auth.strip_prefix("Bearer ") {
        return admin.matches(t.trim().as_bytes());
    }
    let basic = auth.strip_prefix("Basic ").and_then(|b| {
        base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .ok()
    });
    let password = basic
        .as_deref()
        .and_then(|b| b.iter().position(|c| *c == b':').map(|i| &b[i + 1..]));
    password.is_some_and(|p| admin.matches(p))
}

fn unauthorised() -> Response {
    let body = json!({"error": {"code": "unauthorized", "message": "starting an OAuth authorisation needs the admin token (Bearer, or as the HTTP Basic password)", "header": "authorization"}});
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Basic realm=\"deskbridge admin\"")],
        Json(body),
    )
        .into_response()
}

fn forbidden(msg: String) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "invalid_state", msg)
}

/// The vendor's OAuth flow, or 404 when the vendor is unknown or not configured for OAuth.
fn client<'r>(rt: &'r Runtime, vendor: &str) -> Result<&'r dyn OAuthFlow, ApiError> {
    rt.vendors
        .get(&VendorId::new(vendor))
        .and_then(|v| v.oauth())
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "vendor {vendor:?} is not configured with auth.type = \"oauth2\""
            ))
        })
}

pub async fn start(
    State(st): State<AppState>,
    PathParams(vendor): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !is_admin(&st, &headers) {
        return Ok(unauthorised());
    }
    let rt = st.current.get();
    let oauth = client(&rt, &vendor)?;
    let store = &st.shared.store;
    let now = Millis::now().unix_secs();
    for (key, raw) in store.kv_scan(STATE_PREFIX).await? {
        let expired = serde_json::from_slice::<PendingState>(&raw)
            .map(|p| p.expires_at <= now)
            .unwrap_or(true);
        if expired {
            store.kv_take(&key).await?;
        }
    }
    let state = hex::encode(rand::random::<[u8; 32]>());
    let pending = PendingState {
        vendor: vendor.clone(),
        expires_at: now + STATE_TTL_SECS,
    };
    store
        .kv_put(
            &format!("{STATE_PREFIX}{state}"),
            &serde_json::to_vec(&pending).unwrap_or_default(),
        )
        .await?;
    store.flush().await?;
    tracing::info!(%vendor, "OAuth authorisation started; sending the admin's browser to the vendor");
    Ok((
        StatusCode::FOUND,
        [(header::LOCATION, oauth.authorize_url(&state))],
    )
        .into_response())
}

pub async fn callback(
    State(st): State<AppState>,
    PathParams(vendor): PathParams<String>,
    QueryParams(q): QueryParams<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rt = st.current.get();
    let oauth = client(&rt, &vendor)?;
    let param = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let state = param("state").ok_or_else(|| {
        ApiError::bad_request("missing_state", "the callback has no state parameter")
            .with_field("field", "state")
    })?;
    let again = format!("start again at /oauth/{vendor}/start");
    let taken = st
        .shared
        .store
        .kv_take(&format!("{STATE_PREFIX}{state}"))
        .await?;
    let pending: Option<PendingState> = taken.and_then(|raw| serde_json::from_slice(&raw).ok());
    let Some(pending) = pending else {
        tracing::warn!(%vendor, "OAuth callback refused: a state this deskbridge did not issue, or one already used");
        return Err(forbidden(format!(
            "the state was not issued by this deskbridge or was used already: {again}"
        )));
    };
    if pending.vendor != vendor || pending.expires_at <= Millis::now().unix_secs() {
        tracing::warn!(%vendor, "OAuth callback refused: the state is for another vendor or expired");
        return Err(forbidden(format!(
            "the state is for another vendor or has expired: {again}"
        )));
    }
    if let Some(e) = param("error") {
        let why = param("error_description")
            .map(|d| format!("{e}: {d}"))
            .unwrap_or_else(|| e.to_string());
        return Err(ApiError::bad_request(
            "oauth_refused",
            format!("the vendor did not authorise deskbridge ({why}): {again}"),
        ));
    }
    let code = param("code").ok_or_else(|| {
        ApiError::bad_request("missing_code", "the callback has no code parameter")
            .with_field("field", "code")
    })?;
    match oauth.exchange(code, state).await {
        Ok(pair) => Ok(Json(json!({
            "status": "authorised",
            "vendor": vendor,
            "access_token_expires_at": Millis::from_unix_secs(pair.access_expires_at),
            "refresh_token_expires_at": Millis::from_unix_secs(pair.refresh_expires_at),
        }))),
        Err(e) if matches!(e.retry(), crate::outbound::Retry::Transient { .. }) => {
            Err(ApiError::unavailable(format!(
                "the code could not be exchanged now ({e}): {again}"
            )))
        }
        Err(e) => Err(ApiError::bad_request(
            "oauth_exchange_failed",
            format!("the code was refused ({e}): {again}"),
        )),
    }
}
