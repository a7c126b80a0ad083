//! Inbound authentication of webhooks, configured per connection (`inbound = {type = ...}`).
//!
//! Verification runs on the raw bytes before anything parses them, and only a [`Verified`]
//! body reaches the parsers: the type is the proof. Signatures are compared in constant time
//! (`Mac::verify_slice`, `subtle`), and timestamped schemes refuse anything more than
//! [`REPLAY_WINDOW`] away from our clock.

use crate::config::{InboundAuth, ItsmConfig};
use base64::Engine;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::Sha256;
use std::time::{Duration, SystemTime};

pub const REPLAY_WINDOW: Duration = Duration::from_secs(300);

pub const SNOW_TIMESTAMP: &str = "x-deskbridge-timestamp";
pub const SNOW_SIGNATURE: &str = "x-deskbridge-signature";
pub const ZENDESK_SIGNATURE: &str = "x-zendesk-webhook-signature";
pub const ZENDESK_TIMESTAMP: &str = "x-zendesk-webhook-signature-timestamp";
pub const HUB_SIGNATURE: &str = "x-hub-signature";
pub const ZENDESK_ACCOUNT: &str = "x-zendesk-account-id";

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
    pub fn bytes(&self) -> &'a [u8] {
        self.0
    }
}

fn header<'h>(h: &'h HeaderMap, name: &str) -> Result<&'h str, VerifyError> {
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

fn hmac(secret: &str, parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac
}

fn check_window(name: &str, sent: i64, now: SystemTime) -> Result<(), VerifyError> {
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

/// The top-level `timestamp` of a JSON body, in milliseconds, when there is one.
fn body_timestamp_ms(body: &[u8]) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Stamp {
        timestamp: Option<serde_json::Value>,
    }
    let v = serde_json::from_slice::<Stamp>(body).ok()?.timestamp?;
    v.as_i64().or_else(|| v.as_str()?.parse().ok())
}

fn b64(name: &str, v: &str) -> Result<Vec<u8>, VerifyError> {
    base64::engine::general_purpose::STANDARD
        .decode(v)
        .map_err(|_| VerifyError::Malformed {
            header: name.into(),
            reason: "not base64".into(),
        })
}

/// Check `body` and `headers` against the connection's inbound configuration.
pub fn verify<'a>(
    auth: &InboundAuth,
    headers: &HeaderMap,
    body: &'a [u8],
    now: SystemTime,
) -> Result<Verified<'a>, VerifyError> {
    match auth {
        InboundAuth::Hmac { secret } => {
            let ts = header(headers, SNOW_TIMESTAMP)?;
            let sig = b64(SNOW_SIGNATURE, header(headers, SNOW_SIGNATURE)?)?;
            let sent: i64 = ts.parse().map_err(|_| VerifyError::Malformed {
                header: SNOW_TIMESTAMP.into(),
                reason: "not Unix seconds".into(),
            })?;
            check_window(SNOW_TIMESTAMP, sent, now)?;
            hmac(secret.expose(), &[ts.as_bytes(), b".", body])
                .verify_slice(&sig)
                .map_err(|_| VerifyError::BadSignature(SNOW_SIGNATURE.into()))?;
        }
        InboundAuth::ZendeskSignature { secret } => {
            let ts = header(headers, ZENDESK_TIMESTAMP)?;
            let sig = b64(ZENDESK_SIGNATURE, header(headers, ZENDESK_SIGNATURE)?)?;
            let sent =
                time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| VerifyError::Malformed {
                        header: ZENDESK_TIMESTAMP.into(),
                        reason: "not an ISO 8601 time".into(),
                    })?;
            check_window(ZENDESK_TIMESTAMP, sent.unix_timestamp(), now)?;
            hmac(secret.expose(), &[ts.as_bytes(), body])
                .verify_slice(&sig)
                .map_err(|_| VerifyError::BadSignature(ZENDESK_SIGNATURE.into()))?;
        }
        InboundAuth::HubSignature { secret } => {
            let v = header(headers, HUB_SIGNATURE)?;
            let hex_sig = v
                .strip_prefix("sha256=")
                .ok_or_else(|| VerifyError::Malformed {
                    header: HUB_SIGNATURE.into(),
                    reason: "expected sha256=<hex>".into(),
                })?;
            let sig = hex::decode(hex_sig).map_err(|_| VerifyError::Malformed {
                header: HUB_SIGNATURE.into(),
                reason: "not hex".into(),
            })?;
            hmac(secret.expose(), &[body])
                .verify_slice(&sig)
                .map_err(|_| VerifyError::BadSignature(HUB_SIGNATURE.into()))?;
            // No timestamp header is signed, but Jira's body carries one (ms) and the signature
            // covers it: hold it to the same replay window.
            if let Some(ms) = body_timestamp_ms(body) {
                check_window(HUB_SIGNATURE, ms.div_euclid(1000), now)?;
            }
        }
        InboundAuth::SharedHeader {
            header: name,
            secret,
        } => {
            let name = name.to_ascii_lowercase();
            let v = header(headers, &name)?;
            if !secret.matches(v.as_bytes()) {
                return Err(VerifyError::BadCredentials(name));
            }
        }
        InboundAuth::Basic { username, password } => {
            let v = header(headers, "authorization")?;
            let enc = v
                .strip_prefix("Basic ")
                .ok_or_else(|| VerifyError::Malformed {
                    header: "authorization".into(),
                    reason: "expected Basic credentials".into(),
                })?;
            let raw = b64("authorization", enc)?;
            let expected = format!("{username}:{}", password.expose());
            use subtle::ConstantTimeEq;
            if !bool::from(raw.ct_eq(expected.as_bytes())) {
                return Err(VerifyError::BadCredentials("authorization".into()));
            }
        }
    }
    Ok(Verified(body))
}

/// [`verify`] with the connection's inbound scheme, then the sender checks that come from the
/// connection's own settings: a Zendesk `account_id`, when configured, must be the one the
/// `x-zendesk-account-id` header names. A signing secret can be pasted into two accounts'
/// webhooks; the account check keeps one account's clicks off another account's connection.
pub fn verify_connection<'a>(
    cfg: &ItsmConfig,
    headers: &HeaderMap,
    body: &'a [u8],
    now: SystemTime,
) -> Result<Verified<'a>, VerifyError> {
    let verified = verify(&cfg.inbound, headers, body, now)?;
    if let Some(want) = cfg.account_id.as_deref() {
        let sent = header(headers, ZENDESK_ACCOUNT)?;
        if sent != want.trim() {
            return Err(VerifyError::WrongSender {
                header: ZENDESK_ACCOUNT.into(),
                reason: "not the Zendesk account this connection is configured for (account_id)"
                    .into(),
            });
        }
    }
    Ok(verified)
}

#[cfg(test)]
mod tests;
