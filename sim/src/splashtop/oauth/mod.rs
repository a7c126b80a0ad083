//! The Splashtop simulator's OAuth 2.0 endpoints on the portal host (contracts/splashtop.md
//! §Authentication): `GET /oauth2/authorize`, which plays a user who signs in and approves (or,
//! when told to, refuses) and sends the browser back to the registered redirect URI with the
//! `state` untouched; and `POST /oauth2/token`, form-encoded, for the `authorization_code` grant
//! (which must carry the same `state`: Splashtop uses it to generate the token) and the
//! `refresh_token` grant, answering RFC 6749 JSON. Codes are single use and short-lived; access
//! tokens live 24 h and refresh tokens 30 days unless a test shortens them. Refresh tokens are
//! not rotated: each keeps the end it was issued with, which is the case deskbridge must warn
//! about in advance.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Form, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{SplashtopSim, StState};

const CODE_TTL_SECS: i64 = 600;

/// How the token endpoint was used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OAuthCounts {
    pub codes_exchanged: u32,
    pub refreshed: u32,
    /// Refused token requests (bad client, code or refresh token).
    pub refused: u32,
}

struct Client {
    secret: String,
    redirect_uri: String,
}

/// An authorisation code and what it was issued for: the exchange must name the same client,
/// redirect URI and `state` (Splashtop: the state is used later to generate the access token).
struct Code {
    client_id: String,
    redirect_uri: String,
    state: String,
    expires_at: i64,
}

pub(super) struct OAuthSim {
    clients: HashMap<String, Client>,
    /// code → the authorisation it stands for.
    codes: HashMap<String, Code>,
    /// access token → expires at.
    access: HashMap<String, i64>,
    /// refresh token → (client id, expires at).
    refresh: HashMap<String, (String, i64)>,
    access_ttl: i64,
    refresh_ttl: i64,
    consent: bool,
    counts: OAuthCounts,
    issued: Vec<String>,
}

impl Default for OAuthSim {
    fn default() -> Self {
        OAuthSim {
            clients: HashMap::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            access_ttl: 24 * 3600,
            refresh_ttl: 30 * 24 * 3600,
            consent: true,
            counts: OAuthCounts::default(),
            issued: vec![],
        }
    }
}

fn now() -> i64 {
    crate::unix_secs(std::time::SystemTime::now()) as i64
}

impl OAuthSim {
    /// Whether `token` is a live OAuth access token (the API's bearer check asks).
    pub(super) fn access_ok(&self, token: &str) -> bool {
        self.access.get(token).is_some_and(|exp| now() < *exp)
    }
}

impl SplashtopSim {
    /// Registers an OAuth app, as Splashtop does on request.
    pub fn register_oauth_client(&self, client_id: &str, client_secret: &str, redirect_uri: &str) {
        let client = Client {
            secret: client_secret.into(),
            redirect_uri: redirect_uri.into(),
        };
        self.inner
            .state
            .data()
            .oauth
            .clients
            .insert(client_id.into(), client);
    }

    /// Lifetimes of tokens issued from now on (default 24 h and 30 days).
    pub fn set_oauth_ttls(&self, access: Duration, refresh: Duration) {
        let mut d = self.inner.state.data();
        d.oauth.access_ttl = access.as_secs() as i64;
        d.oauth.refresh_ttl = refresh.as_secs() as i64;
    }

    /// Whether the user at the authorize page approves (default) or refuses.
    pub fn set_oauth_consent(&self, approve: bool) {
        self.inner.state.data().oauth.consent = approve;
    }

    /// Every OAuth token issued is dead (the user revoked the app).
    pub fn revoke_oauth(&self) {
        let mut d = self.inner.state.data();
        d.oauth.access.clear();
        d.oauth.refresh.clear();
    }

    pub fn oauth_counts(&self) -> OAuthCounts {
        self.inner.state.data().oauth.counts
    }

