//! Signature tests per scheme: good, wrong, missing, stale.

use super::*;
use crate::config::Secret;

const BODY: &[u8] = br#"{"event_id":"e1","sys_id":"abc"}"#;

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn snow() -> InboundAuth {
    InboundAuth::Hmac {
        secret: Secret::new("s3cret"),
    }
}

fn headers(pairs: &[(&str, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    h
}

#[test]
fn a_correctly_signed_servicenow_call_is_accepted() {
    let h = headers(&sign_servicenow("s3cret", BODY, 1_800_000_000));
    assert!(verify(&snow(), &h, BODY, now()).is_ok());
}

#[test]
fn a_servicenow_call_signed_with_another_secret_is_refused() {
    let h = headers(&sign_servicenow("other", BODY, 1_800_000_000));
    let e = verify(&snow(), &h, BODY, now()).unwrap_err();
    assert_eq!(e, VerifyError::BadSignature(SNOW_SIGNATURE.into()));
}

#[test]
fn a_changed_body_breaks_the_signature() {
    let h = headers(&sign_servicenow("s3cret", BODY, 1_800_000_000));
    let e = verify(&snow(), &h, br#"{"event_id":"e2"}"#, now()).unwrap_err();
    assert!(matches!(e, VerifyError::BadSignature(_)));
}

#[test]
fn a_missing_signature_header_is_named() {
    let mut sig = sign_servicenow("s3cret", BODY, 1_800_000_000).to_vec();
    sig.retain(|(k, _)| *k != SNOW_SIGNATURE);
    let e = verify(&snow(), &headers(&sig), BODY, now()).unwrap_err();
    assert_eq!(e, VerifyError::MissingHeader(SNOW_SIGNATURE.into()));
    let e = verify(&snow(), &HeaderMap::new(), BODY, now()).unwrap_err();
    assert_eq!(e.header(), SNOW_TIMESTAMP);
}

#[test]
fn a_timestamp_outside_the_replay_window_is_refused_even_with_a_good_signature() {
    for sent in [1_800_000_000 - 301, 1_800_000_000 + 301] {
        let h = headers(&sign_servicenow("s3cret", BODY, sent));
        let e = verify(&snow(), &h, BODY, now()).unwrap_err();
        assert!(matches!(e, VerifyError::Stale { .. }), "{e:?}");
    }
    // just inside the window
    let h = headers(&sign_servicenow("s3cret", BODY, 1_800_000_000 - 299));
    assert!(verify(&snow(), &h, BODY, now()).is_ok());
}

#[test]
fn a_malformed_signature_or_timestamp_is_named() {
    let h = headers(&[
        (SNOW_TIMESTAMP, "yesterday".into()),
        (SNOW_SIGNATURE, "AAAA".into()),
    ]);
    let e = verify(&snow(), &h, BODY, now()).unwrap_err();
    assert_eq!(e.header(), SNOW_TIMESTAMP);
    let h = headers(&[
        (SNOW_TIMESTAMP, "1800000000".into()),
        (SNOW_SIGNATURE, "!!".into()),
    ]);
    let e = verify(&snow(), &h, BODY, now()).unwrap_err();
    assert!(matches!(e, VerifyError::Malformed { .. }));
}

#[test]
fn zendesk_signatures_cover_the_timestamp_string_and_the_body() {
    let auth = InboundAuth::ZendeskSignature {
        secret: Secret::new("zk"),
    };
    let ts = "2027-01-15T08:00:00Z";
    let sent = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(sent as u64 + 10);
    let sig = base64::engine::general_purpose::STANDARD
        .encode(hmac("zk", &[ts.as_bytes(), BODY]).finalize().into_bytes());
    let h = headers(&[
        (ZENDESK_TIMESTAMP, ts.into()),
        (ZENDESK_SIGNATURE, sig.clone()),
    ]);
    assert!(verify(&auth, &h, BODY, now).is_ok());
    let late = now + Duration::from_secs(400);
    assert!(matches!(
        verify(&auth, &h, BODY, late),
        Err(VerifyError::Stale { .. })
    ));
    let h = headers(&[(ZENDESK_TIMESTAMP, ts.into())]);
    assert_eq!(
        verify(&auth, &h, BODY, now).unwrap_err().header(),
        ZENDESK_SIGNATURE
    );
}

#[test]
fn hub_signatures_are_lowercase_hex_with_a_prefix() {
    let auth = InboundAuth::HubSignature {
        secret: Secret::new("hub"),
    };
    let good = format!(
        "sha256={}",
        hex::encode(hmac("hub", &[BODY]).finalize().into_bytes())
    );
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
fn shared_headers_and_basic_auth_compare_the_configured_secret() {
    let auth = InboundAuth::SharedHeader {
        header: "X-Deskbridge-Token".into(),
        secret: Secret::new("tok"),
    };
    assert!(verify(
        &auth,
        &headers(&[("x-deskbridge-token", "tok".into())]),
        BODY,
        now()
    )
    .is_ok());
    assert!(matches!(
        verify(
            &auth,
            &headers(&[("x-deskbridge-token", "nope".into())]),
            BODY,
            now()
        ),
        Err(VerifyError::BadCredentials(_))
    ));
    let basic = InboundAuth::Basic {
        username: "fs".into(),
        password: Secret::new("pw"),
    };
    let good = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("fs:pw")
    );
    assert!(verify(&basic, &headers(&[("authorization", good)]), BODY, now()).is_ok());
    let bad = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("fs:px")
    );
    assert!(verify(&basic, &headers(&[("authorization", bad)]), BODY, now()).is_err());
}
