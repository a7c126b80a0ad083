//! ServiceNow's sending side. ServiceNow has no webhook object and signs nothing on its own; the
//! admin installs deskbridge's "Start remote session" UI Action
//! (`integrations/servicenow/ui_action_start_remote_session.js`), which serialises the body once,
//! then sends it with
//!
//! - `X-Deskbridge-Timestamp: <unix seconds>`
//! - `X-Deskbridge-Signature: base64(HMAC-SHA256(secret, timestamp + "." + body))`
//!
//! where the key is the secret's text (the script hands `generateMac` base64 of the text, which
//! it decodes back to those bytes). [`sign_ui_action`] computes what the script computes; the
//! receiver's check from `shared/contracts/servicenow.md` is [`verify_ui_action`].

use std::time::SystemTime;

use crate::signature::{self, Refusal};

/// The header that carries the Unix seconds the call was signed at.
pub const TIMESTAMP_HEADER: &str = "x-deskbridge-timestamp";
/// The header that carries the base64 HMAC.
pub const SIGNATURE_HEADER: &str = "x-deskbridge-signature";

/// The two headers the UI Action adds to `body` when it sends at `unix_secs`, in the order the
/// script sets them.
pub fn sign_ui_action(secret: &str, body: &[u8], unix_secs: i64) -> [(&'static str, String); 2] {
    let ts = unix_secs.to_string();
    let digest = signature::hmac_sha256(secret, &[ts.as_bytes(), b".", body]);
    [
        (TIMESTAMP_HEADER, ts),
        (SIGNATURE_HEADER, signature::base64(&digest)),
    ]
}

/// What the receiver checks, given the two header values as received: the timestamp is Unix
/// seconds within the replay window of `now`, and the signature covers it and `body`.
pub fn verify_ui_action(
    secret: &str,
    timestamp: &str,
    signature_b64: &str,
    body: &[u8],
    now: SystemTime,
) -> Result<(), Refusal> {
    let ts = timestamp.trim();
    let sent: i64 = ts
        .parse()
        .map_err(|_| Refusal::Malformed(TIMESTAMP_HEADER))?;
    let digest = signature::base64_digest(SIGNATURE_HEADER, signature_b64)?;
    signature::within_window(TIMESTAMP_HEADER, sent, now)?;
    if !signature::hmac_matches(secret, &[ts.as_bytes(), b".", body], &digest) {
        return Err(Refusal::Mismatch(SIGNATURE_HEADER));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const BODY: &[u8] = br#"{"event_id":"e1","sys_id":"abc"}"#;
    const SENT: i64 = 1_800_000_000;

    fn at(secs: i64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64)
    }

    #[test]
    fn the_signature_matches_a_known_answer_computed_outside_this_code() {
        // python3: base64(hmac.new(b"s3cret", b"1800000000." + BODY, sha256).digest())
        let [ts, sig] = sign_ui_action("s3cret", BODY, SENT);
        assert_eq!(ts, (TIMESTAMP_HEADER, "1800000000".to_string()));
        assert_eq!(
            sig,
            (
                SIGNATURE_HEADER,
                "PCkg6u38iVx0O3EVW02ItSMXJ6HFRZh0MP0IuydAmY0=".to_string()
            )
        );
    }

    #[test]
    fn the_receiver_accepts_the_signed_call_and_refuses_any_change() {
        let [(_, ts), (_, sig)] = sign_ui_action("s3cret", BODY, SENT);
        assert_eq!(
            verify_ui_action("s3cret", &ts, &sig, BODY, at(SENT)),
            Ok(())
        );
        let mismatch = Err(Refusal::Mismatch(SIGNATURE_HEADER));
        let mut changed = BODY.to_vec();
        changed[3] ^= 1;
        assert_eq!(
            verify_ui_action("s3cret", &ts, &sig, &changed, at(SENT)),
            mismatch
        );
        assert_eq!(
            verify_ui_action("other", &ts, &sig, BODY, at(SENT)),
            mismatch
        );
        // the timestamp is signed: another one within the window still breaks the signature
        assert_eq!(
            verify_ui_action("s3cret", "1800000001", &sig, BODY, at(SENT)),
            mismatch
        );
    }

    #[test]
    fn the_receiver_names_a_stale_or_malformed_header() {
        let [(_, ts), (_, sig)] = sign_ui_action("s3cret", BODY, SENT);
        assert_eq!(
            verify_ui_action("s3cret", &ts, &sig, BODY, at(SENT + 301)),
            Err(Refusal::Stale(TIMESTAMP_HEADER))
        );
        assert_eq!(
            verify_ui_action("s3cret", "yesterday", &sig, BODY, at(SENT)),
            Err(Refusal::Malformed(TIMESTAMP_HEADER))
        );
        assert_eq!(
            verify_ui_action("s3cret", &ts, "!!", BODY, at(SENT)),
            Err(Refusal::Malformed(SIGNATURE_HEADER))
        );
    }
}
