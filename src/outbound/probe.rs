//! The one read-only call per system that `deskbridge check --online` and
//! `POST /api/v1/{connections,vendors}/{id}/test` make (SPEC §2, §4): its outcome in words an
//! admin can act on. Each adapter picks its call and its advice (what a 401 and a 403 mean for
//! that system, in its `assumed.rs`); this turns an answer into `ok` or the upstream's own words
//! followed by what to fix.

use super::{Retry, UpstreamError};
use serde::Serialize;

/// What a test call found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Probe {
    pub ok: bool,
    /// "ok: ..." with what was read, or the upstream's answer and what to fix.
    pub message: String,
}

/// What to fix when a system refuses the credential (401) or a permission (403).
#[derive(Debug, Clone, Copy)]
pub struct Advice {
    pub unauthorized: &'static str,
    pub forbidden: &'static str,
}

impl Probe {
    pub fn ok(what: impl std::fmt::Display) -> Probe {
        Probe {
            ok: true,
            message: format!("ok: {what}"),
        }
    }

    /// A failure with the upstream's words and what to fix, `fix` in the admin's terms.
    pub fn failed(message: impl std::fmt::Display, fix: &str) -> Probe {
        Probe {
            ok: false,
            message: format!("{message}. To fix: {fix}"),
        }
    }

    /// A failed call: its message, and the advice its status calls for.
    pub fn from_upstream(e: &UpstreamError, advice: &Advice) -> Probe {
        let fix = match (e.status, &e.retry) {
            (Some(401), _) | (_, Retry::Auth) => advice.unauthorized,
            (Some(403), _) => advice.forbidden,
            (Some(404), _) => "check base_url: it must be the system's own address, without a path",
            (Some(429), _) => "nothing: the system is rate limiting; lower rate_limit or try again later",
            (Some(s), _) if s >= 500 => "nothing on our side: the system is failing; try again later",
            (None, Retry::Transient { .. }) => {
                "check base_url, DNS, proxies and firewalls between deskbridge and the system, and its TLS certificate"
            }
            _ => "see the message above",
        };
        Probe::failed(&e.message, fix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADVICE: Advice = Advice {
        unauthorized: "check the password",
        forbidden: "grant the itil role",
    };

    #[test]
    fn a_refusal_says_what_to_fix_by_its_status() {
        let e = |status: u16, retry: Retry| UpstreamError {
            retry,
            status: Some(status),
            message: format!("X answered {status}"),
        };
        let p = Probe::from_upstream(&e(401, Retry::Auth), &ADVICE);
        assert!(!p.ok);
        assert_eq!(p.message, "X answered 401. To fix: check the password");
        let p = Probe::from_upstream(&e(403, Retry::Permanent), &ADVICE);
        assert!(p.message.ends_with("grant the itil role"), "{}", p.message);
        let p = Probe::from_upstream(&UpstreamError::transient("X could not be reached"), &ADVICE);
        assert!(p.message.contains("base_url"), "{}", p.message);
        assert_eq!(Probe::ok("read 1 row").message, "ok: read 1 row");
    }
}
