//! Jira's own inbound scheme, `inbound = { type = "hub_signature", secret }` (contracts/jira.md):
//! an admin webhook with a secret signs the raw body with HMAC-SHA256 in `X-Hub-Signature`
//! (`sha256=<hex>`). No timestamp header is signed, but the body carries one (ms) and the
//! signature covers it, so it is held to the same 300 s replay window.

use crate::config::Secret;
use crate::itsm::verify::{check_window, header, verify_mac, Verified, VerifyError};
use http::HeaderMap;
use std::time::SystemTime;

pub const HUB_SIGNATURE: &str = "x-hub-signature";

pub fn verify<'a>(
    secret: &Secret,
    headers: &HeaderMap,
    body: &'a [u8],
    now: SystemTime,
) -> Result<Verified<'a>, VerifyError> {
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
    verify_mac(secret, HUB_SIGNATURE, &[body], &sig)?;
    if let Some(ms) = body_timestamp_ms(body) {
        check_window(HUB_SIGNATURE, ms.div_euclid(1000), now)?;
    }
    Ok(Verified::new(body))
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

#[cfg(test)]
#[path = "signature_tests.rs"]
mod tests;
