//! The simulator's sending side: the shipped trigger's body, signed as Zendesk signs it.

use super::*;

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
