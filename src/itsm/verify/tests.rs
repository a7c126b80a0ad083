//! Signature tests per scheme: good, wrong, missing, stale. The sender's side is always the
//! simulator crate's signer, written independently of this verifier.

use super::*;
use crate::config::{ItsmConfig, Secret};
use deskbridge_sim::jira::hub_signature;
use deskbridge_sim::servicenow::sign_ui_action as sign_servicenow;
use deskbridge_sim::zendesk::sign_webhook as sign_zendesk;

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
    let sig = sign_zendesk("zk", BODY, ts)[1].1.clone();
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

// --- Zendesk: base64(HMAC-SHA256(secret, timestamp header as sent + raw body)), 300 s window.

const ZD_TS: &str = "2027-01-15T08:00:00Z";

fn zd_auth(secret: &str) -> InboundAuth {
    InboundAuth::ZendeskSignature {
        secret: Secret::new(secret),
    }
}

/// Our clock `offset` seconds after `ZD_TS`.
fn zd_now(offset: i64) -> SystemTime {
    let sent = time::OffsetDateTime::parse(ZD_TS, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp();
    SystemTime::UNIX_EPOCH + Duration::from_secs((sent + offset) as u64)
}

#[test]
fn a_zendesk_signature_matches_a_known_answer_computed_outside_this_code() {
    // python3: base64(hmac.new(b"zk-known-answer", ts + body, sha256).digest())
    let body = br#"{"ticket_id": "35436"}"#;
    let want = "OalJ14aGn0uCH/Z97N5JOD2TjSBrJ+TRImraKlDV1Yw=";
    let signed = sign_zendesk("zk-known-answer", body, ZD_TS);
    assert_eq!(signed[1], (ZENDESK_SIGNATURE, want.to_string()));
    let h = headers(&[
        (ZENDESK_TIMESTAMP, ZD_TS.into()),
        (ZENDESK_SIGNATURE, want.into()),
    ]);
    assert!(verify(&zd_auth("zk-known-answer"), &h, body, zd_now(5)).is_ok());
}

#[test]
fn a_zendesk_call_with_another_secret_or_a_changed_body_is_refused() {
    let h = headers(&sign_zendesk("other", BODY, ZD_TS));
    let e = verify(&zd_auth("zk"), &h, BODY, zd_now(0)).unwrap_err();
    assert_eq!(e, VerifyError::BadSignature(ZENDESK_SIGNATURE.into()));
    let h = headers(&sign_zendesk("zk", BODY, ZD_TS));
    let e = verify(&zd_auth("zk"), &h, br#"{"event_id":"e2"}"#, zd_now(0)).unwrap_err();
    assert_eq!(e, VerifyError::BadSignature(ZENDESK_SIGNATURE.into()));
}

#[test]
fn a_zendesk_signature_covers_the_timestamp_string_as_sent_not_the_instant() {
    // Same instant, other spelling: the signed string differs, so the signature must not match.
    let h = headers(&[
        (ZENDESK_TIMESTAMP, "2027-01-15T08:00:00+00:00".into()),
        (
            ZENDESK_SIGNATURE,
            sign_zendesk("zk", BODY, ZD_TS)[1].1.clone(),
        ),
    ]);
    let e = verify(&zd_auth("zk"), &h, BODY, zd_now(0)).unwrap_err();
    assert_eq!(e, VerifyError::BadSignature(ZENDESK_SIGNATURE.into()));
    // ...and that spelling verifies when it is the one that was signed.
    let h = headers(&sign_zendesk("zk", BODY, "2027-01-15T08:00:00+00:00"));
    assert!(verify(&zd_auth("zk"), &h, BODY, zd_now(0)).is_ok());
}

#[test]
fn a_zendesk_timestamp_more_than_300_s_either_way_is_stale() {
    let h = headers(&sign_zendesk("zk", BODY, ZD_TS));
    for offset in [-301, 301, 3600] {
        let e = verify(&zd_auth("zk"), &h, BODY, zd_now(offset)).unwrap_err();
        assert!(
            matches!(&e, VerifyError::Stale { header, .. } if header == ZENDESK_TIMESTAMP),
            "{offset}: {e:?}"
        );
    }
    for offset in [-300, 0, 300] {
        assert!(
            verify(&zd_auth("zk"), &h, BODY, zd_now(offset)).is_ok(),
            "{offset}"
        );
    }
}

#[test]
fn a_missing_or_malformed_zendesk_header_is_named() {
    let e = verify(&zd_auth("zk"), &HeaderMap::new(), BODY, zd_now(0)).unwrap_err();
    assert_eq!(e, VerifyError::MissingHeader(ZENDESK_TIMESTAMP.into()));
    let h = headers(&[(ZENDESK_TIMESTAMP, ZD_TS.into())]);
    assert_eq!(
        verify(&zd_auth("zk"), &h, BODY, zd_now(0)).unwrap_err(),
        VerifyError::MissingHeader(ZENDESK_SIGNATURE.into())
    );
    // Unix seconds are not what Zendesk sends: named as malformed, not silently accepted.
    let h = headers(&[
        (ZENDESK_TIMESTAMP, "1800000000".into()),
        (ZENDESK_SIGNATURE, "AAAA".into()),
    ]);
    let e = verify(&zd_auth("zk"), &h, BODY, zd_now(0)).unwrap_err();
    assert!(
        matches!(&e, VerifyError::Malformed { header, .. } if header == ZENDESK_TIMESTAMP),
        "{e:?}"
    );
    let h = headers(&[
        (ZENDESK_TIMESTAMP, ZD_TS.into()),
        (ZENDESK_SIGNATURE, "not base64!".into()),
    ]);
    let e = verify(&zd_auth("zk"), &h, BODY, zd_now(0)).unwrap_err();
    assert!(
        matches!(&e, VerifyError::Malformed { header, .. } if header == ZENDESK_SIGNATURE),
        "{e:?}"
    );
}

fn zd_connection(account_id: Option<&str>) -> ItsmConfig {
    let account = account_id
        .map(|a| format!("account_id = {a:?}\n"))
        .unwrap_or_default();
    toml::from_str(&format!(
        "id = \"zd\"\nkind = \"zendesk\"\nbase_url = \"https://acme.zendesk.com\"\n\
         auth = {{ type = \"bearer\", token = \"t\" }}\ninbound = {{ type = \"zendesk_signature\", secret = \"zk\" }}\n{account}"
    ))
    .unwrap()
}

#[test]
fn a_configured_zendesk_account_must_be_the_one_the_header_names() {
    let mut pairs = sign_zendesk("zk", BODY, ZD_TS).to_vec();
    let cfg = zd_connection(Some("123456"));
    // missing
    let e = verify_connection(&cfg, &headers(&pairs), BODY, zd_now(0)).unwrap_err();
    assert_eq!(e, VerifyError::MissingHeader(ZENDESK_ACCOUNT.into()));
    // another account, correctly signed
    pairs.push((ZENDESK_ACCOUNT, "999999".into()));
    let e = verify_connection(&cfg, &headers(&pairs), BODY, zd_now(0)).unwrap_err();
    assert_eq!(e.header(), ZENDESK_ACCOUNT);
    assert!(matches!(e, VerifyError::WrongSender { .. }));
    assert!(
        !e.to_string().contains("123456"),
        "the configured account is not told to the caller: {e}"
    );
    // the right one
    pairs.pop();
    pairs.push((ZENDESK_ACCOUNT, "123456".into()));
    assert!(verify_connection(&cfg, &headers(&pairs), BODY, zd_now(0)).is_ok());
    // without account_id any account goes, but the signature still decides
    assert!(
        verify_connection(&zd_connection(None), &headers(&pairs[..2]), BODY, zd_now(0)).is_ok()
    );
    let bad = headers(&sign_zendesk("other", BODY, ZD_TS));
    assert!(matches!(
        verify_connection(&cfg, &bad, BODY, zd_now(0)),
        Err(VerifyError::BadSignature(_))
    ));
}

#[test]
fn a_hub_signed_body_with_an_old_timestamp_is_refused_as_a_replay() {
    let auth = InboundAuth::HubSignature {
        secret: Secret::new("hub"),
    };
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
