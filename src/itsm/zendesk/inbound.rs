//! The two kinds of webhook Zendesk can send (contracts/zendesk.md, "Inbound"):
//!
//! - a **trigger** webhook with the body template `integrations/zendesk/` ships: every
//!   placeholder arrives as a string, empty when the ticket has no value, and `tags` is one
//!   space-separated string;
//! - a ticket **event subscription** (`zen:event-type:...`), which asks for a session only when
//!   the trigger tag was *added* (`zen:event-type:ticket.tags_changed`); every other event is a
//!   well-formed call that asks for nothing.
//!
//! Either way the body is a hint; the worker reads the ticket before anything is decided. The
//! delivery id is the `x-zendesk-webhook-invocation-id` header (the event's own `id` when the
//! header is absent, as it is in `deskbridge rules test`).

use super::assumed;
use crate::ids::{EventId, TicketRef};
use crate::itsm::{Inbound, InboundError, InboundRequest};
use crate::ticket::{Person, Ticket};
use serde_json::Value;

pub const INVOCATION_ID: &str = "x-zendesk-webhook-invocation-id";
const EVENT_PREFIX: &str = "zen:event-type:";
const TAGS_CHANGED: &str = "zen:event-type:ticket.tags_changed";

/// A placeholder's value: trimmed, `None` when empty (the ticket has no such value, or the
/// admin's template leaves it out). Numbers are accepted for hand-written bodies.
fn string(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A ticket id: digits only, as `{{ticket.id}}` renders it and as the REST paths take it, and a
/// number Zendesk can have (a positive 64-bit integer): one that could never be read is refused
/// here, with 400, rather than accepted and failed later in the worker.
fn ticket_id(raw: Option<String>, field: &str) -> Result<TicketRef, InboundError> {
    let id = raw.ok_or_else(|| InboundError::MissingField(field.into()))?;
    let invalid = |reason: String| InboundError::Invalid {
        field: field.into(),
        reason,
    };
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!(
            "expected a numeric Zendesk ticket id, got {id:?}"
        )));
    }
    match id.parse::<u64>() {
        Ok(n) if n > 0 => Ok(TicketRef::new(n.to_string())),
        _ => Err(invalid(format!(
            "{id:?} cannot be a Zendesk ticket id (a number from 1 to {})",
            u64::MAX
        ))),
    }
}

fn person(name: Option<String>, email: Option<String>) -> Option<Person> {
    (name.is_some() || email.is_some()).then_some(Person { name, email })
}

fn invocation_id(headers: &http::HeaderMap) -> Option<EventId> {
    let v = headers.get(INVOCATION_ID)?.to_str().ok()?.trim();
    (!v.is_empty()).then(|| EventId::new(v))
}

pub(super) fn parse(
    headers: &http::HeaderMap,
    body: &[u8],
    trigger_tag: &str,
) -> Result<Inbound, InboundError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| InboundError::NotJson(e.to_string()))?;
    if !v.is_object() {
        return Err(InboundError::NotJson("expected a JSON object".into()));
    }
    let delivery = invocation_id(headers);
    match v.get("type").and_then(Value::as_str) {
        Some(t) if t.starts_with(EVENT_PREFIX) => event(&v, t, delivery, trigger_tag),
        _ => trigger(&v, delivery),
    }
}

/// The shipped trigger body: `{"ticket_id", "subject", "priority", "group_id", "group",
/// "brand_id", "tags", "requester_name", "requester_email", "agent_email"}`.
fn trigger(v: &Value, delivery: Option<EventId>) -> Result<Inbound, InboundError> {
    let ticket = ticket_id(string(v, "ticket_id"), "ticket_id")?;
    // A present `tags` is known, even empty ("the ticket has no tags"); an absent one is not.
    let tags = match v.get("tags") {
        Some(Value::String(s)) => Some(s.split_whitespace().map(str::to_lowercase).collect()),
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_lowercase)
                .collect(),
        ),
        Some(Value::Null) | None => None,
        Some(_) => {
            return Err(InboundError::Invalid {
                field: "tags".into(),
                reason: "expected the space-separated {{ticket.tags}} string".into(),
            })
        }
    };
    let hint = Ticket {
        number: Some(ticket.to_string()),
        subject: string(v, "subject"),
        queue: string(v, "group"),
        priority: string(v, "priority").map(|p| p.to_lowercase()),
        tags,
        requester: person(string(v, "requester_name"), string(v, "requester_email")),
        agent: person(None, string(v, "agent_email")),
        ..Ticket::default()
    };
    Ok(Inbound::Request(InboundRequest {
        event_id: delivery,
        ticket,
        hint,
    }))
}

