//! The normalised ticket: the one shape every ticket system's ticket is turned into, so that
//! rules, templates and vendors never see a system-specific payload.
//!
//! Every field is optional. In a webhook body (a *hint*) `None` means "the sender did not say",
//! and a rule condition on it cannot be decided yet; in a ticket read through the system's API
//! `None` means "the ticket has no such value".

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Person {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ticket {
    /// The number a human reads (INC0000046, PROJ-12, 35436).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// ServiceNow assignment group, Jira request type, Zendesk/Freshservice group: by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<Person>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Person>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_desk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_type: Option<String>,
    /// A device name or remote id the ticket names, for vendors that correlate on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Values of a read ticket that could not be looked up (403/404 on an optional call): a
    /// rule condition on one of them is undecided, not failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<UnknownValue>,
}

/// A value the ticket system would not give, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnknownValue {
    /// The ticket's field: `queue`, `request_type`, `brand`, `requester` or `agent`.
    pub field: String,
    /// What the ticket system answered, for the job's history.
    pub why: String,
}

/// The optional values a read should look up: a call that only enriches the ticket (a name
/// behind an id) is made only when a rule of the connection needs its value, or (the agent) when
/// the job needs it and the webhook did not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wants {
    /// Jira: the request type's name (`queue`, `request_type`).
    pub request_type: bool,
    pub brand: bool,
    pub requester: bool,
    pub agent: bool,
}

impl Wants {
    /// Everything: for a read that must show the whole ticket (`rules test`, say).
    pub fn all() -> Self {
        Wants {
            request_type: true,
            brand: true,
            requester: true,
            agent: true,
        }
    }
}

impl Ticket {
    pub fn requester_email(&self) -> Option<&str> {
        self.requester.as_ref()?.email.as_deref()
    }
    pub fn requester_name(&self) -> Option<&str> {
        self.requester.as_ref()?.name.as_deref()
    }
    pub fn agent_email(&self) -> Option<&str> {
        self.agent.as_ref()?.email.as_deref()
    }

    /// Whether `field` could not be looked up on the read.
    pub fn is_unknown(&self, field: &str) -> bool {
        self.unknown.iter().any(|u| u.field == field)
    }

    /// Record that `fields` could not be looked up, for `why`.
    pub fn mark_unknown(&mut self, fields: &[&str], why: &str) {
        for f in fields {
            self.unknown.push(UnknownValue {
                field: f.to_string(),
                why: why.to_string(),
            });
        }
    }
}
