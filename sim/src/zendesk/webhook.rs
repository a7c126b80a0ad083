//! Zendesk's sending side. The "Start remote session" macro adds the trigger tag; the trigger
//! shipped in `integrations/zendesk/trigger.json` fires on it, removes the tag and sends its
//! body template with the placeholders filled in; an event subscription sends
//! `zen:event-type:ticket.tags_changed` instead. Either way the request carries Zendesk's
//! headers, signed as `base64(HMAC-SHA256(secret, timestamp + body))` ([`sign_webhook`]; the
//! receiver's check from `shared/contracts/zendesk.md` is [`verify_webhook`]).

use std::time::SystemTime;

use serde_json::{json, Value};

use super::state::{zd_time, ZdData};
use super::ZendeskSim;
use crate::signature::{self, Refusal};

/// The headers Zendesk puts on every webhook request (contract, "Headers on every request").
pub const ACCOUNT_ID_HEADER: &str = "x-zendesk-account-id";
pub const WEBHOOK_ID_HEADER: &str = "x-zendesk-webhook-id";
/// One value per delivery attempt of an event: the delivery id.
pub const INVOCATION_ID_HEADER: &str = "x-zendesk-webhook-invocation-id";
pub const SIGNATURE_HEADER: &str = "x-zendesk-webhook-signature";
/// ISO 8601, signed exactly as it is written here.
pub const SIGNATURE_TIMESTAMP_HEADER: &str = "x-zendesk-webhook-signature-timestamp";

/// The trigger deskbridge ships: the simulator renders exactly what an admin installs.
const TRIGGER: &str = include_str!("../../../integrations/zendesk/trigger.json");
const TAG: &str = "remote_session";

/// One webhook request as Zendesk would send it.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl WebhookDelivery {
    /// POST it to `url` (deskbridge's `/hooks/{connection}`).
    pub async fn send(
        &self,
        client: &reqwest::Client,
        url: &str,
    ) -> reqwest::Result<reqwest::Response> {
        let mut req = client.post(url).body(self.body.clone());
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        req.send().await
    }

    /// The value of one header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The two signature headers Zendesk adds to `body` sent at `timestamp`: the timestamp string as
/// sent, followed directly by the raw body, under HMAC-SHA256, the digest in base64.
pub fn sign_webhook(secret: &str, body: &[u8], timestamp: &str) -> [(&'static str, String); 2] {
    let digest = signature::hmac_sha256(secret, &[timestamp.as_bytes(), body]);
    [
        (SIGNATURE_TIMESTAMP_HEADER, timestamp.to_string()),
        (SIGNATURE_HEADER, signature::base64(&digest)),
    ]
}

/// What the receiver checks, given the two header values as received: the timestamp is an
/// ISO 8601 time within the replay window of `now`, and the signature covers it, as written,
/// and `body`.
pub fn verify_webhook(
    secret: &str,
    timestamp: &str,
    signature_b64: &str,
    body: &[u8],
    now: SystemTime,
) -> Result<(), Refusal> {
    let ts = timestamp.trim();
    let sent = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .map_err(|_| Refusal::Malformed(SIGNATURE_TIMESTAMP_HEADER))?;
    let digest = signature::base64_digest(SIGNATURE_HEADER, signature_b64)?;
    signature::within_window(SIGNATURE_TIMESTAMP_HEADER, sent.unix_timestamp(), now)?;
    if !signature::hmac_matches(secret, &[ts.as_bytes(), body], &digest) {
        return Err(Refusal::Mismatch(SIGNATURE_HEADER));
    }
    Ok(())
}

/// The body template of the shipped trigger's `notification_webhook` action.
pub fn trigger_template() -> String {
    let v: Value =
        serde_json::from_str(TRIGGER).expect("integrations/zendesk/trigger.json is JSON");
    let actions = v["trigger"]["actions"]
        .as_array()
        .expect("the trigger has actions");
    let hook = actions
        .iter()
        .find(|a| a["field"] == "notification_webhook")
        .expect("the trigger notifies a webhook");
    hook["value"][1]
        .as_str()
        .expect("[webhook id, body template]")
        .to_string()
}

/// A placeholder's value, JSON-escaped (the template puts it inside a string).
fn placeholders(data: &ZdData, ticket: u64, agent_email: &str) -> Vec<(&'static str, String)> {
    let t = &data.tickets[&ticket];
    let requester = data.user(t.requester_id);
    // `{{ticket.priority}}` renders the display name ("High"), empty when unset.
    let priority = t
        .priority
        .as_deref()
        .map(|p| format!("{}{}", p[..1].to_uppercase(), &p[1..]))
        .unwrap_or_default();
    let brand = t.brand_id.map(|b| b.to_string()).unwrap_or_default();
    vec![
        ("ticket.id", t.id.to_string()),
        ("ticket.title", t.subject.clone()),
        ("ticket.priority", priority),
        (
            "ticket.group.id",
            t.group_id.map(|g| g.to_string()).unwrap_or_default(),
        ),
        ("ticket.group.name", data.group_name(t.group_id)),
        ("ticket.brand.id", brand),
        ("ticket.tags", t.tags.join(" ")),
        (
            "ticket.requester.name",
            requester.map(|u| u.name.clone()).unwrap_or_default(),
        ),
        (
            "ticket.requester.email",
            requester.map(|u| u.email.clone()).unwrap_or_default(),
        ),
        ("current_user.email", agent_email.to_string()),
    ]
}

fn render(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        let quoted = serde_json::to_string(value).unwrap_or_default();
        out = out.replace(&format!("{{{{{name}}}}}"), &quoted[1..quoted.len() - 1]);
    }
    out
}