/// An event subscription body: `{"type", "account_id", "id", "time", "subject", "detail",
/// "event"}`.
fn event(
    v: &Value,
    kind: &str,
    delivery: Option<EventId>,
    trigger_tag: &str,
) -> Result<Inbound, InboundError> {
    if kind != TAGS_CHANGED {
        return Ok(Inbound::Ignore(format!("Zendesk event {kind} does not ask for a remote session (only {TAGS_CHANGED} adding the tag {trigger_tag:?} does)")));
    }
    let detail = v
        .get("detail")
        .filter(|d| d.is_object())
        .ok_or_else(|| InboundError::MissingField("detail".into()))?;
    let from_subject = v
        .get("subject")
        .and_then(Value::as_str)
        .and_then(|s| s.strip_prefix("zen:ticket:"))
        .map(String::from);
    let ticket = ticket_id(string(detail, "id").or(from_subject), "detail.id")?;
    let added = tags_added(v.get("event"))?;
    if !added.iter().any(|t| t.eq_ignore_ascii_case(trigger_tag)) {
        return Ok(Inbound::Ignore(format!(
            "the tags added to ticket {ticket} ({added:?}) do not include {trigger_tag:?}"
        )));
    }
    let tags = detail.get("tags").and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_lowercase)
            .collect()
    });
    let hint = Ticket {
        number: Some(ticket.to_string()),
        subject: string(detail, "subject"),
        priority: string(detail, "priority").map(|p| p.to_lowercase()),
        category: string(detail, "type"),
        tags,
        ..Ticket::default()
    };
    let event_id = delivery.or_else(|| string(v, "id").map(EventId::new));
    Ok(Inbound::Request(InboundRequest {
        event_id,
        ticket,
        hint,
    }))
}

fn str_list(v: Option<&Value>) -> Option<Vec<String>> {
    Some(
        v?.as_array()?
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
    )
}

/// The tags an event added: `tags_added`, or `added.tags` (the shape of Zendesk's user
/// events), or `current` minus `previous` (all assumed, see `assumed.rs`).
fn tags_added(event: Option<&Value>) -> Result<Vec<String>, InboundError> {
    let event = event
        .filter(|e| e.is_object())
        .ok_or_else(|| InboundError::MissingField("event".into()))?;
    if let Some(added) = str_list(event.get(assumed::TAGS_ADDED_KEY)) {
        return Ok(added);
    }
    if event.get(assumed::TAGS_ADDED_OBJECT).is_some() {
        let pointer = format!("/{}/tags", assumed::TAGS_ADDED_OBJECT);
        return str_list(event.pointer(&pointer)).ok_or_else(|| InboundError::Invalid {
            field: format!("event.{}.tags", assumed::TAGS_ADDED_OBJECT),
            reason: "expected a list of tags".into(),
        });
    }
    match (
        str_list(event.get("current")),
        str_list(event.get("previous")),
    ) {
        (Some(cur), prev) => {
            let prev = prev.unwrap_or_default();
            Ok(cur.into_iter().filter(|t| !prev.contains(t)).collect())
        }
        (None, _) => Err(InboundError::Invalid {
            field: "event".into(),
            reason: format!(
                "a tags_changed event needs `{}`, `{}.tags` or `current`/`previous` lists",
                assumed::TAGS_ADDED_KEY,
                assumed::TAGS_ADDED_OBJECT
            ),
        }),
    }
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
