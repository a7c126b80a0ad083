//! What Jira sends to `POST /hooks/{connection}` (contracts/jira.md, "Inbound"), already
//! verified by the core: an Automation "Send web request" with the issue data (the button; no
//! `webhookEvent`; Jira format `{"issue": {...}}`, or Automation format, the issue itself), or an
//! admin webhook, of which only `jira:issue_updated` adding
//! the trigger label asks for a session. The body is a hint: the request type (the queue) is a
//! site-specific custom field, so it is left undecided here and read through the API later.

use super::assumed::{COMMENT_EVENTS, ISSUE_UPDATED, MARKER_PREFIX, WEBHOOK_IDENTIFIER};
use crate::ids::{EventId, TicketRef};
use crate::itsm::{Inbound, InboundError, InboundRequest};
use crate::ticket::{Person, Ticket};
use serde_json::Value;

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn person(v: Option<&Value>) -> Option<Person> {
    let v = v.filter(|v| v.is_object())?;
    let p = Person {
        name: text(v, "displayName"),
        email: text(v, "emailAddress"),
    };
    (p.name.is_some() || p.email.is_some()).then_some(p)
}

/// `ITS-42` (any case) → `ITS-42`; anything else is not an issue key.
pub(crate) fn issue_key(raw: &str) -> Option<String> {
    let (project, number) = raw.trim().rsplit_once('-')?;
    let project_ok = project
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && project
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    // Jira keeps the issue number as a positive 64-bit integer and a project key to 255
    // characters: a key past either names no issue Jira can have.
    let number = number
        .chars()
        .all(|c| c.is_ascii_digit())
        .then(|| number.parse::<i64>().ok())
        .flatten()
        .filter(|n| *n > 0);
    let project_ok = project_ok && project.len() <= 255;
    match number {
        Some(n) if project_ok => Some(format!("{}-{n}", project.to_ascii_uppercase())),
        _ => None,
    }
}

/// The hint a Jira issue object (`{"key", "fields": {...}}`) gives.
pub(crate) fn hint(issue: &Value, key: &str) -> Ticket {
    let f = issue.get("fields").cloned().unwrap_or(Value::Null);
    let tags = f.get("labels").and_then(Value::as_array).map(|l| {
        l.iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect()
    });
    Ticket {
        number: Some(key.to_string()),
        subject: text(&f, "summary"),
        project: f.get("project").and_then(|p| text(p, "key")),
        priority: f.get("priority").and_then(|p| text(p, "name")),
        tags,
        requester: person(f.get("reporter")),
        ..Ticket::default()
    }
}

fn the_issue(v: &Value) -> Result<(&Value, String), InboundError> {
    let issue = v
        .get("issue")
        .filter(|i| i.is_object())
        .ok_or_else(|| InboundError::MissingField("issue".into()))?;
    let raw = text(issue, "key").ok_or_else(|| InboundError::MissingField("issue.key".into()))?;
    let key = issue_key(&raw).ok_or_else(|| InboundError::Invalid {
        field: "issue.key".into(),
        reason: format!("{raw:?} is not an issue key like ITS-42"),
    })?;
    Ok((issue, key))
}

/// Whether the changelog adds `label` (labels are space-separated in `fromString`/`toString`).
fn adds_label(v: &Value, label: &str) -> bool {
    let items = v
        .pointer("/changelog/items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    items
        .iter()
        .filter(|i| text(i, "field").is_some_and(|f| f.eq_ignore_ascii_case("labels")))
        .any(|i| {
            let has = |k: &str| {
                text(i, k)
                    .is_some_and(|s| s.split_whitespace().any(|l| l.eq_ignore_ascii_case(label)))
            };
            has("toString") && !has("fromString")
        })
}

fn delivery_id(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get(WEBHOOK_IDENTIFIER)
        .and_then(|h| h.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

pub(super) fn parse(
    headers: &http::HeaderMap,
    body: &[u8],
    trigger_label: &str,
) -> Result<Inbound, InboundError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| InboundError::NotJson(e.to_string()))?;
    if !v.is_object() {
        return Err(InboundError::NotJson("expected a JSON object".into()));
    }
    match v.get("webhookEvent") {
        None | Some(Value::Null) => automation(&v, headers),
        Some(Value::String(e)) if e == ISSUE_UPDATED => issue_updated(&v, headers, trigger_label),
        Some(Value::String(e)) if COMMENT_EVENTS.contains(&e.as_str()) => {
            let body = v
                .pointer("/comment/body")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Ok(Inbound::Ignore(if body.contains(MARKER_PREFIX) {
                format!("{e}: a comment deskbridge wrote itself")
            } else {
                format!("{e} events do not ask for a remote session")
            }))
        }
        Some(Value::String(e)) => Ok(Inbound::Ignore(format!(
            "{e} events do not ask for a remote session"
        ))),
        Some(_) => Err(InboundError::Invalid {
            field: "webhookEvent".into(),
            reason: "expected a string".into(),
        }),
    }
}

/// Automation "Send web request": the button. Nothing in the body identifies the delivery; a
/// second click on an open session is caught by the store instead.
fn automation(v: &Value, headers: &http::HeaderMap) -> Result<Inbound, InboundError> {
    // "Issue data (Automation format)" is the issue itself, not wrapped in `issue`: an admin
    // who picks it by mistake still gets a working button.
    let automation_format =
        v.get("issue").is_none() && v.get("key").is_some() && v.get("fields").is_some();
    let wrapped;
    let body = if automation_format {
        wrapped = serde_json::json!({ "issue": v });
        &wrapped
    } else {
        v
    };
    let (issue, key) = the_issue(body)?;
    Ok(request(
        delivery_id(headers),
        key.clone(),
        hint(issue, &key),
    ))
}

/// An admin webhook `jira:issue_updated`: a request only when its changelog adds the label.
fn issue_updated(
    v: &Value,
    headers: &http::HeaderMap,
    trigger_label: &str,
) -> Result<Inbound, InboundError> {
    let (issue, key) = the_issue(v)?;
    if !adds_label(v, trigger_label) {
        return Ok(Inbound::Ignore(format!(
            "this update of {key} does not add the label {trigger_label:?}"
        )));
    }
    // De-duplicate on what the signature covers (the issue key and the body's timestamp), not
    // on the unsigned delivery header: a captured request resent under a new identifier is
    // still the same delivery. The header is the fallback for bodies without a timestamp.
    let event_id = match text(v, "timestamp") {
        Some(ts) => format!("{key}@{ts}"),
        None => {
            delivery_id(headers).ok_or_else(|| InboundError::MissingField("timestamp".into()))?
        }
    };
    let mut hint = hint(issue, &key);
    // The user who added the label is the agent who asked for the session.
    hint.agent = person(v.get("user"));
    Ok(request(Some(event_id), key, hint))
}

fn request(event_id: Option<String>, key: String, hint: Ticket) -> Inbound {
    Inbound::Request(InboundRequest {
        event_id: event_id.map(EventId::new),
        ticket: TicketRef::new(key),
        hint,
    })
}

#[cfg(test)]
mod tests;
