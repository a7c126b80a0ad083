//! Typed identifiers. A job id, a connection id and a ticket reference are all strings on the
//! wire, but mixing them up is a bug the compiler should catch, so each gets its own type.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A job's id: a UUIDv7, so that ids sort by creation time (the store lists newest first by
/// walking the keys backwards, with no separate time index).
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(transparent)]
#[schema(value_type = String)]
pub struct JobId(uuid::Uuid);

impl JobId {
    // No `Default`: a "default" job id would be a made-up one; every id is minted on purpose.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        JobId(uuid::Uuid::now_v7())
    }
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        uuid::Uuid::from_slice(b).ok().map(JobId)
    }
    pub fn parse(s: &str) -> Option<Self> {
        uuid::Uuid::parse_str(s).ok().map(JobId)
    }
    pub fn uuid(&self) -> uuid::Uuid {
        self.0
    }
    pub fn from_uuid(u: uuid::Uuid) -> Self {
        JobId(u)
    }
    /// The first eight hex digits: short enough for a note marker, and with the time-ordered
    /// prefix of v7 ids it is not unique, so markers use the full id.
    pub fn short(&self) -> String {
        self.0.simple().to_string()[..8].to_string()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JobId({})", self.0)
    }
}

macro_rules! string_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(
            Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = String)]
        pub struct $name(String);

        impl $name {
            pub fn new(s: impl Into<String>) -> Self {
                $name(s.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

string_id!(
    /// A ticket-system connection, the `id` of an `[[itsm]]` block; it appears in `/hooks/{id}`.
    ConnectionId
);
string_id!(
    /// A vendor instance, the `id` of a `[[vendor]]` block.
    VendorId
);
string_id!(
    /// A ticket as its system addresses it in API calls: ServiceNow `incident/<sys_id>`, Jira the
    /// issue key, Zendesk and Freshservice the numeric id. The human number (INC0000046) is kept
    /// apart, in the job's `ticket_number`.
    TicketRef
);
string_id!(
    /// The sender's delivery id (ServiceNow `event_id`, Zendesk invocation id, ...), the key
    /// for de-duplicating a repeated delivery.
    EventId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_sort_by_creation_time() {
        let a = JobId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = JobId::new();
        assert!(a < b);
        assert_eq!(JobId::parse(&a.to_string()), Some(a));
        assert_eq!(JobId::from_slice(a.as_bytes()), Some(a));
    }
}
