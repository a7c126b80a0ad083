//! The inbound parser against the shipped Jira webhook fixture (a real Cloud capture) and the
//! shapes the contract names.

use super::*;
use serde_json::json;

const STATUS_CHANGE: &str =
    include_str!("../../../../tests/fixtures/jira/jira-webhook-issue-updated-status.json");

fn fixture() -> Value {
    serde_json::from_str(STATUS_CHANGE).unwrap()
}

fn with_label_change(from: &str, to: &str) -> Value {
    let mut v = fixture();
    v["changelog"]["items"] = json!([{"field": "labels", "fieldtype": "jira", "from": null, "fromString": from, "to": null, "toString": to}]);
    v
}

fn parse_v(v: &Value, headers: &http::HeaderMap) -> Result<Inbound, InboundError> {
    parse(headers, v.to_string().as_bytes(), "remote-session")
}

fn request_of(r: Result<Inbound, InboundError>) -> InboundRequest {
    match r.unwrap() {
        Inbound::Request(r) => r,
        Inbound::Ignore(why) => panic!("ignored: {why}"),
    }
}

fn ignored(r: Result<Inbound, InboundError>) -> String {
    match r.unwrap() {
        Inbound::Ignore(why) => why,
        Inbound::Request(r) => panic!("asked for a session: {r:?}"),
    }
}

#[test]
fn the_shipped_status_change_webhook_parses_and_is_ignored() {
    let why = ignored(parse(
        &http::HeaderMap::new(),
        STATUS_CHANGE.as_bytes(),
        "remote-session",
    ));
    assert!(
        why.contains("TEST-1") && why.contains("\"remote-session\""),
        "{why}"
    );
}

#[test]
fn adding_the_label_asks_for_a_session_with_the_issue_as_hint() {
    let r = request_of(parse_v(
        &with_label_change("urgent", "urgent remote-session"),
        &http::HeaderMap::new(),
    ));
    assert_eq!(r.ticket.as_str(), "TEST-1");
    assert_eq!(
        r.event_id.unwrap().as_str(),
        "TEST-1@1485797534721",
        "no delivery id header: key plus timestamp"
    );
    assert_eq!(r.hint.number.as_deref(), Some("TEST-1"));
    assert_eq!(r.hint.subject.as_deref(), Some("Fix That"));
    assert_eq!(r.hint.project.as_deref(), Some("ABC"));
    assert_eq!(r.hint.priority.as_deref(), Some("Medium"));
    assert_eq!(
        r.hint.tags,
        Some(vec![]),
        "the fixture's labels (before the change) are known and empty"
    );
    assert_eq!(r.hint.requester_name(), Some("James Williams"));
    assert_eq!(r.hint.requester_email(), Some("kolaszek@tlen.pl"));
    assert_eq!(
        r.hint.agent_email(),
        Some("othello@zulip.com"),
        "the user who added the label runs the session"
    );
    assert_eq!(
        r.hint.queue, None,
        "the request type is decided on the API read"
    );
}

#[test]
fn the_signed_key_and_timestamp_are_the_event_id_not_the_unsigned_header() {
    let mut h = http::HeaderMap::new();
    h.insert(
        "x-atlassian-webhook-identifier",
        "a5c9b6e1-73c2-4a2f-9c51-0f3f2f1d6a10".parse().unwrap(),
    );
    let body = with_label_change("", "remote-session");
    let r = request_of(parse_v(&body, &h));
    let want = format!(
        "{}@{}",
        body["issue"]["key"].as_str().unwrap(),
        body["timestamp"]
    );
    assert_eq!(r.event_id.unwrap().as_str(), want);
    // without a timestamp in the body, the header is the delivery id
    let mut bare = body.clone();
    bare.as_object_mut().unwrap().remove("timestamp");
    let r = request_of(parse_v(&bare, &h));
    assert_eq!(
        r.event_id.unwrap().as_str(),
        "a5c9b6e1-73c2-4a2f-9c51-0f3f2f1d6a10"
    );
}

#[test]
fn a_label_that_was_already_there_or_another_label_is_ignored() {
    let h = http::HeaderMap::new();
    ignored(parse_v(
        &with_label_change("remote-session", "remote-session vip"),
        &h,
    ));
    ignored(parse_v(&with_label_change("", "remote-sessions"), &h));
    ignored(parse_v(&with_label_change("remote-session", ""), &h));
    // the label is configurable
    let v = with_label_change("", "fernwartung");
    assert!(matches!(
        parse(&h, v.to_string().as_bytes(), "fernwartung").unwrap(),
        Inbound::Request(_)
    ));
}

