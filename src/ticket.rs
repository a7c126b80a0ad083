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
}
