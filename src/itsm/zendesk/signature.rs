//! Zendesk's own inbound scheme, `inbound = { type = "zendesk_signature", secret }`
//! (contracts/zendesk.md): base64(HMAC-SHA256(secret, timestamp header as sent + raw body)),
//! the timestamp (ISO 8601) held to the 300 s replay window. With `account_id` set, the
//! `x-zendesk-account-id` header must name that account, whatever the scheme: a signing secret
//! can be pasted into two accounts' webhooks, and this keeps one account's clicks off another
//! account's connection.

use crate::config::Secret;
use crate::itsm::verify::{b64, check_window, header, verify_mac, Verified, VerifyError};
use http::HeaderMap;
use std::time::SystemTime;

pub const SIGNATURE: &str = "x-zendesk-webhook-signature";
pub const TIMESTAMP: &str = "x-zendesk-webhook-signature-timestamp";
pub const ACCOUNT: &str = "x-zendesk-account-id";

pub fn verify<'a>(
    secret: &Secret,
    headers: &HeaderMap,
    body: &'a [u8],
    now: SystemTime,
) -> Result<Verified<'a>, VerifyError> {
    let ts = header(headers, TIMESTAMP)?;
    let sig = b64(SIGNATURE, header(headers, SIGNATURE)?)?;
    let sent = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .map_err(|_| VerifyError::Malformed {
            header: TIMESTAMP.into(),
            reason: "not an ISO 8601 time".into(),
        })?;
    check_window(TIMESTAMP, sent.unix_timestamp(), now)?;
    verify_mac(secret, SIGNATURE, &[ts.as_bytes(), body], &sig)?;
    Ok(Verified::new(body))
}

/// The configured account must be the one `x-zendesk-account-id` names.
pub fn check_account(want: &str, headers: &HeaderMap) -> Result<(), VerifyError> {
    let sent = header(headers, ACCOUNT)?;
    if sent != want.trim() {
        return Err(VerifyError::WrongSender {
            header: ACCOUNT.into(),
            reason: "not the Zendesk account this connection is configured for (account_id)".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "signature_tests.rs"]
mod tests;
