//! The outcome of every system's last real call, kept per connection and vendor so an admin
//! sees "ServiceNow has answered 401 since 10:02" (in `/api/v1/status` and as a gauge) without
//! waiting for a job to fail. [`crate::outbound::Upstream`] records every call here; it is kept
//! by id, outside the adapters, so a reload (which builds new adapters) does not forget it.

use crate::clock::Millis;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;

/// Which side a system is on: a ticket-system connection or a vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Connection,
    Vendor,
}

/// How a call ended, as the caller saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The system answered with this HTTP status.
    Status(u16),
    /// It did not answer in time.
    Timeout,
    /// It could not be reached (refused, DNS, TLS).
    Unreachable,
}

impl Answer {
    /// Whether the answer says the system works for us. A 404 or 422 is an answer about one
    /// ticket, not about the connection; a refused credential, a missing role, a rate limit, a
    /// server error or silence are about the connection.
    pub fn is_ok(self) -> bool {
        match self {
            Answer::Status(s) => !matches!(s, 401 | 403 | 407 | 429 | 500..=599),
            Answer::Timeout | Answer::Unreachable => false,
        }
    }

    /// In words, with what an admin can do about it where that is clear.
    pub fn describe(self) -> String {
        match self {
            Answer::Status(s) => {
                let reason = http::StatusCode::from_u16(s)
                    .ok()
                    .and_then(|c| c.canonical_reason())
                    .unwrap_or("");
                let hint = match s {
                    401 => ": the credential was refused (check auth.*)",
                    403 => ": the account lacks a role or scope",
                    429 => ": rate limited",
                    _ => "",
                };
                format!("answered {s} {reason}{hint}").replace("  ", " ")
            }
            Answer::Timeout => "did not answer in time".into(),
            Answer::Unreachable => "could not be reached".into(),
        }
    }
}

/// The last call to one system.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LastCall {
    /// Whether the last call's answer says the system works for us (see the README).
    pub ok: bool,
    /// The HTTP status, when the system answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The answer in words: "answered 401 Unauthorized: the credential was refused ...".
    pub message: String,
    /// When the last call was made.
    pub at: Millis,
    /// Since when the calls have ended this way (same status, or same failure).
    pub since: Millis,
}

/// Every system's last call, by side and id.
#[derive(Debug, Default)]
pub struct LastCalls(Mutex<HashMap<(Side, String), (Answer, LastCall)>>);

impl LastCalls {
    pub fn record(&self, side: Side, id: &str, answer: Answer, at: Millis) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let since = match map.get(&(side, id.to_string())) {
            Some((before, last)) if *before == answer => last.since,
            _ => at,
        };
        let call = LastCall {
            ok: answer.is_ok(),
            status: match answer {
                Answer::Status(s) => Some(s),
                _ => None,
            },
            message: answer.describe(),
            at,
            since,
        };
        map.insert((side, id.to_string()), (answer, call));
    }

    pub fn get(&self, side: Side, id: &str) -> Option<LastCall> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(side, id.to_string())).map(|(_, c)| c.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_stays_while_the_answer_stays_and_moves_when_it_changes() {
        let calls = LastCalls::default();
        let t = |s: i64| Millis(s * 1000);
        calls.record(Side::Connection, "snow", Answer::Status(200), t(1));
        calls.record(Side::Connection, "snow", Answer::Status(401), t(2));
        calls.record(Side::Connection, "snow", Answer::Status(401), t(3));
        let last = calls.get(Side::Connection, "snow").unwrap();
        assert!(!last.ok);
        assert_eq!((last.status, last.at, last.since), (Some(401), t(3), t(2)));
        assert!(last.message.contains("credential"), "{}", last.message);
        calls.record(Side::Connection, "snow", Answer::Status(404), t(4));
        let last = calls.get(Side::Connection, "snow").unwrap();
        assert!(last.ok, "a 404 is about one ticket, not the connection");
        assert_eq!(last.since, t(4));
        assert!(calls.get(Side::Vendor, "snow").is_none(), "sides are apart");
    }
}
