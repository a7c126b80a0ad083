//! The body the Workflow Automator's "Trigger Webhook" action sends, built from deskbridge's
//! template (`integrations/freshservice/webhook-body.json`, keys in [`assumed::body`]).
//!
//! Every value is a rendered placeholder, so every value is a string and any may be empty (an
//! unknown placeholder, an unassigned ticket). The keys are ours and checked strictly; the
//! values are only a hint, since the worker reads the ticket through the API before deciding.

use super::assumed::{self, body};
use crate::ids::{EventId, TicketRef};
use crate::itsm::{Inbound, InboundError, InboundRequest};
use crate::ticket::{Person, Ticket};
use serde_json::Value;

/// The value of `key` as the placeholder rendered it: `None` when absent, empty, or left as an
/// unrendered `{{...}}` placeholder.
fn value(v: &Value, key: &str) -> Option<String> {
    let s = match v.get(key)? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty() && !s.contains("{{")).then_some(s)
}

/// "266", "#266", "INC-266", "#SR-12" → the numeric id; `None` if it is not one of these.
pub(super) fn ticket_number(raw: &str) -> Option<String> {
    let s = raw.trim().trim_start_matches('#');
    let upper = s.to_ascii_uppercase();
    let digits = assumed::DISPLAY_ID_PREFIXES
        .iter()
        .find(|p| upper.starts_with(*p))
        .map_or(s, |p| &s[p.len()..]);
    let ok = !digits.is_empty() && digits.len() <= 19 && digits.chars().all(|c| c.is_ascii_digit());
    ok.then(|| digits.trim_start_matches('0').to_string())
        .filter(|d| !d.is_empty())
}

/// A rendered `{{ticket.priority}}`: the API's number, or its label ("High" → "3").
pub(super) fn priority(raw: &str) -> Option<String> {
    let s = raw.trim();
    if matches!(s, "1" | "2" | "3" | "4") {
        return Some(s.to_string());
    }
    let lower = s.to_ascii_lowercase();
    assumed::PRIORITY_LABELS
        .iter()
        .find(|(label, _)| *label == lower)
        .map(|(_, n)| n.to_string())
}

fn person(name: Option<String>, email: Option<String>) -> Option<Person> {
    (name.is_some() || email.is_some()).then_some(Person { name, email })
}