fn iso(at: SystemTime) -> String {
    zd_time(time::OffsetDateTime::from(at))
}

impl ZendeskSim {
    /// Connects a webhook signed with `secret` (what the admin does once, with
    /// `integrations/zendesk/webhook.json`).
    pub fn connect_webhook(&self, secret: &str) {
        let id = format!("01F1KRFQ6BG29CNWFR{}", crate::random_hex(8).to_uppercase());
        self.inner.state.data().webhook = Some((secret.to_string(), id));
    }

    /// `body` signed as sent at `at`, with every header Zendesk adds.
    pub fn sign_delivery(&self, body: Vec<u8>, at: SystemTime) -> WebhookDelivery {
        let mut data = self.inner.state.data();
        let (secret, webhook_id) = data.webhook.clone().expect("connect_webhook first");
        data.invocations += 1;
        let mut headers: Vec<(String, String)> = sign_webhook(&secret, &body, &iso(at))
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        headers.extend([
            ("content-type".into(), "application/json".into()),
            (
                ACCOUNT_ID_HEADER.into(),
                self.inner.state.account_id.to_string(),
            ),
            (WEBHOOK_ID_HEADER.into(), webhook_id),
            (INVOCATION_ID_HEADER.into(), data.invocations.to_string()),
        ]);
        WebhookDelivery { headers, body }
    }

    /// The agent `agent_email` applies the "Start remote session" macro: the tag is added, the
    /// trigger fires, removes it and sends its body. `None` for an unknown ticket.
    pub fn click_start_remote_session(
        &self,
        ticket: u64,
        agent_email: &str,
    ) -> Option<WebhookDelivery> {
        let body = {
            let mut data = self.inner.state.data();
            let t = data.tickets.get_mut(&ticket)?;
            // macro: add the tag; trigger: remove it again, then notify
            t.tags.retain(|x| x != TAG);
            render(
                &trigger_template(),
                &placeholders(&data, ticket, agent_email),
            )
        };
        Some(self.sign_delivery(body.into_bytes(), SystemTime::now()))
    }

    /// What an event subscription sends when `added` tags were added to the ticket.
    pub fn tags_changed_event(&self, ticket: u64, added: &[&str]) -> Option<WebhookDelivery> {
        let body = {
            let mut data = self.inner.state.data();
            let event_id = uuid::Uuid::new_v4().to_string();
            let account = self.inner.state.account_id;
            let t = data.tickets.get_mut(&ticket)?;
            for tag in added {
                if !t.tags.iter().any(|x| x == tag) {
                    t.tags.push(tag.to_string());
                }
            }
            let id = |v: Option<u64>| v.map(|v| v.to_string());
            json!({
                "type": "zen:event-type:ticket.tags_changed", "account_id": account, "id": event_id,
                "time": iso(SystemTime::now()), "zendesk_event_version": "2022-06-20", "subject": format!("zen:ticket:{ticket}"),
                "detail": {"id": t.id.to_string(), "subject": t.subject, "priority": t.priority, "status": t.status, "type": t.ticket_type,
                    "group_id": id(t.group_id), "brand_id": id(t.brand_id), "requester_id": t.requester_id.to_string(),
                    "assignee_id": id(t.assignee_id), "tags": t.tags, "is_public": true, "via": {"channel": "web_form"}},
                "event": {"tags_added": added, "tags_removed": []},
            })
            .to_string()
        };
        Some(self.sign_delivery(body.into_bytes(), SystemTime::now()))
    }
}
