//! Zendesk's signature (base64(HMAC-SHA256(secret, timestamp header as sent + raw body)), 300 s
//! window) and the account check. The sender's side is the simulator crate's signer, written
//! independently of this verifier.

use super::*;
use crate::itsm::verify::headers;
use deskbridge_sim::zendesk::sign_webhook as sign_zendesk;
use std::time::Duration;

const BODY: &[u8] = br#"{"event_id":"e1","sys_id":"abc"}"#;
const ZD_TS: &str = "2027-01-15T08:00:00Z";

fn secret(s: &str) -> Secret {
    Secret::new(s)
}

/// Our clock `offset` seconds after `ZD_TS`.
fn zd_now(offset: i64) -> SystemTime {
    let sent = time::OffsetDateTime::parse(ZD_TS, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp();
    SystemTime::UNIX_EPOCH + Duration::from_secs((sent + offset) as u64)
}

#[test]
fn zendesk_signatures_cover_the_timestamp_string_and_the_body() {
    let auth = Secret::new("zk");
    let ts = "2027-01-15T08:00:00Z";
    let sent = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(sent as u64 + 10);
    let sig = sign_zendesk("zk", BODY, ts)[1].1.clone();
    let h = headers(&[(TIMESTAMP, ts.into()), (SIGNATURE, sig.clone())]);
    assert!(verify(&auth, &h, BODY, now).is_ok());
    let late = now + Duration::from_secs(400);
    assert!(matches!(
        verify(&auth, &h, BODY, late),
        Err(VerifyError::Stale { .. })
    ));
    let h = headers(&[(TIMESTAMP, ts.into())]);
    assert_eq!(
        verify(&auth, &h, BODY, now).unwrap_err().header(),
        SIGNATURE
    );
}

#[test]
fn a_zendesk_signature_matches_a_known_answer_computed_outside_this_code() {
    // python3: base64(hmac.new(b"zk-known-answer", ts + body, sha256).digest())
    let body = br#"{"ticket_id": "35436"}"#;
    let want = "OalJ14aGn0uCH/Z97N5JOD2TjSBrJ+TRImraKlDV1Yw=";
    let signed = sign_zendesk("zk-known-answer", body, ZD_TS);
    assert_eq!(signed[1], (SIGNATURE, want.to_string()));
    let h = headers(&[(TIMESTAMP, ZD_TS.into()), (SIGNATURE, want.into())]);
    assert!(verify(&secret("zk-known-answer"), &h, body, zd_now(5)).is_ok());
}

#[test]
fn a_zendesk_call_with_another_secret_or_a_changed_body_is_refused() {
    let h = headers(&sign_zendesk("other", BODY, ZD_TS));
    let e = verify(&secret("zk"), &h, BODY, zd_now(0)).unwrap_err();
    assert_eq!(e, VerifyError::BadSignature(SIGNATURE.into()));
    let h = headers(&sign_zendesk("zk", BODY, ZD_TS));
    let e = verify(&secret("zk"), &h, br#"{"event_id":"e2"}"#, zd_now(0)).unwrap_err();
    assert_eq!(e, VerifyError::BadSignature(SIGNATURE.into()));
}

#[test]
fn a_zendesk_signature_covers_the_timestamp_string_as_sent_not_the_instant() {
    // Same instant, other spelling: the signed string differs, so the signature must not match.
    let h = headers(&[
        (TIMESTAMP, "2027-01-15T08:00:00+00:00".into()),
        (SIGNATURE, sign_zendesk("zk", BODY, ZD_TS)[1].1.clone()),
    ]);
    let e = verify(&secret("zk"), &h, BODY, zd_now(0)).unwrap_err();
    assert_eq!(e, VerifyError::BadSignature(SIGNATURE.into()));
    // ...and that spelling verifies when it is the one that was signed.
    let h = headers(&sign_zendesk("zk", BODY, "2027-01-15T08:00:00+00:00"));
    assert!(verify(&secret("zk"), &h, BODY, zd_now(0)).is_ok());
}

#[test]
fn a_zendesk_timestamp_more_than_300_s_either_way_is_stale() {
    let h = headers(&sign_zendesk("zk", BODY, ZD_TS));
    for offset in [-301, 301, 3600] {
        let e = verify(&secret("zk"), &h, BODY, zd_now(offset)).unwrap_err();
        assert!(
            matches!(&e, VerifyError::Stale { header, .. } if header == TIMESTAMP),
            "{offset}: {e:?}"
        );
    }
    for offset in [-300, 0, 300] {
        assert!(
            verify(&secret("zk"), &h, BODY, zd_now(offset)).is_ok(),
            "{offset}"
        );
    }
}

#[test]
fn a_missing_or_malformed_zendesk_header_is_named() {
    let e = verify(&secret("zk"), &HeaderMap::new(), BODY, zd_now(0)).unwrap_err();
    assert_eq!(e, VerifyError::MissingHeader(TIMESTAMP.into()));
    let h = headers(&[(TIMESTAMP, ZD_TS.into())]);
    assert_eq!(
        verify(&secret("zk"), &h, BODY, zd_now(0)).unwrap_err(),
        VerifyError::MissingHeader(SIGNATURE.into())
    );
    // Unix seconds are not what Zendesk sends: named as malformed, not silently accepted.
    let h = headers(&[(TIMESTAMP, "1800000000".into()), (SIGNATURE, "AAAA".into())]);
    let e = verify(&secret("zk"), &h, BODY, zd_now(0)).unwrap_err();
    assert!(
        matches!(&e, VerifyError::Malformed { header, .. } if header == TIMESTAMP),
        "{e:?}"
    );
    let h = headers(&[(TIMESTAMP, ZD_TS.into()), (SIGNATURE, "not base64!".into())]);
    let e = verify(&secret("zk"), &h, BODY, zd_now(0)).unwrap_err();
    assert!(
        matches!(&e, VerifyError::Malformed { header, .. } if header == SIGNATURE),
        "{e:?}"
    );
}

/// A Zendesk connection, read and built as `serve` would, with or without `account_id`.
fn zd_connection(account_id: Option<&str>) -> std::sync::Arc<dyn crate::itsm::Itsm> {
    let account = account_id
        .map(|a| format!("account_id = {a:?}\n"))
        .unwrap_or_default();
    let cfg = crate::config::load_str(
        &format!(
            "[[itsm]]\nid = \"zd\"\nkind = \"zendesk\"\nbase_url = \"https://acme.zendesk.com\"\n\
             auth = {{ type = \"bearer\", token = \"t\" }}\ninbound = {{ type = \"zendesk_signature\", secret = \"zk\" }}\n{account}"
        ),
        "test.toml",
    )
    .unwrap();
    crate::itsm::build(
        &cfg.itsm[0],
        &crate::itsm::BuildCtx {
            trust: Default::default(),
            metrics: Default::default(),
            timeout: Duration::from_secs(5),
        },
    )
}

#[test]
fn a_configured_zendesk_account_must_be_the_one_the_header_names() {
    let mut pairs = sign_zendesk("zk", BODY, ZD_TS).to_vec();
    let cfg = zd_connection(Some("123456"));
    // missing
    let e = cfg.verify(&headers(&pairs), BODY, zd_now(0)).unwrap_err();
    assert_eq!(e, VerifyError::MissingHeader(ACCOUNT.into()));
    // another account, correctly signed
    pairs.push((ACCOUNT, "999999".into()));
    let e = cfg.verify(&headers(&pairs), BODY, zd_now(0)).unwrap_err();
    assert_eq!(e.header(), ACCOUNT);
    assert!(matches!(e, VerifyError::WrongSender { .. }));
    assert!(
        !e.to_string().contains("123456"),
        "the configured account is not told to the caller: {e}"
    );
    // the right one
    pairs.pop();
    pairs.push((ACCOUNT, "123456".into()));
    assert!(cfg.verify(&headers(&pairs), BODY, zd_now(0)).is_ok());
    // without account_id any account goes, but the signature still decides
    assert!(zd_connection(None)
        .verify(&headers(&pairs[..2]), BODY, zd_now(0))
        .is_ok());
    let bad = headers(&sign_zendesk("other", BODY, ZD_TS));
    assert!(matches!(
        cfg.verify(&bad, BODY, zd_now(0)),
        Err(VerifyError::BadSignature(_))
    ));
}
