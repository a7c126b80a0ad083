//! Inbound authentication of webhooks: what every scheme shares, and the schemes several
//! systems take (`shared_header`, `basic`). A system's own scheme (ServiceNow's `hmac`,
//! Zendesk's signature, Jira's `X-Hub-Signature`) lives in its folder and builds on these.
//!
//! Verification runs on the raw bytes before anything parses them, and only a [`Verified`]
//! body reaches the parsers: the type is the proof, and only `crate::itsm` can make one.
//! Signatures are compared in constant time (`Mac::verify_slice`, `subtle`), and timestamped
//! schemes refuse anything more than [`REPLAY_WINDOW`] away from our clock.

use crate::config::auth::Basic;
use crate::config::Secret;
use base64::Engine;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use serde::Deserialize;
use sha2::Sha256;
use std::time::{Duration, SystemTime};

pub const REPLAY_WINDOW: Duration = Duration::from_secs(300);

/// Why a call was refused: always 401, naming the header at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("header {0} is missing")]
    MissingHeader(String),
    #[error("header {header} is malformed: {reason}")]
    Malformed { header: String, reason: String },
    #[error("header {0} does not match the body: wrong secret, or the body was changed")]
    BadSignature(String),
    #[error("header {header} is {skew_secs} s away from our clock (more than 300 s): replayed or the sender's clock is wrong")]
    Stale { header: String, skew_secs: i64 },
    #[error("header {0} does not carry the configured credentials")]
    BadCredentials(String),
    /// Correctly signed, but by a sender this connection does not belong to.
    #[error("header {header} names another sender: {reason}")]
    WrongSender { header: String, reason: String },
}

impl VerifyError {
    pub fn header(&self) -> &str {
        match self {
            VerifyError::MissingHeader(h)
            | VerifyError::Malformed { header: h, .. }
            | VerifyError::BadSignature(h)
            | VerifyError::Stale { header: h, .. }
            | VerifyError::BadCredentials(h)
            | VerifyError::WrongSender { header: h, .. } => h,
        }
    }
}

/// A body whose sender has been authenticated.
#[derive(Debug)]
pub struct Verified<'a>(&'a [u8]);

impl<'a> Verified<'a> {
    /// Only a scheme that has checked the sender, or `parse_admin_payload`, calls this.
    pub(in crate::itsm) fn new(body: &'a [u8]) -> Self {
        Verified(body)
    }
    pub fn bytes(&self) -> &'a [u8] {
        self.0
    }
}

/// A header's value, trimmed; missing or not ASCII is named.
pub(in crate::itsm) fn header<'h>(h: &'h HeaderMap, name: &str) -> Result<&'h str, VerifyError> {
    let v = h
        .get(name)
        .ok_or_else(|| VerifyError::MissingHeader(name.to_string()))?;
    v.to_str()
        .map(str::trim)
        .map_err(|_| VerifyError::Malformed {
            header: name.into(),
            reason: "not ASCII".into(),
        })
}

pub(in crate::itsm) fn hmac(secret: &str, parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac
}

/// Check `sig` (from header `name`) against the HMAC-SHA256 of `parts` under `secret`. A blank
/// secret is a key anyone has, so it verifies nothing: the configuration refuses one, and this
/// is the last line should one ever get here.
pub(in crate::itsm) fn verify_mac(
    secret: &Secret,
    name: &str,
    parts: &[&[u8]],
    sig: &[u8],
) -> Result<(), VerifyError> {
    if secret.expose().trim().is_empty() {
        return Err(VerifyError::BadSignature(name.into()));
    }
    hmac(secret.expose(), parts)
        .verify_slice(sig)
        .map_err(|_| VerifyError::BadSignature(name.into()))
}

/// Refuse a time more than [`REPLAY_WINDOW`] from `now`, naming the header it came from.
pub(in crate::itsm) fn check_window(
    name: &str,
    sent: i64,
    now: SystemTime,
) -> Result<(), VerifyError> {
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    let skew = now - sent;
    if skew.unsigned_abs() > REPLAY_WINDOW.as_secs() {
        return Err(VerifyError::Stale {
            header: name.into(),
            skew_secs: skew,
        });
    }
    Ok(())
}

pub(in crate::itsm) fn b64(name: &str, v: &str) -> Result<Vec<u8>, VerifyError> {
    base64::engine::general_purpose::STANDARD
        .decode(v)
        .map_err(|_| VerifyError::Malformed {
            header: name.into(),
            reason: "not base64".into(),
        })
}

/// `type = "shared_header"`: a secret the sender puts in a header of the admin's choosing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedHeader {
    pub header: String,
    pub secret: Secret,
}

impl SharedHeader {
    pub fn verify<'a>(
        &self,
        headers: &HeaderMap,
        body: &'a [u8],
    ) -> Result<Verified<'a>, VerifyError> {
        let name = self.header.to_ascii_lowercase();
        let v = header(headers, &name)?;
        if !self.secret.matches(v.as_bytes()) {
            return Err(VerifyError::BadCredentials(name));
        }
        Ok(Verified(body))
    }
}

/// `type = "basic"` inbound: the sender signs in with HTTP Basic as the configured user.
pub fn verify_basic<'a>(
    creds: &Basic,
    headers: &HeaderMap,
    body: &'a [u8],
) -> Result<Verified<'a>, VerifyError> {
    let v = header(headers, "authorization")?;
    let enc = v
        .strip_prefix("Basic ")
        .ok_or_else(|| VerifyError::Malformed {
            header: "authorization".into(),
            reason: "expected Basic credentials".into(),
        })?;
    let raw = b64("authorization", enc)?;
    let expected = format!("{}:{}", creds.username, creds.password.expose());
    use subtle::ConstantTimeEq;
    // A blank password would let anyone who knows the user name in.
    if creds.password.expose().trim().is_empty() || !bool::from(raw.ct_eq(expected.as_bytes())) {
        return Err(VerifyError::BadCredentials("authorization".into()));
    }
    Ok(Verified(body))
}

/// Headers from pairs, for the schemes' tests.
#[cfg(test)]
pub(in crate::itsm) fn headers(pairs: &[(&str, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    h
}

#[cfg(test)]
mod tests;
