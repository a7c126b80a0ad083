//! ServiceNow's inbound scheme, `inbound = { type = "hmac", secret }` (contracts/servicenow.md):
//! the shipped UI Action signs `timestamp + "." + body` with HMAC-SHA256 and sends the
//! signature (base64) and the timestamp (Unix seconds) in two headers. A timestamp more than
//! 300 s from our clock is refused, however well signed.

use crate::config::Secret;
use crate::itsm::verify::{b64, check_window, header, verify_mac, Verified, VerifyError};
use http::HeaderMap;
use std::time::SystemTime;

pub const TIMESTAMP: &str = "x-deskbridge-timestamp";
pub const SIGNATURE: &str = "x-deskbridge-signature";

pub fn verify<'a>(
    secret: &Secret,
    headers: &HeaderMap,
    body: &'a [u8],
    now: SystemTime,
) -> Result<Verified<'a>, VerifyError> {
    let ts = header(headers, TIMESTAMP)?;
    let sig = b64(SIGNATURE, header(headers, SIGNATURE)?)?;
    let sent: i64 = ts.parse().map_err(|_| VerifyError::Malformed {
        header: TIMESTAMP.into(),
        reason: "not Unix seconds".into(),
    })?;
    check_window(TIMESTAMP, sent, now)?;
    verify_mac(secret, SIGNATURE, &[ts.as_bytes(), b".", body], &sig)?;
    Ok(Verified::new(body))
}

#[cfg(test)]
#[path = "signature_tests.rs"]
mod tests;