    /// Every code, access and refresh token handed out (to check none leaks).
    pub fn oauth_issued(&self) -> Vec<String> {
        self.inner.state.data().oauth.issued.clone()
    }
}

fn error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(uri).expect("registered redirect URIs are absolute");
    url.query_pairs_mut().extend_pairs(pairs);
    url.to_string()
}

pub(super) async fn authorize(
    State(st): State<Arc<StState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let mut d = st.data();
    let Some(client) = d.oauth.clients.get(get("client_id")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "unknown client_id",
        );
    };
    // A redirect URI that is not the registered one is never redirected to (RFC 6749 §4.1.2.1).
    if get("redirect_uri") != client.redirect_uri {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri does not match the registered one",
        );
    }
    let redirect = client.redirect_uri.clone();
    let state = get("state");
    let refusal = if get("response_type") != "code" {
        Some("unsupported_response_type")
    } else if get("scope").is_empty() {
        Some("invalid_scope")
    } else if !d.oauth.consent {
        Some("access_denied")
    } else {
        None
    };
    let location = match refusal {
        Some(e) => with_query(&redirect, &[("error", e), ("state", state)]),
        None => {
            let code = uuid::Uuid::new_v4().simple().to_string();
            d.oauth.codes.insert(
                code.clone(),
                Code {
                    client_id: get("client_id").into(),
                    redirect_uri: redirect.clone(),
                    state: state.into(),
                    expires_at: now() + CODE_TTL_SECS,
                },
            );
            d.oauth.issued.push(code.clone());
            with_query(&redirect, &[("code", &code), ("state", state)])
        }
    };
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

fn issue(o: &mut OAuthSim, refresh: Option<(String, i64)>, client_id: &str) -> Value {
    let access = format!("st_at_{}", uuid::Uuid::new_v4().simple());
    o.access.insert(access.clone(), now() + o.access_ttl);
    o.issued.push(access.clone());
    let (refresh, refresh_exp) = refresh.unwrap_or_else(|| {
        let r = format!("st_rt_{}", uuid::Uuid::new_v4().simple());
        o.issued.push(r.clone());
        (r, now() + o.refresh_ttl)
    });
    o.refresh
        .insert(refresh.clone(), (client_id.into(), refresh_exp));
    json!({"access_token": access, "refresh_token": refresh, "expires_in": o.access_ttl, "token_type": "Bearer",
           "refresh_token_expires_in": refresh_exp - now()})
}

pub(super) async fn token(
    State(st): State<Arc<StState>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let mut d = st.data();
    let o = &mut d.oauth;
    let client_ok = o
        .clients
        .get(get("client_id"))
        .is_some_and(|c| c.secret == get("client_secret"));
    if !client_ok {
        o.counts.refused += 1;
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }
    let answer = match get("grant_type") {
        "authorization_code" => match o.codes.remove(get("code")) {
            Some(c)
                if c.client_id == get("client_id")
                    && c.redirect_uri == get("redirect_uri")
                    && c.state == get("state")
                    && now() < c.expires_at =>
            {
                o.counts.codes_exchanged += 1;
                Ok(issue(o, None, get("client_id")))
            }
            _ => Err("the authorization code is invalid, expired or already used, or the state is not the one it was issued with"),
        },
        "refresh_token" => match o.refresh.get(get("refresh_token")).cloned() {
            Some((c, exp)) if c == get("client_id") && now() < exp => {
                o.counts.refreshed += 1;
                Ok(issue(
                    o,
                    Some((get("refresh_token").into(), exp)),
                    get("client_id"),
                ))
            }
            _ => Err("the refresh token is invalid, expired or revoked"),
        },
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            )
        }
    };
    match answer {
        Ok(v) => Json(v).into_response(),
        Err(why) => {
            o.counts.refused += 1;
            error(StatusCode::BAD_REQUEST, "invalid_grant", why)
        }
    }
}

#[cfg(test)]
mod tests;
