//! Freshservice's JSON, read into deskbridge's shapes: the error envelope into a sentence an
//! admin can act on, a ticket (with its group, requester and agent) into a normalised
//! [`Ticket`], attachment lists into [`RemoteAttachment`]s. Pure, so it is tested on fixtures.

use super::assumed;
use crate::itsm::RemoteAttachment;
use crate::ticket::{Person, Ticket};
use serde_json::Value;

/// A non-empty string field, trimmed.
fn text<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `{"description": "Validation failed", "errors": [{"field", "message", "code"}]}` →
/// "Validation failed: field `include`: It should be ... (invalid_value)"; also the shorter
/// `{"errors": [...]}` and `{"code", "message"}` answers of other statuses.
pub(super) fn envelope(v: &Value) -> Option<String> {
    let mut parts = vec![];
    let mut about_attachments = false;
    for e in v
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut s = String::new();
        if let Some(f) = text(e, "field") {
            about_attachments |= f.starts_with(assumed::ATTACHMENTS_FIELD);
            s.push_str(&format!("field `{f}`: "));
        }
        s.push_str(text(e, "message").unwrap_or("invalid"));
        if let Some(c) = text(e, "code") {
            s.push_str(&format!(" ({c})"));
        }
        parts.push(s);
    }
    if parts.is_empty() {
        if let Some(m) = text(v, "message") {
            parts.push(match text(v, "code") {
                Some(c) => format!("{m} ({c})"),
                None => m.to_string(),
            });
        }
    }
    let mut out = match (text(v, "description"), parts.is_empty()) {
        (Some(d), false) => format!("{d}: {}", parts.join("; ")),
        (Some(d), true) => d.to_string(),
        (None, false) => parts.join("; "),
        (None, true) => return None,
    };
    if about_attachments {
        out.push_str(&format!(
            " [Freshservice allows {} MB of attachments per ticket, all notes together]",
            assumed::TICKET_ATTACHMENT_LIMIT / (1024 * 1024)
        ));
    }
    Some(out)
}

