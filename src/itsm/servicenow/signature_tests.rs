//! The `hmac` scheme: good, wrong, missing, stale, malformed. The sender's side is the
//! simulator crate's signer, written independently of this verifier.

use super::*;
use crate::itsm::verify::headers;
use deskbridge_sim::servicenow::sign_ui_action as sign_servicenow;
use std::time::Duration;

const BODY: &[u8] = br#"{"event_id":"e1","sys_id":"abc"}"#;

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn secret() -> Secret {
    Secret::new("s3cret")
}

#[test]
fn a_correctly_signed_servicenow_call_is_accepted() {
    let h = headers(&sign_servicenow("s3cret", BODY, 1_800_000_000));
    assert!(verify(&secret(), &h, BODY, now()).is_ok());
}

#[test]
fn a_servicenow_call_signed_with_another_secret_is_refused() {
    let h = headers(&sign_servicenow("other", BODY, 1_800_000_000));
    let e = verify(&secret(), &h, BODY, now()).unwrap_err();
    assert_eq!(e, VerifyError::BadSignature(SIGNATURE.into()));
}

#[test]
fn a_changed_body_breaks_the_signature() {
    let h = headers(&sign_servicenow("s3cret", BODY, 1_800_000_000));
    let e = verify(&secret(), &h, br#"{"event_id":"e2"}"#, now()).unwrap_err();
    assert!(matches!(e, VerifyError::BadSignature(_)));
}

#[test]
fn a_missing_signature_header_is_named() {
    let mut sig = sign_servicenow("s3cret", BODY, 1_800_000_000).to_vec();
    sig.retain(|(k, _)| *k != SIGNATURE);
    let e = verify(&secret(), &headers(&sig), BODY, now()).unwrap_err();
    assert_eq!(e, VerifyError::MissingHeader(SIGNATURE.into()));
    let e = verify(&secret(), &HeaderMap::new(), BODY, now()).unwrap_err();
    assert_eq!(e.header(), TIMESTAMP);
}

#[test]
fn a_timestamp_outside_the_replay_window_is_refused_even_with_a_good_signature() {
    for sent in [1_800_000_000 - 301, 1_800_000_000 + 301] {
        let h = headers(&sign_servicenow("s3cret", BODY, sent));
        let e = verify(&secret(), &h, BODY, now()).unwrap_err();
        assert!(matches!(e, VerifyError::Stale { .. }), "{e:?}");
    }
    // just inside the window
    let h = headers(&sign_servicenow("s3cret", BODY, 1_800_000_000 - 299));
    assert!(verify(&secret(), &h, BODY, now()).is_ok());
}

#[test]
fn a_malformed_signature_or_timestamp_is_named() {
    let h = headers(&[(TIMESTAMP, "yesterday".into()), (SIGNATURE, "AAAA".into())]);
    let e = verify(&secret(), &h, BODY, now()).unwrap_err();
    assert_eq!(e.header(), TIMESTAMP);
    let h = headers(&[(TIMESTAMP, "1800000000".into()), (SIGNATURE, "!!".into())]);
    let e = verify(&secret(), &h, BODY, now()).unwrap_err();
    assert!(matches!(e, VerifyError::Malformed { .. }));
}

/// Issue 9 item 1: a call signed with the empty key, checked against a blank secret, is refused.
#[test]
fn a_call_signed_with_the_empty_key_is_never_accepted() {
    let h = headers(&sign_servicenow("", BODY, 1_800_000_000));
    let e = verify(&Secret::new(""), &h, BODY, now()).unwrap_err();
    assert_eq!(e, VerifyError::BadSignature(SIGNATURE.into()));
}
