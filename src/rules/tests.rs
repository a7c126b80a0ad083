//! Table tests of rule matching: every condition kind, matched, not matched and undecided.

use super::*;
use crate::config::{load_str, Config};
use crate::ticket::Person;

fn config(rules: &str) -> Config {
    let text = format!(
        r#"
[[itsm]]
id = "snow"
kind = "servicenow"
base_url = "https://acme.service-now.com"
auth = {{ type = "basic", username = "u", password = "p" }}
inbound = {{ type = "hmac", secret = "s" }}
[[vendor]]
id = "st"
kind = "splashtop"
base_url = "https://webapi.splashtop.com"
auth = {{ type = "bearer", token = "t" }}
{rules}"#
    );
    load_str(&text, "test.toml").unwrap()
}

fn ticket() -> Ticket {
    Ticket {
        queue: Some("Service Desk".into()),
        priority: Some("2".into()),
        tags: Some(vec!["remote".into(), "vip".into()]),
        category: Some("software".into()),
        requester: Some(Person {
            name: Some("Jane".into()),
            email: Some("jane@acme.example".into()),
        }),
        project: Some("ITS".into()),
        brand: Some("Acme".into()),
        workspace: Some("IT".into()),
        service_desk: Some("1".into()),
        request_type: Some("Get IT help".into()),
        ..Ticket::default()
    }
}

fn rule(cond: &str) -> String {
    format!(
        "[[rule]]\nname = \"r\"\nconnection = \"snow\"\nvendor = \"st\"\nmatch = {{ {cond} }}\n"
    )
}

#[test]
fn every_condition_kind_matches_and_fails_as_the_table_says() {
    let table: &[(&str, Outcome)] = &[
        ("queue = [\"service desk\", \"Network\"]", Outcome::Matched),
        ("queue = [\"Network\"]", Outcome::NotMatched),
        ("priority = [\"1\", \"2\"]", Outcome::Matched),
        ("priority = [\"1\"]", Outcome::NotMatched),
        ("tags_any = [\"remote\", \"x\"]", Outcome::Matched),
        ("tags_any = [\"x\"]", Outcome::NotMatched),
        ("tags_all = [\"remote\", \"VIP\"]", Outcome::Matched),
        ("tags_all = [\"remote\", \"x\"]", Outcome::NotMatched),
        ("category = [\"software\"]", Outcome::Matched),
        ("category = [\"hardware\"]", Outcome::NotMatched),
        ("requester_domain = [\"acme.example\"]", Outcome::Matched),
        (
            "requester_domain = [\"other.example\"]",
            Outcome::NotMatched,
        ),
        ("project = [\"ITS\"]", Outcome::Matched),
        ("project = [\"HR\"]", Outcome::NotMatched),
        ("brand = [\"acme\"]", Outcome::Matched),
        ("brand = [\"Globex\"]", Outcome::NotMatched),
        ("workspace = [\"IT\"]", Outcome::Matched),
        ("workspace = [\"HR\"]", Outcome::NotMatched),
        ("service_desk = [\"1\"]", Outcome::Matched),
        ("service_desk = [\"2\"]", Outcome::NotMatched),
        ("request_type = [\"Get IT help\"]", Outcome::Matched),
        ("request_type = [\"Onboarding\"]", Outcome::NotMatched),
        ("", Outcome::Matched),
        (
            "queue = [\"Service Desk\"], priority = [\"9\"]",
            Outcome::NotMatched,
        ),
    ];
    for (cond, want) in table {
        let cfg = config(&rule(cond));
        let d = decide(&cfg.rules, "snow", &ticket(), Certainty::Authoritative);
        assert_eq!(d.trace[0].outcome, *want, "{cond}: {}", d.trace[0].reason);
        assert_eq!(d.rule.is_some(), *want == Outcome::Matched, "{cond}");
    }
}

#[test]
fn the_reason_names_the_deciding_condition() {
    let cfg = config(&rule("queue = [\"Service Desk\"], priority = [\"1\"]"));
    let d = decide(&cfg.rules, "snow", &ticket(), Certainty::Authoritative);
    assert!(
        d.trace[0]
            .reason
            .contains("priority \"2\" is not one of [\"1\"]"),
        "{}",
        d.trace[0].reason
    );
    assert!(d.why_none().contains("rule \"r\""));
}

