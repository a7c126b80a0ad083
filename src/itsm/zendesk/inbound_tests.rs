//! The inbound formats: the shipped trigger template, the fixtures, event subscriptions.

use super::*;

const TAG: &str = "remote_session";

/// The contract's template as Zendesk renders it for a ticket with every value set.
const RENDERED: &str = r#"{"ticket_id": "35436", "subject": "Printer <on> fire", "priority": "High",
 "group_id": "98738", "group": "Service Desk", "brand_id": "123", "tags": "enterprise vip",
 "requester_name": "Jane Doe", "requester_email": "jane@acme.example", "agent_email": "beth@acme.example"}"#;

fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    h
}

fn request(body: &str, h: &http::HeaderMap) -> InboundRequest {
    match parse(h, body.as_bytes(), TAG).unwrap() {
        Inbound::Request(r) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn ignored(body: &str) -> String {
    match parse(&http::HeaderMap::new(), body.as_bytes(), TAG).unwrap() {
        Inbound::Ignore(why) => why,
        other => panic!("expected to be ignored, got {other:?}"),
    }
}

#[test]
fn the_shipped_trigger_body_becomes_a_request_with_its_hint() {
    let r = request(RENDERED, &headers(&[(INVOCATION_ID, "8350205582")]));
    assert_eq!(r.ticket.as_str(), "35436");
    assert_eq!(r.event_id.unwrap().as_str(), "8350205582");
    let t = r.hint;
    assert_eq!(t.number.as_deref(), Some("35436"));
    assert_eq!(t.subject.as_deref(), Some("Printer <on> fire"));
    assert_eq!(t.queue.as_deref(), Some("Service Desk"));
    assert_eq!(
        t.priority.as_deref(),
        Some("high"),
        "the placeholder's display value, as the API spells it"
    );
    assert_eq!(
        t.tags,
        Some(vec!["enterprise".to_string(), "vip".to_string()])
    );
    assert_eq!(t.requester_name(), Some("Jane Doe"));
    assert_eq!(t.requester_email(), Some("jane@acme.example"));
    assert_eq!(t.agent_email(), Some("beth@acme.example"));
}

#[test]
fn empty_placeholders_are_unknown_but_empty_tags_are_no_tags() {
    let body = r#"{"ticket_id": "7", "subject": "", "priority": "", "group_id": "", "group": "", "brand_id": "",
      "tags": "", "requester_name": "", "requester_email": "", "agent_email": ""}"#;
    let t = request(body, &http::HeaderMap::new()).hint;
    assert_eq!(
        (t.subject, t.queue, t.priority, t.requester, t.agent),
        (None, None, None, None, None)
    );
    assert_eq!(
        t.tags,
        Some(vec![]),
        "the template always sends tags: empty means the ticket has none"
    );
    let t = request(r#"{"ticket_id": "7"}"#, &http::HeaderMap::new()).hint;
    assert_eq!(
        t.tags, None,
        "a template without tags says nothing about them"
    );
}

#[test]
fn the_shipped_trigger_fixture_parses() {
    // An admin-written template (third-party sample): other keys, same id and tags conventions.
    let body =
        include_str!("../../../tests/fixtures/zendesk/zendesk-trigger-webhook-custom-body.json");
    let r = request(body, &http::HeaderMap::new());
    assert_eq!(r.ticket.as_str(), "7");
    assert_eq!(r.event_id, None, "no invocation header: no delivery id");
    assert_eq!(
        r.hint.tags,
        Some(vec!["change_address".into(), "help".into(), "order".into()])
    );
}

#[test]
fn the_shipped_event_fixture_is_a_well_formed_call_that_asks_for_nothing() {
    let body =
        include_str!("../../../tests/fixtures/zendesk/zendesk-event-user-active-changed.json");
    let why = ignored(body);
    assert!(why.contains("zen:event-type:user.active_changed"), "{why}");
}

#[test]
fn a_missing_or_non_numeric_ticket_id_is_named() {
    let h = http::HeaderMap::new();
    assert_eq!(
        parse(&h, br#"{"subject": "x"}"#, TAG).unwrap_err(),
        InboundError::MissingField("ticket_id".into())
    );
    assert_eq!(
        parse(&h, br#"{"ticket_id": ""}"#, TAG).unwrap_err(),
        InboundError::MissingField("ticket_id".into())
    );
    for bad in [
        r#"{"ticket_id": "12/../1"}"#,
        r#"{"ticket_id": "{{ticket.id}}"}"#,
    ] {
        assert_eq!(
            parse(&h, bad.as_bytes(), TAG).unwrap_err().field(),
            Some("ticket_id"),
            "{bad}"
        );
    }
    assert_eq!(
        parse(&h, br#"{"ticket_id": "1", "tags": 5}"#, TAG)
            .unwrap_err()
            .field(),
        Some("tags")
    );
    assert!(matches!(
        parse(&h, b"ticket_id=1", TAG),
        Err(InboundError::NotJson(_))
    ));
    assert!(matches!(
        parse(&h, b"[1]", TAG),
        Err(InboundError::NotJson(_))
    ));
}

fn tags_changed(event: &str) -> String {
    format!(
        r#"{{"type": "zen:event-type:ticket.tags_changed", "account_id": 123456, "id": "2b24ef10-19d4-4740-93cf-8f98ec4776c0",
  "time": "2099-07-04T05:33:18Z", "zendesk_event_version": "2022-06-20", "subject": "zen:ticket:35436",
  "detail": {{"id": "35436", "subject": "Printer on fire", "priority": "HIGH", "group_id": "98738", "brand_id": "123",
             "requester_id": "20978392", "tags": ["enterprise", "remote_session"], "type": "incident"}},
  "event": {event}}}"#
    )
}

#[test]
fn a_tags_changed_event_adding_the_trigger_tag_asks_for_a_session() {
    let r = request(
        &tags_changed(r#"{"tags_added": ["remote_session"], "tags_removed": []}"#),
        &http::HeaderMap::new(),
    );
    assert_eq!(r.ticket.as_str(), "35436");
    assert_eq!(
        r.event_id.unwrap().as_str(),
        "2b24ef10-19d4-4740-93cf-8f98ec4776c0",
        "the event id without the header"
    );
    assert_eq!(r.hint.priority.as_deref(), Some("high"));
    assert_eq!(r.hint.category.as_deref(), Some("incident"));
    assert_eq!(
        r.hint.queue, None,
        "events carry the group id only: decided on the read ticket"
    );
    // the invocation header wins over the event id
    let h = headers(&[(INVOCATION_ID, "42")]);
    assert_eq!(
        request(&tags_changed(r#"{"tags_added": ["remote_session"]}"#), &h)
            .event_id
            .unwrap()
            .as_str(),
        "42"
    );
    // the generic current/previous shape
    let r = request(
        &tags_changed(
            r#"{"current": ["enterprise", "remote_session"], "previous": ["enterprise"]}"#,
        ),
        &h,
    );
    assert_eq!(r.ticket.as_str(), "35436");
    // the shape of Zendesk's user events: event.added.tags / event.removed.tags
    let r = request(
        &tags_changed(r#"{"added": {"tags": ["remote_session"]}, "removed": {"tags": []}}"#),
        &h,
    );
    assert_eq!(r.ticket.as_str(), "35436");
}

#[test]
fn added_and_removed_tag_objects_are_read_like_the_flat_lists() {
    let why = ignored(&tags_changed(
        r#"{"added": {"tags": []}, "removed": {"tags": ["remote_session"]}}"#,
    ));
    assert!(why.contains("remote_session"), "{why}");
    let body = tags_changed(r#"{"added": {"tags": "remote_session"}}"#);
    assert_eq!(
        parse(&http::HeaderMap::new(), body.as_bytes(), TAG)
            .unwrap_err()
            .field(),
        Some("event.added.tags")
    );
}

#[test]
fn a_ticket_id_zendesk_cannot_have_is_refused_naming_the_field() {
    let h = http::HeaderMap::new();
    for bad in ["18446744073709551616", "99999999999999999999", "0", "000"] {
        let body = format!(r#"{{"ticket_id": "{bad}"}}"#);
        assert_eq!(
            parse(&h, body.as_bytes(), TAG).unwrap_err().field(),
            Some("ticket_id"),
            "{bad}"
        );
        let event = tags_changed(r#"{"tags_added": ["remote_session"]}"#)
            .replace(r#""id": "35436""#, &format!(r#""id": "{bad}""#));
        assert_eq!(
            parse(&h, event.as_bytes(), TAG).unwrap_err().field(),
            Some("detail.id"),
            "{bad}"
        );
    }
    let max = u64::MAX.to_string();
    let body = format!(r#"{{"ticket_id": "{max}"}}"#);
    assert_eq!(request(&body, &h).ticket.as_str(), max);
    assert_eq!(
        request(r#"{"ticket_id": "0042"}"#, &h).ticket.as_str(),
        "42"
    );
}

#[test]
fn other_tag_changes_and_other_events_are_ignored() {
    let why = ignored(&tags_changed(
        r#"{"tags_added": [], "tags_removed": ["remote_session"]}"#,
    ));
    assert!(why.contains("remote_session"), "{why}");
    ignored(&tags_changed(
        r#"{"current": ["remote_session"], "previous": ["remote_session"]}"#,
    ));
    let created = tags_changed("{}").replace("ticket.tags_changed", "ticket.created");
    assert!(ignored(&created).contains("ticket.created"));
    // a connection with another trigger tag
    let body = tags_changed(r#"{"tags_added": ["start_remote"]}"#);
    assert!(matches!(
        parse(&http::HeaderMap::new(), body.as_bytes(), "start_remote"),
        Ok(Inbound::Request(_))
    ));
}

#[test]
fn a_tags_changed_event_without_its_parts_is_named() {
    let h = http::HeaderMap::new();
    let body = tags_changed(r#"{"something": 1}"#);
    assert_eq!(
        parse(&h, body.as_bytes(), TAG).unwrap_err().field(),
        Some("event")
    );
    let body = r#"{"type": "zen:event-type:ticket.tags_changed", "event": {"tags_added": ["remote_session"]}}"#;
    assert_eq!(
        parse(&h, body.as_bytes(), TAG).unwrap_err(),
        InboundError::MissingField("detail".into())
    );
    // the id falls back to the subject
    let body = r#"{"type": "zen:event-type:ticket.tags_changed", "subject": "zen:ticket:99", "detail": {}, "event": {"tags_added": ["remote_session"]}}"#;
    assert_eq!(request(body, &h).ticket.as_str(), "99");
}