#[test]
fn the_automation_body_is_the_button_and_carries_no_delivery_id() {
    let issue = fixture()["issue"].clone();
    let body = json!({ "issue": issue });
    let r = request_of(parse_v(&body, &http::HeaderMap::new()));
    assert_eq!(r.ticket.as_str(), "TEST-1");
    assert_eq!(r.event_id, None);
    assert_eq!(r.hint.requester_email(), Some("kolaszek@tlen.pl"));
    assert_eq!(
        r.hint.agent, None,
        "the Jira-format body does not say who clicked"
    );
}

#[test]
fn deskbridges_own_comment_coming_back_is_ignored() {
    let mut v = fixture();
    v["webhookEvent"] = "comment_created".into();
    v["comment"] = json!({"id": "10100", "body": "Remote support session ...\n\n[deskbridge:job/0190c1a2-7a1b-7c3d-8e4f-123456789abc/link]", "jsdPublic": false});
    let why = ignored(parse_v(&v, &http::HeaderMap::new()));
    assert!(why.contains("deskbridge wrote itself"), "{why}");
    v["comment"]["body"] = "customer says hi".into();
    let why = ignored(parse_v(&v, &http::HeaderMap::new()));
    assert!(why.contains("comment_created events do not ask"), "{why}");
}

#[test]
fn other_events_are_ignored_by_name() {
    let mut v = with_label_change("", "remote-session");
    v["webhookEvent"] = "jira:issue_deleted".into();
    assert!(ignored(parse_v(&v, &http::HeaderMap::new())).contains("jira:issue_deleted"));
}

#[test]
fn a_missing_or_bad_field_is_named() {
    let h = http::HeaderMap::new();
    let mut v = with_label_change("", "remote-session");
    v.as_object_mut().unwrap().remove("timestamp");
    assert_eq!(
        parse_v(&v, &h).unwrap_err(),
        InboundError::MissingField("timestamp".into())
    );
    let mut v = with_label_change("", "remote-session");
    v["issue"].as_object_mut().unwrap().remove("key");
    assert_eq!(
        parse_v(&v, &h).unwrap_err(),
        InboundError::MissingField("issue.key".into())
    );
    v["issue"]["key"] = "not a key".into();
    assert_eq!(parse_v(&v, &h).unwrap_err().field(), Some("issue.key"));
    assert_eq!(
        parse_v(&json!({"webhookEvent": 3}), &h)
            .unwrap_err()
            .field(),
        Some("webhookEvent")
    );
    assert_eq!(
        parse_v(&json!({}), &h).unwrap_err(),
        InboundError::MissingField("issue".into())
    );
    assert!(matches!(
        parse(&h, b"<xml/>", "remote-session"),
        Err(InboundError::NotJson(_))
    ));
    assert!(matches!(
        parse(&h, b"[1]", "remote-session"),
        Err(InboundError::NotJson(_))
    ));
}

#[test]
fn issue_keys_are_checked_and_normalised() {
    assert_eq!(issue_key("its-42").as_deref(), Some("ITS-42"));
    assert_eq!(issue_key("IT_OPS2-7").as_deref(), Some("IT_OPS2-7"));
    let long = format!("{}-1", "A".repeat(256));
    for bad in [
        "42",
        "ITS-",
        "-42",
        "1TS-4",
        "ITS-4a",
        "IT S-4",
        "../ITS-4",
        "ITS-0",
        "ITS-9223372036854775808",
        "ITS-99999999999999999999",
        long.as_str(),
    ] {
        assert_eq!(issue_key(bad), None, "{bad}");
    }
}

/// The documented "Issue data (Jira format)" example, trimmed: numeric ids, a changelog stub.
const DOC_JIRA_FORMAT: &str = r#"{"issue": {"self": "https://sample.jira-dev.com/rest/api/2/issue/11111", "id": 11111, "key": "SP-53",
  "changelog": {"startAt": 0, "maxResults": 0, "total": 0, "histories": null},
  "fields": {"issuetype": {"id": 22222, "name": "[System] Service request", "subtask": false},
    "project": {"self": "https://sample.jira-dev.com/rest/api/2/project/10002", "id": 10002, "key": "SP", "name": "New ITSM Project"},
    "summary": "Printer on fire", "labels": [], "priority": {"name": "High", "id": 2}}}}"#;

#[test]
fn both_documented_issue_data_formats_are_the_button() {
    let r = request_of(parse(
        &http::HeaderMap::new(),
        DOC_JIRA_FORMAT.as_bytes(),
        "remote-session",
    ));
    assert_eq!(
        (
            r.ticket.as_str(),
            r.hint.project.as_deref(),
            r.hint.priority.as_deref()
        ),
        ("SP-53", Some("SP"), Some("High"))
    );
    // "Issue data (Automation format)": the same issue, not wrapped
    let v: Value = serde_json::from_str(DOC_JIRA_FORMAT).unwrap();
    let r = request_of(parse_v(&v["issue"], &http::HeaderMap::new()));
    assert_eq!(r.ticket.as_str(), "SP-53");
    assert_eq!(r.hint.subject.as_deref(), Some("Printer on fire"));
}