pub(super) fn parse(bytes: &[u8]) -> Result<Inbound, InboundError> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| InboundError::NotJson(e.to_string()))?;
    if !v.is_object() {
        return Err(InboundError::NotJson(
            "expected a JSON object (the template in integrations/freshservice/)".into(),
        ));
    }
    for key in [body::TICKET_ID, body::EVENT_ID] {
        if v.get(key).is_none() {
            return Err(InboundError::MissingField(key.into()));
        }
    }
    let raw_id = value(&v, body::TICKET_ID).ok_or_else(|| InboundError::Invalid {
        field: body::TICKET_ID.into(),
        reason: "it is empty: the {{ticket.id_numeric}} placeholder did not render".into(),
    })?;
    let id = ticket_number(&raw_id).ok_or_else(|| InboundError::Invalid {
        field: body::TICKET_ID.into(),
        reason: format!("{raw_id:?} is not a ticket number such as 266 or INC-266"),
    })?;
    // "266-" (the updated_at placeholder rendered empty) would make every later click on the
    // ticket look like a repeat: without a usable event id only the open-session check applies.
    let event_id = value(&v, body::EVENT_ID)
        .filter(|e| e.trim_end_matches('-') != raw_id && e.trim_end_matches('-') != id)
        .map(EventId::new);
    let hint = Ticket {
        number: Some(id.clone()),
        subject: value(&v, body::SUBJECT),
        queue: value(&v, body::GROUP),
        priority: value(&v, body::PRIORITY).as_deref().and_then(priority),
        workspace: value(&v, body::WORKSPACE_ID),
        requester: person(
            value(&v, body::REQUESTER_NAME),
            value(&v, body::REQUESTER_EMAIL),
        ),
        agent: person(None, value(&v, body::AGENT_EMAIL)),
        ..Ticket::default()
    };
    Ok(Inbound::Request(InboundRequest {
        event_id,
        ticket: TicketRef::new(id),
        hint,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped template with its placeholders rendered as a real ticket would render them.
    fn rendered(pairs: &[(&str, &str)]) -> String {
        let mut t = assumed::BODY_TEMPLATE.to_string();
        for (placeholder, val) in pairs {
            t = t.replace(&format!("{{{{{placeholder}}}}}"), val);
        }
        t
    }

    fn full() -> String {
        rendered(&[
            ("ticket.id_numeric", "266"),
            ("ticket.subject", "VPN drops \"hourly\""),
            ("ticket.priority", "High"),
            ("ticket.group_name", "Service Desk"),
            ("ticket.workspace_id", "2"),
            ("ticket.requester.name", "Jane Doe"),
            ("ticket.requester.email", "jane@acme.example"),
            ("ticket.agent.email", "beth@acme.example"),
            ("ticket.updated_at", "2024-05-02T10:11:12Z"),
        ])
        .replace("VPN drops \"hourly\"", "VPN drops \\\"hourly\\\"")
    }

    #[test]
    fn the_shipped_template_rendered_becomes_a_request_with_a_hint() {
        let Inbound::Request(r) = parse(full().as_bytes()).unwrap() else {
            panic!("ignored")
        };
        assert_eq!(r.ticket.as_str(), "266");
        assert_eq!(r.event_id.unwrap().as_str(), "266-2024-05-02T10:11:12Z");
        assert_eq!(r.hint.subject.as_deref(), Some("VPN drops \"hourly\""));
        assert_eq!(
            r.hint.priority.as_deref(),
            Some("3"),
            "the label High is the API's 3"
        );
        assert_eq!(r.hint.queue.as_deref(), Some("Service Desk"));
        assert_eq!(r.hint.workspace.as_deref(), Some("2"));
        assert_eq!(r.hint.requester_name(), Some("Jane Doe"));
        assert_eq!(r.hint.requester_email(), Some("jane@acme.example"));
        assert_eq!(r.hint.agent_email(), Some("beth@acme.example"));
        assert_eq!(
            r.hint.tags, None,
            "the body says nothing of tags: unknown, not empty"
        );
    }

    #[test]
    fn the_shipped_template_carries_the_numeric_id_placeholder() {
        let v: Value = serde_json::from_str(assumed::BODY_TEMPLATE).unwrap();
        assert_eq!(v[body::TICKET_ID], "{{ticket.id_numeric}}");
        assert_eq!(
            v[body::EVENT_ID],
            "{{ticket.id_numeric}}-{{ticket.updated_at}}"
        );
        // An older body with the display id still works.
        let old = assumed::BODY_TEMPLATE
            .replace("ticket.id_numeric", "ticket.id")
            .replace("{{ticket.id}}", "#INC-266");
        let Inbound::Request(r) = parse(old.as_bytes()).unwrap() else {
            panic!("ignored")
        };
        assert_eq!(r.ticket.as_str(), "266");
    }

    #[test]
    fn placeholders_that_render_empty_leave_the_hint_unknown_but_the_call_valid() {
        let body = rendered(&[("ticket.id_numeric", "266"), ("ticket.updated_at", "")]);
        let body = body.replace(|c: char| c == '\n', "");
        let Inbound::Request(r) = parse(body.as_bytes()).unwrap() else {
            panic!("ignored")
        };
        assert_eq!(r.ticket.as_str(), "266");
        assert_eq!(
            r.event_id, None,
            "\"266-\" would make every later click a duplicate"
        );
        assert_eq!(
            r.hint.subject, None,
            "an unrendered {{ticket.subject}} is not a subject"
        );
        assert_eq!(r.hint.queue, None);
        assert_eq!(r.hint.requester, None);
        assert_eq!(r.hint.agent, None);
    }

    #[test]
    fn a_missing_empty_or_bad_ticket_id_is_named() {
        let v: Value = serde_json::from_str(&full()).unwrap();
        for key in ["ticket_id", "event_id"] {
            let mut b = v.clone();
            b.as_object_mut().unwrap().remove(key);
            assert_eq!(
                parse(b.to_string().as_bytes()).unwrap_err(),
                InboundError::MissingField(key.into())
            );
        }
        for bad in ["", "abc", "12a", "INC-", "-5", "0", "12345678901234567890"] {
            let mut b = v.clone();
            b["ticket_id"] = bad.into();
            assert_eq!(
                parse(b.to_string().as_bytes()).unwrap_err().field(),
                Some("ticket_id"),
                "{bad:?}"
            );
        }
        assert!(matches!(parse(b"not json"), Err(InboundError::NotJson(_))));
        assert!(matches!(parse(b"[1]"), Err(InboundError::NotJson(_))));
    }

    #[test]
    fn display_ids_and_priority_labels_are_read_as_numbers() {
        for (raw, want) in [
            ("266", "266"),
            ("#266", "266"),
            ("INC-266", "266"),
            ("#sr-0012", "12"),
            (" 7 ", "7"),
        ] {
            assert_eq!(ticket_number(raw).as_deref(), Some(want), "{raw:?}");
        }
        assert_eq!(ticket_number("0"), None);
        for (raw, want) in [("1", "1"), ("Low", "1"), ("MEDIUM", "2"), ("urgent", "4")] {
            assert_eq!(priority(raw).as_deref(), Some(want), "{raw:?}");
        }
        assert_eq!(priority("5"), None);
        assert_eq!(priority("Critical"), None);
    }
}
