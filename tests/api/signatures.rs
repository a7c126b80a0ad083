//! Cross-checks of the two independent implementations of every signed inbound scheme: the
//! product's verifier must accept exactly what the simulator crate signs as the sender would
//! (the ServiceNow UI Action, Zendesk webhooks, Jira admin webhooks), and refuse the request
//! once any single byte of the body or of a signed header has changed. Either side getting the
//! contract wrong on its own makes these fail.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use deskbridge::itsm::{Itsm, VerifyError};
use http::{HeaderMap, HeaderName};

const SECRET: &str = "cross-check-secret";
/// 2027-01-15T08:00:00Z.
const SENT: i64 = 1_800_000_000;
const BODY: &[u8] = br#"{"event_id":"e1","sys_id":"9d385017c611228701d22104cc95c371","caller":{"name":"Zo\u00eb"}}"#;

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(SENT as u64 + 5)
}

fn headers<K: AsRef<str>>(pairs: &[(K, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        let name = HeaderName::from_bytes(k.as_ref().as_bytes()).unwrap();
        h.insert(name, v.parse().unwrap());
    }
    h
}

/// A connection of `kind` with the given `[[itsm]]` lines, read and built as `serve` does: the
/// webhook route verifies through exactly this adapter.
fn connection(kind: &str, auth: &str, more: &str) -> Arc<dyn Itsm> {
    let text = format!(
        "[[itsm]]\nid = \"c\"\nkind = \"{kind}\"\nbase_url = \"https://x.example\"\n\
         auth = {auth}\n{more}\n"
    );
    let cfg = deskbridge::config::load_str(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let ctx = deskbridge::itsm::BuildCtx {
        trust: Default::default(),
        metrics: Default::default(),
        timeout: Duration::from_secs(5),
    };
    deskbridge::itsm::build(&cfg.itsm[0], &ctx)
}

fn verify(itsm: &dyn Itsm, h: &HeaderMap, body: &[u8], now: SystemTime) -> Result<(), VerifyError> {
    itsm.verify(h, body, now).map(|_| ())
}

/// `s` with bit 0 of byte `i` flipped (`~` would become DEL, which no header may carry).
fn one_byte_changed(s: &[u8], i: usize) -> Vec<u8> {
    let mut out = s.to_vec();
    out[i] = if out[i] == b'~' { b'}' } else { out[i] ^ 1 };
    out
}

/// The product accepts `signed`, refuses every one-byte change of the body as a bad signature,
/// and refuses every one-byte change of each signed header value.
fn holds(auth: &dyn Itsm, signed: &[(&'static str, String)], body: &[u8], bad_sig: &str) {
    let ok = verify(auth, &headers(signed), body, now());
    assert!(ok.is_ok(), "what the simulator signs is refused: {ok:?}");
    for i in 0..body.len() {
        let changed = one_byte_changed(body, i);
        let e = verify(auth, &headers(signed), &changed, now()).unwrap_err();
        assert_eq!(e, VerifyError::BadSignature(bad_sig.into()), "byte {i}");
    }
    for (n, (name, value)) in signed.iter().enumerate() {
        for i in 0..value.len() {
            let mut pairs = signed.to_vec();
            let changed = one_byte_changed(value.as_bytes(), i);
            pairs[n].1 = String::from_utf8(changed).unwrap();
            let r = verify(auth, &headers(&pairs), body, now());
            assert!(r.is_err(), "{name} byte {i} changed, still accepted");
        }
    }
}

#[test]
fn servicenow_the_ui_action_signature_of_the_simulator_is_what_the_product_verifies() {
    let auth = connection(
        "servicenow",
        r#"{ type = "bearer", token = "t" }"#,
        &format!(r#"inbound = {{ type = "hmac", secret = "{SECRET}" }}"#),
    );
    let auth = auth.as_ref();
    let signed = deskbridge_sim::servicenow::sign_ui_action(SECRET, BODY, SENT);
    holds(
        auth,
        &signed,
        BODY,
        deskbridge_sim::servicenow::SIGNATURE_HEADER,
    );
    let other = deskbridge_sim::servicenow::sign_ui_action("another-secret", BODY, SENT);
    assert!(verify(auth, &headers(&other), BODY, now()).is_err());
}

#[test]
fn zendesk_the_webhook_signature_of_the_simulator_is_what_the_product_verifies() {
    let auth = connection(
        "zendesk",
        r#"{ type = "bearer", token = "t" }"#,
        &format!(r#"inbound = {{ type = "zendesk_signature", secret = "{SECRET}" }}"#),
    );
    let auth = auth.as_ref();
    let signed = deskbridge_sim::zendesk::sign_webhook(SECRET, BODY, "2027-01-15T08:00:00Z");
    holds(
        auth,
        &signed,
        BODY,
        deskbridge_sim::zendesk::SIGNATURE_HEADER,
    );
    let other =
        deskbridge_sim::zendesk::sign_webhook("another-secret", BODY, "2027-01-15T08:00:00Z");
    assert!(verify(auth, &headers(&other), BODY, now()).is_err());
}

#[test]
fn jira_the_hub_signature_of_the_simulator_is_what_the_product_verifies() {
    let auth = connection(
        "jira",
        r#"{ type = "bearer", token = "t" }"#,
        &format!(r#"inbound = {{ type = "hub_signature", secret = "{SECRET}" }}"#),
    );
    let auth = auth.as_ref();
    // Jira's body carries its own timestamp (ms), which the product holds to the replay window.
    let body = format!(
        r#"{{"timestamp":{},"webhookEvent":"jira:issue_updated","issue":{{"key":"IT-1"}}}}"#,
        SENT * 1000
    );
    let name = deskbridge_sim::jira::HUB_SIGNATURE_HEADER;
    let signed = [(
        name,
        deskbridge_sim::jira::hub_signature(SECRET, body.as_bytes()),
    )];
    holds(auth, &signed, body.as_bytes(), name);
    let other = [(
        name,
        deskbridge_sim::jira::hub_signature("another-secret", body.as_bytes()),
    )];
    assert!(verify(auth, &headers(&other), body.as_bytes(), now()).is_err());
}

#[tokio::test]
async fn zendesk_a_delivery_of_the_simulator_passes_the_product_with_its_account_check() {
    let sim = deskbridge_sim::ZendeskSim::start("a@acme.example", "t").await;
    sim.connect_webhook(SECRET);
    let ticket = sim.add_ticket(deskbridge_sim::zendesk::SimTicket::default());
    let d = sim
        .click_start_remote_session(ticket, "beth@acme.example")
        .unwrap();
    let zd = connection(
        "zendesk",
        r#"{ type = "bearer", token = "t" }"#,
        &format!(
            "account_id = \"{}\"\ninbound = {{ type = \"zendesk_signature\", secret = \"{SECRET}\" }}",
            sim.account_id()
        ),
    );
    let h = headers(&d.headers);
    let r = zd.verify(&h, &d.body, SystemTime::now());
    assert!(r.is_ok(), "{r:?}");
}
