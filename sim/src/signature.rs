//! The HMAC-SHA256 the simulated senders sign with, and the receiver's check that the crate's
//! tests hold each signer to. Written from the contracts, not taken from deskbridge: the
//! product's verifier is tested against these signatures, so the two sides only agree when
//! both follow the contract. The schemes themselves (what is signed, which header carries it)
//! live with their systems: [`crate::servicenow::sign_ui_action`],
//! [`crate::zendesk::sign_webhook`] and [`crate::jira::hub_signature`].

use std::time::{Duration, SystemTime};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a signed timestamp may be from the receiver's clock, either way (ServiceNow and
/// Zendesk contracts: "reject timestamps more than 300 s away").
pub const REPLAY_WINDOW: Duration = Duration::from_secs(300);

/// Why a receiver following the contract refuses a signed request; each names its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The header is not in the form the contract gives (not base64, not a time, no prefix).
    Malformed(&'static str),
    /// The signature is not the one the secret gives for this timestamp and body.
    Mismatch(&'static str),
    /// The signed time is more than [`REPLAY_WINDOW`] away from the receiver's clock.
    Stale(&'static str),
}

fn mac(secret: &str, parts: &[&[u8]]) -> Hmac<Sha256> {
    // The key is the secret's text as UTF-8 bytes, as the contracts and integration guides say.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac
}

/// HMAC-SHA256 keyed with `secret` over `parts`, one after the other with nothing between.
pub fn hmac_sha256(secret: &str, parts: &[&[u8]]) -> [u8; 32] {
    mac(secret, parts).finalize().into_bytes().into()
}

/// Whether `digest` is the HMAC of `parts` under `secret`, compared in constant time.
pub fn hmac_matches(secret: &str, parts: &[&[u8]], digest: &[u8]) -> bool {
    mac(secret, parts).verify_slice(digest).is_ok()
}

/// Standard base64 with padding, as `generateMac` and Zendesk write their digests.
pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The digest a base64 header carries.
pub(crate) fn base64_digest(header: &'static str, value: &str) -> Result<Vec<u8>, Refusal> {
    base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| Refusal::Malformed(header))
}

/// Refuses `sent` (Unix seconds) when it is more than [`REPLAY_WINDOW`] away from `now`.
pub(crate) fn within_window(
    header: &'static str,
    sent: i64,
    now: SystemTime,
) -> Result<(), Refusal> {
    let now = crate::unix_secs(now) as i64;
    if now.abs_diff(sent) > REPLAY_WINDOW.as_secs() {
        return Err(Refusal::Stale(header));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hmac_matches_a_known_answer_computed_outside_this_code() {
        // python3: hmac.new(b"hub", b'{"event_id":"e1","sys_id":"abc"}', sha256).hexdigest()
        let body = br#"{"event_id":"e1","sys_id":"abc"}"#;
        let want = "4e0dd2c0a47d88e7a967a1c60939ab7808ac9a5e337b57eb27aac50f8df8c222";
        assert_eq!(hex::encode(hmac_sha256("hub", &[body])), want);
        // parts are concatenated with nothing in between
        assert_eq!(
            hmac_sha256("hub", &[&body[..5], &body[5..]]),
            hmac_sha256("hub", &[body])
        );
        let digest = hex::decode(want).unwrap();
        assert!(hmac_matches("hub", &[body], &digest));
        assert!(!hmac_matches("hub", &[b"{}"], &digest));
        assert!(!hmac_matches("bub", &[body], &digest));
        assert!(!hmac_matches("hub", &[body], &digest[..31]));
    }

    #[test]
    fn the_window_is_300_seconds_either_way() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        for sent in [1_800_000_000 - 300, 1_800_000_000, 1_800_000_000 + 300] {
            assert_eq!(within_window("h", sent, now), Ok(()));
        }
        for sent in [1_800_000_000 - 301, 1_800_000_000 + 301] {
            assert_eq!(within_window("h", sent, now), Err(Refusal::Stale("h")));
        }
    }
}
