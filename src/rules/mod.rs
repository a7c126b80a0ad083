//! Rules (SPEC §3): which rule, hence which vendor and which notes, a ticket gets. Pure.
//!
//! First match wins, in file order. Each non-empty condition must hold; a condition is "any of
//! its values", compared without regard to case. A rule is matched twice: on the webhook's
//! hint, where a value the sender did not send leaves a condition *undecided* (the payload is
//! only ignored when no rule can match), and on the ticket as read from the API, where a
//! missing value fails the condition, and a value the ticket system would not give (an
//! optional look-up answered 403/404) leaves it undecided: the rules decide on what is known.
//! The trace says, for each rule, which condition decided.

use crate::config::{MatchConfig, RuleConfig};
use crate::ticket::{Ticket, Wants};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Matched,
    NotMatched,
    /// Could match: a condition depends on a value the hint does not carry.
    Undecided,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleTrace {
    pub rule: String,
    pub outcome: Outcome,
    /// The condition that decided, in words.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Index into the rules of the rule chosen (first matched, or on a hint, first undecided).
    #[serde(skip)]
    pub chosen: Option<usize>,
    pub rule: Option<String>,
    pub trace: Vec<RuleTrace>,
}

impl Decision {
    /// One sentence for "ignored" and "skipped" answers.
    pub fn why_none(&self) -> String {
        if self.trace.is_empty() {
            return "no rule is configured for this connection".into();
        }
        let parts: Vec<String> = self
            .trace
            .iter()
            .map(|t| format!("rule {:?}: {}", t.rule, t.reason))
            .collect();
        format!("no rule matches ({})", parts.join("; "))
    }
}

/// Whether the ticket is a hint (webhook body) or the authoritative read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certainty {
    Hint,
    Authoritative,
}

pub fn decide(
    rules: &[RuleConfig],
    connection: &str,
    ticket: &Ticket,
    certainty: Certainty,
) -> Decision {
    let mut trace = vec![];
    let mut chosen = None;
    for (i, r) in rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.connection.as_str() == connection)
    {
        let (outcome, reason) = evaluate(&r.matches, ticket, certainty);
        // On a read ticket only a value that could not be looked up leaves a condition
        // undecided; the rule is then decided on the conditions that are known.
        let takes = outcome != Outcome::NotMatched;
        trace.push(RuleTrace {
            rule: r.name.clone(),
            outcome,
            reason,
        });
        if takes && chosen.is_none() {
            chosen = Some(i);
        }
    }
    Decision {
        rule: chosen.map(|i| rules[i].name.clone()),
        chosen,
        trace,
    }
}

fn eq(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

fn list(v: &[String]) -> String {
    format!(
        "[{}]",
        v.iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The optional values the rules of `connection` look at, so a read of its tickets makes only
/// the look-ups that can change a decision.
pub fn wants(rules: &[RuleConfig], connection: &str) -> Wants {
    let mut w = Wants::default();
    for m in rules
        .iter()
        .filter(|r| r.connection.as_str() == connection)
        .map(|r| &r.matches)
    {
        w.request_type |= !m.request_type.is_empty() || !m.queue.is_empty();
        w.brand |= !m.brand.is_empty();
        w.requester |= !m.requester_domain.is_empty();
    }
    w
}

/// One condition: Some(Ok(())) holds, Some(Err(why)) fails, None cannot be decided.
type Check = Option<Result<(), String>>;

/// A condition's value, and whether the read could not look it up.
struct Have<'a> {
    value: Option<&'a str>,
    unknown: bool,
}

fn have<'a>(t: &Ticket, field: &str, value: Option<&'a str>) -> Have<'a> {
    Have {
        value,
        unknown: value.is_none() && t.is_unknown(field),
    }
}

fn one_of(name: &str, want: &[String], have: Have<'_>, certainty: Certainty) -> Check {
    match have.value {
        _ if want.is_empty() => Some(Ok(())),
        None if certainty == Certainty::Hint || have.unknown => None,
        None => Some(Err(format!(
            "{name} is not set on the ticket, rule wants one of {}",
            list(want)
        ))),
        Some(h) if want.iter().any(|w| eq(w, h)) => Some(Ok(())),
        Some(h) => Some(Err(format!("{name} {h:?} is not one of {}", list(want)))),
    }
}