fn string(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A numeric id field (`group_id`, `requester_id`, ...), if set.
pub(super) fn id_of(v: &Value, key: &str) -> Option<u64> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A requester (`first_name`, `last_name`, `primary_email`) or agent (`email`) record.
pub(super) fn person(rec: &Value) -> Option<Person> {
    let name = [string(rec, "first_name"), string(rec, "last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let p = Person {
        name: (!name.is_empty())
            .then_some(name)
            .or_else(|| string(rec, "name")),
        email: string(rec, "primary_email").or_else(|| string(rec, "email")),
    };
    (p.name.is_some() || p.email.is_some()).then_some(p)
}

/// What the related reads found; `None` where the ticket has no such relation.
#[derive(Debug, Default)]
pub(super) struct Related {
    pub group: Option<String>,
    pub requester: Option<Person>,
    pub agent: Option<Person>,
}

/// The `ticket` object of `GET /api/v2/tickets/{id}` as the normalised ticket. Priority is
/// the API's number (1 Low … 4 Urgent) as a string.
pub(super) fn normalise(t: &Value, rel: Related) -> Ticket {
    let tags = t
        .get("tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    Ticket {
        number: string(t, "id"),
        subject: string(t, "subject"),
        queue: rel.group,
        priority: id_of(t, "priority").map(|p| p.to_string()),
        tags: Some(tags),
        category: string(t, "category"),
        requester: rel.requester,
        agent: rel.agent,
        workspace: string(t, "workspace_id"),
        request_type: string(t, "type"),
        ..Ticket::default()
    }
}

/// The `attachments` of a ticket or a conversation.
pub(super) fn attachments(v: &Value) -> Vec<RemoteAttachment> {
    let list = v.get("attachments").and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .filter_map(|a| {
            Some(RemoteAttachment {
                id: string(a, "id"),
                name: string(a, "name")?,
                size: id_of(a, "size"),
            })
        })
        .collect()
}

/// Whether a `Link` header announces a next page.
pub(super) fn has_next(link: Option<&str>) -> bool {
    link.is_some_and(|l| {
        l.split(',')
            .any(|part| part.contains("rel=\"next\"") || part.contains("rel=next"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped samples (copied from `shared/fixtures/`, see `tests/fixtures/freshservice/SOURCES.md`).
    const VALIDATION: &str =
        include_str!("../../../tests/fixtures/freshservice/freshservice-error-400-validation.json");
    const TICKET_VIEW: &str =
        include_str!("../../../tests/fixtures/freshservice/freshservice-ticket-view-response.json");

    fn fixture(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn the_validation_fixture_becomes_a_sentence_naming_the_field() {
        let msg = envelope(&fixture(VALIDATION)).unwrap();
        assert!(
            msg.starts_with("Validation failed: field `include`: It should be one of"),
            "{msg}"
        );
        assert!(msg.ends_with("(invalid_value)"), "{msg}");
    }

    #[test]
    fn other_error_shapes_are_read_and_an_attachment_refusal_names_the_limit() {
        let v = serde_json::json!({"code": "invalid_credentials", "message": "You have to be logged in to perform this action."});
        assert_eq!(
            envelope(&v).unwrap(),
            "You have to be logged in to perform this action. (invalid_credentials)"
        );
        let v = serde_json::json!({"errors": [{"field": "body", "message": "Mandatory", "code": "missing_field"}, {"message": "x"}]});
        assert_eq!(
            envelope(&v).unwrap(),
            "field `body`: Mandatory (missing_field); x"
        );
        let v = serde_json::json!({"description": "Validation failed", "errors": [{"field": "attachments", "message": "too big", "code": "invalid_value"}]});
        assert!(envelope(&v)
            .unwrap()
            .contains("allows 15 MB of attachments per ticket"));
        assert_eq!(envelope(&serde_json::json!({"other": 1})), None);
    }

    #[test]
    fn the_ticket_view_fixture_normalises_with_priority_as_the_number() {
        let v = fixture(TICKET_VIEW);
        let rel = Related {
            group: Some("Service Desk".into()),
            requester: person(
                &serde_json::json!({"first_name": "Jane", "last_name": "Doe", "primary_email": "jane@acme.example"}),
            ),
            agent: None,
        };
        let t = normalise(&v["ticket"], rel);
        assert_eq!(t.number.as_deref(), Some("266"));
        assert_eq!(t.subject.as_deref(), Some("Ticket Title"));
        assert_eq!(t.priority.as_deref(), Some("3"));
        assert_eq!(t.queue.as_deref(), Some("Service Desk"));
        assert_eq!(t.requester_name(), Some("Jane Doe"));
        assert_eq!(t.requester_email(), Some("jane@acme.example"));
        assert_eq!(t.request_type.as_deref(), Some("Incident"));
        assert_eq!(t.category, None, "null is not set");
        assert_eq!(t.workspace, None, "the 2017 fixture predates workspaces");
        assert_eq!(
            t.tags,
            Some(vec![]),
            "read from the API: no tags is an empty list"
        );
        assert_eq!(id_of(&v["ticket"], "requester_id"), Some(1000000678));
        assert_eq!(id_of(&v["ticket"], "group_id"), None);
        let files = attachments(&v["ticket"]);
        assert_eq!(
            files,
            vec![RemoteAttachment {
                id: None,
                name: "attachment.txt".into(),
                size: Some(5)
            }]
        );
    }

    #[test]
    fn a_link_header_says_whether_another_page_follows() {
        assert!(has_next(Some(
            "<https://x.freshservice.com/api/v2/tickets/1/conversations?page=2>; rel=\"next\""
        )));
        assert!(!has_next(Some("<https://x/api?page=1>; rel=\"prev\"")));
        assert!(!has_next(None));
    }
}