#[test]
fn a_hint_without_the_value_leaves_the_rule_undecided_but_the_read_ticket_does_not() {
    let cfg = config(&rule("tags_any = [\"remote\"], category = [\"software\"]"));
    let hint = Ticket {
        queue: Some("Service Desk".into()),
        ..Ticket::default()
    };
    let d = decide(&cfg.rules, "snow", &hint, Certainty::Hint);
    assert_eq!(d.trace[0].outcome, Outcome::Undecided);
    assert_eq!(
        d.rule.as_deref(),
        Some("r"),
        "an undecided rule keeps the webhook"
    );
    assert!(d.trace[0].reason.contains("tags_any, category"));
    let d = decide(&cfg.rules, "snow", &hint, Certainty::Authoritative);
    assert_eq!(d.trace[0].outcome, Outcome::NotMatched);
    assert_eq!(d.rule, None);
}

#[test]
fn a_hint_that_contradicts_every_rule_is_decided_at_once() {
    let cfg = config(&rule("queue = [\"Network\"]"));
    let hint = Ticket {
        queue: Some("Service Desk".into()),
        ..Ticket::default()
    };
    let d = decide(&cfg.rules, "snow", &hint, Certainty::Hint);
    assert_eq!(d.rule, None);
}

#[test]
fn the_first_matching_rule_wins_in_file_order_and_other_connections_are_not_considered() {
    let rules = format!(
        "{}\n[[rule]]\nname = \"second\"\nconnection = \"snow\"\nvendor = \"st\"\n",
        rule("queue = [\"Network\"]")
    );
    let cfg = config(&rules);
    let d = decide(&cfg.rules, "snow", &ticket(), Certainty::Authoritative);
    assert_eq!(d.rule.as_deref(), Some("second"));
    assert_eq!(d.trace.len(), 2);
    assert_eq!(d.chosen, Some(1));
    let d = decide(&cfg.rules, "other", &ticket(), Certainty::Authoritative);
    assert!(d.trace.is_empty());
    assert_eq!(d.why_none(), "no rule is configured for this connection");
}

#[test]
fn a_value_the_read_could_not_look_up_leaves_its_condition_undecided_and_the_rest_decides() {
    let cfg = config(&rule("brand = [\"Acme\"], priority = [\"2\"]"));
    let mut read = ticket();
    read.brand = None;
    read.mark_unknown(&["brand"], "Zendesk zd answered 403 Forbidden");
    let d = decide(&cfg.rules, "snow", &read, Certainty::Authoritative);
    assert_eq!(d.trace[0].outcome, Outcome::Undecided);
    assert_eq!(d.rule.as_deref(), Some("r"), "every known condition holds");
    assert!(d.trace[0].reason.contains("brand could not be decided"));
    assert!(d.trace[0].reason.contains("403"), "{}", d.trace[0].reason);
    // A known condition that fails still decides.
    read.priority = Some("4".into());
    let d = decide(&cfg.rules, "snow", &read, Certainty::Authoritative);
    assert_eq!(d.trace[0].outcome, Outcome::NotMatched);
    assert_eq!(d.rule, None);
    // A value simply absent from the read ticket fails, as before.
    let mut absent = ticket();
    absent.brand = None;
    let d = decide(&cfg.rules, "snow", &absent, Certainty::Authoritative);
    assert_eq!(d.trace[0].outcome, Outcome::NotMatched);
}

#[test]
fn a_connection_wants_only_the_look_ups_its_rules_need() {
    let cfg = config(&rule("queue = [\"x\"]"));
    let w = wants(&cfg.rules, "snow");
    assert!(w.request_type && !w.brand && !w.requester && !w.agent);
    let cfg = config(&rule(
        "brand = [\"x\"], requester_domain = [\"acme.example\"]",
    ));
    let w = wants(&cfg.rules, "snow");
    assert!(!w.request_type && w.brand && w.requester);
    assert_eq!(wants(&cfg.rules, "other"), Wants::default());
}