fn conditions<'a>(m: &MatchConfig, t: &'a Ticket, c: Certainty) -> Vec<(&'static str, Check)> {
    let tags = t.tags.as_deref();
    let domain = t
        .requester_email()
        .and_then(|e| e.rsplit_once('@'))
        .map(|(_, d)| d);
    let known = |v: Option<&'a str>| Have {
        value: v,
        unknown: false,
    };
    vec![
        (
            "queue",
            one_of("queue", &m.queue, have(t, "queue", t.queue.as_deref()), c),
        ),
        (
            "priority",
            one_of("priority", &m.priority, known(t.priority.as_deref()), c),
        ),
        (
            "tags_any",
            match tags {
                _ if m.tags_any.is_empty() => Some(Ok(())),
                None if c == Certainty::Hint => None,
                _ => {
                    let have = tags.unwrap_or_default();
                    if m.tags_any.iter().any(|w| have.iter().any(|h| eq(w, h))) {
                        Some(Ok(()))
                    } else {
                        Some(Err(format!(
                            "tags {} have none of {}",
                            list(have),
                            list(&m.tags_any)
                        )))
                    }
                }
            },
        ),
        (
            "tags_all",
            match tags {
                _ if m.tags_all.is_empty() => Some(Ok(())),
                None if c == Certainty::Hint => None,
                _ => {
                    let have = tags.unwrap_or_default();
                    match m.tags_all.iter().find(|w| !have.iter().any(|h| eq(w, h))) {
                        None => Some(Ok(())),
                        Some(missing) => Some(Err(format!(
                            "tags {} lack {missing:?} (tags_all {})",
                            list(have),
                            list(&m.tags_all)
                        ))),
                    }
                }
            },
        ),
        (
            "category",
            one_of("category", &m.category, known(t.category.as_deref()), c),
        ),
        (
            "requester_domain",
            one_of(
                "requester e-mail domain",
                &m.requester_domain,
                have(t, "requester", domain),
                c,
            ),
        ),
        (
            "project",
            one_of("project", &m.project, known(t.project.as_deref()), c),
        ),
        (
            "brand",
            one_of("brand", &m.brand, have(t, "brand", t.brand.as_deref()), c),
        ),
        (
            "workspace",
            one_of("workspace", &m.workspace, known(t.workspace.as_deref()), c),
        ),
        (
            "service_desk",
            one_of(
                "service desk",
                &m.service_desk,
                known(t.service_desk.as_deref()),
                c,
            ),
        ),
        (
            "request_type",
            one_of(
                "request type",
                &m.request_type,
                have(t, "request_type", t.request_type.as_deref()),
                c,
            ),
        ),
    ]
}

fn evaluate(m: &MatchConfig, t: &Ticket, c: Certainty) -> (Outcome, String) {
    let mut undecided = vec![];
    let mut decided = vec![];
    for (name, check) in conditions(m, t, c) {
        match check {
            Some(Err(why)) => return (Outcome::NotMatched, why),
            None => undecided.push(name),
            Some(Ok(())) => decided.push(name),
        }
    }
    if !undecided.is_empty() {
        let reason = match c {
            Certainty::Hint => format!(
                "the payload does not say {}: decided when the ticket is read",
                undecided.join(", ")
            ),
            Certainty::Authoritative => format!(
                "{} could not be decided ({}); every known condition holds",
                undecided.join(", "),
                why_unknown(t)
            ),
        };
        return (Outcome::Undecided, reason);
    }
    let set: Vec<&str> = decided.into_iter().filter(|n| is_set(m, n)).collect();
    if set.is_empty() {
        (
            Outcome::Matched,
            "the rule has no conditions: it matches every ticket".into(),
        )
    } else {
        (Outcome::Matched, format!("{} all hold", set.join(", ")))
    }
}

/// What the ticket system answered for the values it would not give, in one clause.
fn why_unknown(t: &Ticket) -> String {
    let parts: Vec<String> = t
        .unknown
        .iter()
        .map(|u| format!("{}: {}", u.field, u.why))
        .collect();
    parts.join("; ")
}

fn is_set(m: &MatchConfig, name: &str) -> bool {
    !match name {
        "queue" => &m.queue,
        "priority" => &m.priority,
        "tags_any" => &m.tags_any,
        "tags_all" => &m.tags_all,
        "category" => &m.category,
        "requester_domain" => &m.requester_domain,
        "project" => &m.project,
        "brand" => &m.brand,
        "workspace" => &m.workspace,
        "service_desk" => &m.service_desk,
        _ => &m.request_type,
    }
    .is_empty()
}

#[cfg(test)]
mod tests;
