//! The `hub_signature` scheme: the `sha256=<hex>` form, and the signed body's timestamp held
//! to the replay window. The sender's side is the simulator crate's signer.

use super::*;
use crate::itsm::verify::headers;
use deskbridge_sim::jira::hub_signature;
use std::time::Duration;

const BODY: &[u8] = br#"{"event_id":"e1","sys_id":"abc"}"#;

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

#[test]
fn hub_signatures_are_lowercase_hex_with_a_prefix() {
    let auth = Secret::new("hub");
    let good = hub_signature("hub", BODY);
    assert!(verify(
        &auth,
        &headers(&[(HUB_SIGNATURE, good.clone())]),
        BODY,
        now()
    )
    .is_ok());
    let bare = good.trim_start_matches("sha256=").to_string();
    assert!(matches!(
        verify(&auth, &headers(&[(HUB_SIGNATURE, bare)]), BODY, now()),
        Err(VerifyError::Malformed { .. })
    ));
    let wrong = format!("sha256={}", "0".repeat(64));
    assert!(matches!(
        verify(&auth, &headers(&[(HUB_SIGNATURE, wrong)]), BODY, now()),
        Err(VerifyError::BadSignature(_))
    ));
}

#[test]
fn a_hub_signed_body_with_an_old_timestamp_is_refused_as_a_replay() {
    let auth = Secret::new("hub");
    let sign = |b: &[u8]| hub_signature("hub", b);
    let fresh = br#"{"timestamp":1800000000000,"webhookEvent":"jira:issue_updated"}"#;
    assert!(verify(
        &auth,
        &headers(&[(HUB_SIGNATURE, sign(fresh))]),
        fresh,
        now()
    )
    .is_ok());
    let old = br#"{"timestamp":1799999000000,"webhookEvent":"jira:issue_updated"}"#;
    let e = verify(&auth, &headers(&[(HUB_SIGNATURE, sign(old))]), old, now()).unwrap_err();
    assert!(matches!(e, VerifyError::Stale { .. }), "{e:?}");
}
