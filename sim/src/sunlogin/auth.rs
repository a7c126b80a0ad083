//! The simulator's two checks: the platform signature on every call (APP Key, timestamp within
//! 300 s, a nonce never seen in the last 300 s, HMAC-SHA256 over the canonical request), and
//! the identity on business calls (an AccessToken it issued, not expired, not revoked). Also
//! the grant book: JWT AccessTokens paired with single-use RefreshTokens.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{failure, now, SlState};

/// Timestamps further than this from the server clock are refused; nonces are remembered as long.
const WINDOW_SECS: i64 = 300;
const MIN_NONCE: usize = 16;

fn hmac_hex(key: &[u8], text: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The contract's canonical request, written out independently of the product's copy.
fn expected_signature(
    secret: &str,
    method: &str,
    target: &str,
    ts: &str,
    nonce: &str,
    body: &[u8],
) -> String {
    let body_hash = hex::encode(Sha256::digest(body));
    hmac_hex(
        secret.as_bytes(),
        &[method, target, ts, nonce, &body_hash].join("\n"),
    )
}

/// Middleware on every route: refuse what is not signed by the project.
pub(super) async fn verify_signature(
    State(st): State<Arc<SlState>>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return failure(StatusCode::PAYLOAD_TOO_LARGE, 41300, "body too large");
    };
    let h = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let (key, ts, nonce, sig) = (
        h("x-appkey"),
        h("x-timestamp"),
        h("x-nonce"),
        h("x-signature"),
    );
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let now = now();
    let refusal = if key != st.app_key {
        Some((40300, "X-Appkey is missing or not this project's APP Key"))
    } else if !ts
        .parse::<i64>()
        .is_ok_and(|t| (t - now).abs() <= WINDOW_SECS)
    {
        Some((
            40301,
            "X-Timestamp is missing or more than 300 s from the server clock",
        ))
    } else if nonce.len() < MIN_NONCE {
        Some((40302, "X-Nonce is missing or shorter than 16 characters"))
    } else if !sig.eq_ignore_ascii_case(&expected_signature(
        &st.app_secret,
        parts.method.as_str(),
        target,
        &ts,
        &nonce,
        &bytes,
    )) {
        Some((40303, "X-Signature does not match the request"))
    } else {
        let mut d = st.data();
        d.nonces.retain(|_, seen| now - *seen <= WINDOW_SECS);
        if d.nonces.insert(nonce.clone(), now).is_some() {
            Some((40304, "X-Nonce was already used"))
        } else {
            None
        }
    };
    if let Some((code, msg)) = refusal {
        st.data().counts.refused_signature += 1;
        return failure(StatusCode::FORBIDDEN, code, msg);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Middleware on business routes: a live AccessToken in `Authorization: Bearer`.
pub(super) async fn require_access(
    State(st): State<Arc<SlState>>,
    req: Request,
    next: Next,
) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .trim()
        .to_string();
    let verdict = st.data().grants.check_access(&token, now());
    if let Err(msg) = verdict {
        st.data().counts.refused_access += 1;
        return failure(StatusCode::UNAUTHORIZED, 40101, msg);
    }
    next.run(req).await
}

struct Access {
    pair: u64,
    exp: i64,
}

/// Every token pair issued, and which are still alive.
#[derive(Default)]
pub(crate) struct Grants {
    access: HashMap<String, Access>,
    /// RefreshToken → its pair; removed when used.
    refresh: HashMap<String, u64>,
    dead: HashSet<u64>,
    next: u64,
    issued: Vec<String>,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Grants {
    /// A new pair: a JWT AccessToken living `ttl_secs`, and its RefreshToken.
    pub(crate) fn issue(
        &mut self,
        jwt_key: &[u8],
        account: &str,
        ttl_secs: i64,
    ) -> (String, String) {
        self.next += 1;
        let iat = now();
        let exp = iat + ttl_secs.max(1);
        let header = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = serde_json::json!({"sub": account, "iat": iat, "exp": exp, "jti": uuid::Uuid::new_v4().simple().to_string()});
        let payload = b64(claims.to_string().as_bytes());
        let signing_input = format!("{header}.{payload}");
        let mut mac = Hmac::<Sha256>::new_from_slice(jwt_key).expect("any key length");
        mac.update(signing_input.as_bytes());
        let access = format!("{signing_input}.{}", b64(&mac.finalize().into_bytes()));
        let refresh = format!("rt_{}", uuid::Uuid::new_v4().simple());
        self.access.insert(
            access.clone(),
            Access {
                pair: self.next,
                exp,
            },
        );
        self.refresh.insert(refresh.clone(), self.next);
        self.issued.extend([access.clone(), refresh.clone()]);
        (access, refresh)
    }

    /// Use a RefreshToken: its pair dies (both tokens), whatever happens to the answer.
    pub(crate) fn redeem(&mut self, refresh: &str) -> Result<(), &'static str> {
        let pair = self
            .refresh
            .remove(refresh)
            .ok_or("refresh token is invalid, revoked or already used")?;
        if !self.dead.insert(pair) {
            return Err("refresh token is invalid, revoked or already used");
        }
        Ok(())
    }

    pub(crate) fn check_access(&self, token: &str, now: i64) -> Result<(), &'static str> {
        let a = self.access.get(token).ok_or("access token is invalid")?;
        if self.dead.contains(&a.pair) {
            return Err("access token was replaced or revoked");
        }
        if now >= a.exp {
            return Err("access token expired");
        }
        Ok(())
    }

    pub(crate) fn revoke_all(&mut self) {
        self.dead.extend(self.access.values().map(|a| a.pair));
        self.refresh.clear();
    }

    pub(crate) fn issued(&self) -> Vec<String> {
        self.issued.clone()
    }
}
