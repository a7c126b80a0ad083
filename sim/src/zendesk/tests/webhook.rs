//! The simulator's sending side: the shipped trigger's body, signed as Zendesk signs it, and
//! the simulator's own receiver check of that signature.

use super::*;
use crate::signature::Refusal;
use std::time::SystemTime;

#[tokio::test]
async fn the_shipped_trigger_sends_a_correctly_signed_body_and_removes_the_tag() {
    let (sim, id) = seeded().await;
    sim.connect_webhook("whsec");
    let d = sim
        .click_start_remote_session(id, "beth@acme.example")
        .unwrap();
    let body: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(body["ticket_id"], id.to_string());
    assert_eq!(body["priority"], "High");
    assert_eq!(body["group"], "Service Desk");
    assert_eq!(body["tags"], "enterprise");
    assert_eq!(body["agent_email"], "beth@acme.example");
    assert!(
        body.as_object().unwrap().values().all(Value::is_string),
        "every placeholder is a string"
    );
    assert!(!sim.ticket(id).unwrap()["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "remote_session"));
    // the signature is Zendesk's, computed here independently of the verifier
    let ts = d.header("x-zendesk-webhook-signature-timestamp").unwrap();
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(b"whsec").unwrap();
    hmac::Mac::update(&mut mac, ts.as_bytes());
    hmac::Mac::update(&mut mac, &d.body);
    let want =
        base64::engine::general_purpose::STANDARD.encode(hmac::Mac::finalize(mac).into_bytes());
    assert_eq!(d.header("x-zendesk-webhook-signature"), Some(want.as_str()));
    assert_eq!(
        d.header("x-zendesk-account-id"),
        Some(sim.account_id().to_string().as_str())
    );
    let again = sim
        .click_start_remote_session(id, "beth@acme.example")
        .unwrap();
    assert_ne!(
        again.header("x-zendesk-webhook-invocation-id"),
        d.header("x-zendesk-webhook-invocation-id")
    );
    // JSON-escaped placeholders keep the body valid whatever the subject says
    let quoted = sim.add_ticket(SimTicket {
        subject: "say \"hi\"\nthen <leave>".into(),
        priority: None,
        ..SimTicket::default()
    });
    let d = sim
        .click_start_remote_session(quoted, "beth@acme.example")
        .unwrap();
    let body: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(body["subject"], "say \"hi\"\nthen <leave>");
    assert_eq!(
        body["priority"], "",
        "an unset placeholder is an empty string"
    );
}

const TS: &str = "2027-01-15T08:00:00Z";
const BODY: &[u8] = br#"{"event_id":"e1","sys_id":"abc"}"#;

/// Our clock `offset` seconds after `TS`.
fn after_ts(offset: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs((1_800_000_000 + offset) as u64)
}

#[test]
fn the_signature_matches_known_answers_computed_outside_this_code() {
    // python3: base64(hmac.new(secret, ts + body, sha256).digest())
    let [ts, sig] = sign_webhook("zk-known-answer", br#"{"ticket_id": "35436"}"#, TS);
    assert_eq!(ts, (SIGNATURE_TIMESTAMP_HEADER, TS.to_string()));
    assert_eq!(
        sig.1, "OalJ14aGn0uCH/Z97N5JOD2TjSBrJ+TRImraKlDV1Yw=",
        "signed as {}",
        sig.0
    );
    assert_eq!(
        sign_webhook("zk", BODY, TS)[1].1,
        "3AKv02zKJUAwes6Rwg9jxAZ3xKa08dkUk5NVsLQklPQ="
    );
}

#[test]
fn the_receiver_accepts_the_signed_body_and_refuses_any_change() {
    // 2027-01-15T08:00:00Z is 1_800_000_000 s after the epoch.
    let sig = sign_webhook("zk", BODY, TS)[1].1.clone();
    assert_eq!(verify_webhook("zk", TS, &sig, BODY, after_ts(0)), Ok(()));
    let mismatch = Err(Refusal::Mismatch(SIGNATURE_HEADER));
    let mut changed = BODY.to_vec();
    changed[3] ^= 1;
    assert_eq!(
        verify_webhook("zk", TS, &sig, &changed, after_ts(0)),
        mismatch
    );
    assert_eq!(
        verify_webhook("other", TS, &sig, BODY, after_ts(0)),
        mismatch
    );
    // the same instant written another way is another signed string
    let same_instant = "2027-01-15T08:00:00+00:00";
    assert_eq!(
        verify_webhook("zk", same_instant, &sig, BODY, after_ts(0)),
        mismatch
    );
    assert_eq!(
        verify_webhook("zk", TS, &sig, BODY, after_ts(301)),
        Err(Refusal::Stale(SIGNATURE_TIMESTAMP_HEADER))
    );
    assert_eq!(
        verify_webhook("zk", "1800000000", &sig, BODY, after_ts(0)),
        Err(Refusal::Malformed(SIGNATURE_TIMESTAMP_HEADER))
    );
}

#[tokio::test]
async fn a_delivery_verifies_with_the_connected_secret_only() {
    let (sim, id) = seeded().await;
    sim.connect_webhook("whsec");
    let d = sim
        .click_start_remote_session(id, "beth@acme.example")
        .unwrap();
    let (ts, sig) = (
        d.header(SIGNATURE_TIMESTAMP_HEADER).unwrap(),
        d.header(SIGNATURE_HEADER).unwrap(),
    );
    assert_eq!(
        verify_webhook("whsec", ts, sig, &d.body, SystemTime::now()),
        Ok(())
    );
    assert!(verify_webhook("other", ts, sig, &d.body, SystemTime::now()).is_err());
    for h in [ACCOUNT_ID_HEADER, WEBHOOK_ID_HEADER, INVOCATION_ID_HEADER] {
        assert!(d.header(h).is_some(), "{h}");
    }
}
