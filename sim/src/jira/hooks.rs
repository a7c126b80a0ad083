//! Jira's outbound side, played by the simulator: the Automation "Send web request" body
//! (issue data, Jira format) and admin webhooks (`jira:issue_updated` with a changelog,
//! `comment_created`), signed with `X-Hub-Signature: sha256=<hex>` when a secret is set and
//! carrying `X-Atlassian-Webhook-Identifier` as Cloud does. [`hub_signature`] signs as Jira
//! signs (contract: lowercase hex HMAC-SHA256 of the raw body, no timestamp signed);
//! [`verify_hub_signature`] is the receiver's check of it.

use serde_json::{json, Value};

use super::model::{self, Person};
use super::{JiraData, JiraSim, JiraState};
use crate::signature::{self, Refusal};

/// The header Jira signs admin webhooks in (not `X-Hub-Signature-256`).
pub const HUB_SIGNATURE_HEADER: &str = "x-hub-signature";

/// A webhook ready to post: body bytes and headers.
#[derive(Debug, Clone)]
pub struct SimWebhook {
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl SimWebhook {
    /// The same delivery without `X-Atlassian-Webhook-Identifier` (Data Center sends none).
    pub fn without_identifier(mut self) -> Self {
        self.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("x-atlassian-webhook-identifier"));
        self
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `sha256=<lowercase hex HMAC-SHA256(secret, body)>`, as Jira signs admin webhooks.
pub fn hub_signature(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(signature::hmac_sha256(secret, &[body]))
    )
}

/// What the receiver checks, given the header value as received: `sha256=` and the hex HMAC
/// of `body`. Nothing is timestamped, so there is no replay window to hold it to.
pub fn verify_hub_signature(secret: &str, header: &str, body: &[u8]) -> Result<(), Refusal> {
    let digest = header
        .trim()
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(Refusal::Malformed(HUB_SIGNATURE_HEADER))?;
    if !signature::hmac_matches(secret, &[body], &digest) {
        return Err(Refusal::Mismatch(HUB_SIGNATURE_HEADER));
    }
    Ok(())
}

fn issue_value(st: &JiraState, d: &JiraData, key: &str) -> Option<Value> {
    let i = d.issue(key)?;
    let desk = d.desk_of(i);
    let attachments = d
        .attachments
        .iter()
        .filter(|a| a.issue_id == i.id)
        .map(|a| a.platform(&st.base_url, &st.account))
        .collect();
    let mut v = model::issue_json(&st.base_url, i, &desk, attachments, None);
    v.as_object_mut()?.remove("expand");
    Some(v)
}

fn admin_webhook(d: &JiraData, body: Value) -> SimWebhook {
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let mut headers = vec![
        (
            "content-type".to_string(),
            "application/json; charset=utf-8".to_string(),
        ),
        (
            "x-atlassian-webhook-identifier".to_string(),
            uuid::Uuid::new_v4().to_string(),
        ),
        (
            "user-agent".to_string(),
            "Atlassian Webhook HTTP Client".to_string(),
        ),
    ];
    if let Some(secret) = &d.webhook_secret {
        headers.push((
            HUB_SIGNATURE_HEADER.to_string(),
            hub_signature(secret, &body),
        ));
    }
    SimWebhook { body, headers }
}

impl JiraSim {
    /// What the "Start remote session" rule's "Send web request" sends: `{"issue": {...}}`.
    pub fn automation_body(&self, key: &str) -> Option<Vec<u8>> {
        let st = &self.inner.state;
        let d = st.data();
        let mut issue = issue_value(st, &d, key)?;
        // As in Atlassian's example of this payload: a numeric id and an empty changelog.
        let id: u64 = issue["id"].as_str()?.parse().ok()?;
        issue["id"] = id.into();
        issue["changelog"] = json!({"startAt": 0, "maxResults": 0, "total": 0, "histories": null});
        serde_json::to_vec(&json!({ "issue": issue })).ok()
    }

    /// An agent (`by_name`, `by_email`) adds `label`: the issue changes and the admin webhook
    /// `jira:issue_updated` with its changelog is returned. `None` for an unknown issue.
    pub fn add_label(
        &self,
        key: &str,
        label: &str,
        by_name: &str,
        by_email: &str,
    ) -> Option<SimWebhook> {
        let st = &self.inner.state;
        let mut d = st.data();
        let user = Person {
            account_id: format!("qm:{}", d.next()),
            name: by_name.into(),
            email: by_email.into(),
        };
        let changelog_id = d.next();
        let i = d
            .issues
            .iter_mut()
            .find(|i| i.key.eq_ignore_ascii_case(key))?;
        let from = i.labels.join(" ");
        if !i.labels.iter().any(|l| l == label) {
            i.labels.push(label.to_string());
        }
        let to = i.labels.join(" ");
        let issue = issue_value(st, &d, key)?;
        let body = json!({
            "timestamp": model::now_ms(),
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_updated",
            "user": model::platform_user(&st.base_url, &user),
            "issue": issue,
            "changelog": {"id": changelog_id, "items": [
                {"field": "labels", "fieldtype": "jira", "fieldId": "labels", "from": null, "fromString": from, "to": null, "toString": to}
            ]},
        });
        Some(admin_webhook(&d, body))
    }

    /// The admin webhook `comment_created` for a stored comment (deskbridge's own, say).
    pub fn comment_webhook(&self, key: &str, comment_id: &str) -> Option<SimWebhook> {
        let st = &self.inner.state;
        let d = st.data();
        let c = d.comments.iter().find(|c| c.id == comment_id)?;
        let a = &st.account;
        let author = json!({"accountId": a.account_id, "displayName": a.display_name, "emailAddress": a.email, "active": true});
        let body = json!({
            "timestamp": model::now_ms(),
            "webhookEvent": "comment_created",
            "comment": {
                "self": format!("{}/rest/api/2/issue/{}/comment/{}", st.base_url, c.issue_id, c.id),
                "id": c.id, "author": author, "body": c.body, "updateAuthor": author,
                "created": model::jira_time(c.created_ms), "updated": model::jira_time(c.created_ms),
                "jsdPublic": c.public,
            },
            "issue": issue_value(st, &d, key)?,
        });
        Some(admin_webhook(&d, body))
    }
}
