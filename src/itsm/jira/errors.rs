//! Jira's error answers turned into words an admin can act on, and its rate-limit headers
//! turned into a wait: `Retry-After` (seconds) is read by `outbound::classify`; when it is
//! missing, `X-RateLimit-Reset` (ISO 8601, minute precision) says until when, and
//! `RateLimit-Reason` (`jira-burst-based`, `jira-per-issue-on-write`) says which limit hit.

use super::assumed::{RATE_LIMIT_REASON, RATE_LIMIT_RESET, SERVICEDESK_ERROR_KEY};
use crate::outbound::{Retry, UpstreamError};
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// `{"errorMessages": [...], "errors": {"field": "message"}}` (platform) or
/// `{"errorMessage": "..."}` (servicedeskapi) → "msg; msg; field: message".
pub(super) fn envelope(v: &Value) -> Option<String> {
    let mut parts: Vec<String> = vec![];
    if let Some(list) = v.get("errorMessages").and_then(Value::as_array) {
        parts.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if let Some(map) = v.get("errors").and_then(Value::as_object) {
        for (field, msg) in map {
            let msg = msg
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| msg.to_string());
            parts.push(format!("{field}: {msg}"));
        }
    }
    if let Some(m) = v.get(SERVICEDESK_ERROR_KEY).and_then(Value::as_str) {
        parts.push(m.to_string());
    }
    parts.retain(|p| !p.trim().is_empty());
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Add what the rate-limit headers say to a failed call: the wait when `Retry-After` gave
/// none, and the limit's name in the message.
pub(super) fn with_rate_limit(
    mut e: UpstreamError,
    headers: &reqwest::header::HeaderMap,
    now: SystemTime,
) -> UpstreamError {
    if !matches!(e.status, Some(429) | Some(503)) {
        return e;
    }
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let reset = header(RATE_LIMIT_RESET);
    if let (
        Retry::Transient {
            after: after @ None,
        },
        Some(reset),
    ) = (&mut e.retry, reset)
    {
        *after = parse_reset(reset, now);
    }
    let mut notes = vec![];
    if let Some(reason) = header(RATE_LIMIT_REASON) {
        notes.push(format!("limit {reason}"));
    }
    if let Some(reset) = reset {
        notes.push(format!("resets at {reset}"));
    }
    if !notes.is_empty() {
        e.message = format!("{} ({})", e.message, notes.join(", "));
    }
    e
}

/// `X-RateLimit-Reset` as the time left until it: `2024-03-01T12:34Z` (the documented
/// minute-precision form) or a full RFC 3339 time. A time in the past means "now".
pub(super) fn parse_reset(v: &str, now: SystemTime) -> Option<Duration> {
    use time::format_description::well_known::Rfc3339;
    let at = time::OffsetDateTime::parse(v, &Rfc3339).ok().or_else(|| {
        let minute = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]Z");
        time::PrimitiveDateTime::parse(v, &minute)
            .ok()
            .map(|t| t.assume_utc())
    })?;
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(at.unix_timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};
    use serde_json::json;

    #[test]
    fn both_error_envelopes_become_one_readable_sentence() {
        let platform = json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {"labels": "Field 'labels' cannot be set."}});
        assert_eq!(
            envelope(&platform).unwrap(),
            "Issue does not exist or you do not have permission to see it.; labels: Field 'labels' cannot be set."
        );
        let jsm = json!({"errorMessage": "The request could not be found.", "i18nErrorMessage": {"i18nKey": "sd.request.not.found", "parameters": []}});
        assert_eq!(envelope(&jsm).unwrap(), "The request could not be found.");
        assert_eq!(
            envelope(&json!({"errorMessages": [], "errors": {}})),
            None,
            "empty envelope: fall back to the status"
        );
        assert_eq!(envelope(&json!({"status": 500})), None);
    }

    fn limited(
        retry_after: Option<&str>,
        reset: Option<&str>,
        reason: Option<&str>,
    ) -> UpstreamError {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("retry-after", retry_after),
            (RATE_LIMIT_RESET, reset),
            (RATE_LIMIT_REASON, reason),
        ] {
            if let Some(v) = v {
                h.insert(k, HeaderValue::from_str(v).unwrap());
            }
        }
        let e =
            crate::outbound::classify("Jira acme", reqwest::StatusCode::TOO_MANY_REQUESTS, &h, "");
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023-11-14T22:13:20Z
        with_rate_limit(e, &h, now)
    }

    #[test]
    fn a_429_without_retry_after_waits_until_the_iso_reset() {
        let e = limited(
            None,
            Some("2023-11-14T22:15Z"),
            Some("jira-per-issue-on-write"),
        );
        assert_eq!(
            e.retry,
            Retry::Transient {
                after: Some(Duration::from_secs(100))
            }
        );
        assert!(
            e.message.contains("limit jira-per-issue-on-write"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("resets at 2023-11-14T22:15Z"),
            "{}",
            e.message
        );
    }

    #[test]
    fn retry_after_wins_over_the_reset_time() {
        let e = limited(
            Some("7"),
            Some("2023-11-14T22:15Z"),
            Some("jira-burst-based"),
        );
        assert_eq!(
            e.retry,
            Retry::Transient {
                after: Some(Duration::from_secs(7))
            }
        );
        assert!(e.message.contains("jira-burst-based"));
    }

    #[test]
    fn a_reset_in_full_rfc3339_or_in_the_past_is_understood() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            parse_reset("2023-11-14T22:13:50Z", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_reset("2023-11-14T22:13:50.000+00:00", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_reset("2023-11-14T22:00Z", now), Some(Duration::ZERO));
        assert_eq!(parse_reset("soon", now), None);
    }

    #[test]
    fn other_failures_are_left_alone() {
        let mut h = HeaderMap::new();
        h.insert(
            RATE_LIMIT_REASON,
            HeaderValue::from_static("jira-burst-based"),
        );
        let e = crate::outbound::classify("Jira acme", reqwest::StatusCode::FORBIDDEN, &h, "no");
        let e = with_rate_limit(e, &h, SystemTime::now());
        assert_eq!(e.retry, Retry::Permanent);
        assert!(!e.message.contains("jira-burst-based"));
    }
}
