//! The body deskbridge's UI Action sends (contracts/servicenow.md, "Inbound"). It is a hint:
//! the worker reads the record through the Table API before anything is decided.

use crate::ids::{EventId, TicketRef};
use crate::itsm::{Inbound, InboundError, InboundRequest};
use crate::ticket::{Person, Ticket};
use serde_json::Value;

fn string(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn required(v: &Value, key: &str) -> Result<String, InboundError> {
    string(v, key).ok_or_else(|| InboundError::MissingField(key.into()))
}

fn person(v: Option<&Value>, name_key: &str) -> Option<Person> {
    let v = v?;
    let p = Person {
        name: string(v, name_key),
        email: string(v, "email"),
    };
    (p.name.is_some() || p.email.is_some()).then_some(p)
}

pub(super) fn parse(body: &[u8]) -> Result<Inbound, InboundError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| InboundError::NotJson(e.to_string()))?;
    if !v.is_object() {
        return Err(InboundError::NotJson("expected a JSON object".into()));
    }
    let event_id = required(&v, "event_id")?;
    let sys_id = required(&v, "sys_id")?;
    if sys_id.len() != 32 || !sys_id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(InboundError::Invalid {
            field: "sys_id".into(),
            reason: "expected 32 hexadecimal characters".into(),
        });
    }
    let table = string(&v, "table").unwrap_or_else(|| "incident".into());
    // ServiceNow table names are at most 80 characters of letters, digits and '_'.
    if table.len() > 80 || !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(InboundError::Invalid {
            field: "table".into(),
            reason: "expected a table name like incident".into(),
        });
    }
    let queue = v.get("assignment_group").and_then(|g| match g {
        Value::Object(_) => string(g, "display_value"),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    });
    let hint = Ticket {
        number: string(&v, "number"),
        subject: string(&v, "short_description"),
        queue,
        priority: string(&v, "priority"),
        category: string(&v, "category"),
        requester: person(v.get("caller"), "name"),
        agent: person(v.get("requested_by"), "user_name"),
        ..Ticket::default()
    };
    Ok(Inbound::Request(InboundRequest {
        event_id: Some(EventId::new(event_id)),
        ticket: TicketRef::new(format!("{table}/{}", sys_id.to_ascii_lowercase())),
        hint,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"event_id": "6f1c0c3e-1", "table": "incident", "sys_id": "9d385017c611228701d22104cc95c371",
 "number": "INC0000046", "assignment_group": {"value": "8a4dde73c6112278017a6a4baf547aa7", "display_value": "Service Desk"},
 "priority": "3", "category": "software", "short_description": "Outlook crashes",
 "caller": {"name": "Jane Doe", "email": "jane@acme.example"},
 "requested_by": {"user_name": "beth.anglin", "email": "beth@acme.example"}}"#;

    #[test]
    fn the_contract_body_becomes_a_request_with_a_hint() {
        let Inbound::Request(r) = parse(BODY.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(
            r.ticket.as_str(),
            "incident/9d385017c611228701d22104cc95c371"
        );
        assert_eq!(r.event_id.unwrap().as_str(), "6f1c0c3e-1");
        assert_eq!(r.hint.queue.as_deref(), Some("Service Desk"));
        assert_eq!(r.hint.requester_email(), Some("jane@acme.example"));
        assert_eq!(r.hint.agent_email(), Some("beth@acme.example"));
        assert_eq!(
            r.hint.tags, None,
            "the body says nothing of tags: unknown, not empty"
        );
    }

    #[test]
    fn a_missing_or_bad_field_is_named() {
        let v: Value = serde_json::from_str(BODY).unwrap();
        for key in ["event_id", "sys_id"] {
            let mut b = v.clone();
            b.as_object_mut().unwrap().remove(key);
            let e = parse(b.to_string().as_bytes()).unwrap_err();
            assert_eq!(e, InboundError::MissingField(key.into()));
        }
        let mut b = v.clone();
        b["sys_id"] = "x".into();
        assert_eq!(
            parse(b.to_string().as_bytes()).unwrap_err().field(),
            Some("sys_id")
        );
        let mut b = v.clone();
        b["table"] = "x".repeat(81).into();
        assert_eq!(
            parse(b.to_string().as_bytes()).unwrap_err().field(),
            Some("table")
        );
        assert!(matches!(parse(b"not json"), Err(InboundError::NotJson(_))));
    }
}
