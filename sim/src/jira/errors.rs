//! Jira's error answers as the simulator gives them: the servicedeskapi and platform
//! envelopes, the plain-text 401, and 429s with `Retry-After`, `X-RateLimit-Reset` (ISO 8601,
//! minute precision) and `RateLimit-Reason`; plus the [`SystemErrors`] hook through which
//! injected faults and the burst limit are phrased the same way.

use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::fault::{RateLimitInfo, SystemErrors};

/// servicedeskapi error: `{"errorMessage", "i18nErrorMessage"}` (see `itsm::jira::assumed`).
pub(crate) fn jsm_error(status: StatusCode, message: &str, i18n_key: &str) -> Response {
    let body = json!({"errorMessage": message, "i18nErrorMessage": {"i18nKey": i18n_key, "parameters": []}});
    (status, Json(body)).into_response()
}

/// Platform error: `{"errorMessages": [...], "errors": {...}}`.
pub(crate) fn platform_error(status: StatusCode, messages: &[&str], errors: Value) -> Response {
    (
        status,
        Json(json!({"errorMessages": messages, "errors": errors})),
    )
        .into_response()
}

/// Jira Cloud's 401 for missing or wrong credentials comes as plain text.
pub(crate) fn not_authenticated() -> Response {
    let mut r = (
        StatusCode::UNAUTHORIZED,
        "Client must be authenticated to access this resource.",
    )
        .into_response();
    r.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("Basic realm=\"protected-area\""),
    );
    r
}

/// `X-RateLimit-Reset` in the documented `yyyy-MM-ddTHH:mmZ` form, rounded up to the minute.
pub(crate) fn reset_header(at: SystemTime) -> String {
    let secs = crate::unix_secs(at);
    let up = secs.div_ceil(60) * 60;
    let t = time::OffsetDateTime::from_unix_timestamp(up as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]Z");
    t.format(&f).unwrap_or_default()
}

/// A 429 as Jira sends it: body, `Retry-After`, `X-RateLimit-Reset`, `RateLimit-Reason`.
pub(crate) fn too_many(wait: Duration, reason: &'static str) -> Response {
    let mut r = platform_error(
        StatusCode::TOO_MANY_REQUESTS,
        &["Rate limit exceeded."],
        json!({}),
    );
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let h = r.headers_mut();
    h.insert("retry-after", HeaderValue::from(secs));
    if let Ok(v) = HeaderValue::from_str(&reset_header(SystemTime::now() + wait)) {
        h.insert("x-ratelimit-reset", v);
    }
    h.insert("ratelimit-reason", HeaderValue::from_static(reason));
    r
}

/// Injected failures and the burst limit, phrased as Jira phrases them.
pub(super) struct JiraErrors;

impl SystemErrors for JiraErrors {
    fn error(&self, status: StatusCode, path: &str) -> Response {
        let reason = status.canonical_reason().unwrap_or("Error");
        match status.as_u16() {
            401 => not_authenticated(),
            429 => {
                // No Retry-After unless the fault gives one; the reset time is always there.
                let mut r = too_many(Duration::from_secs(60), "jira-burst-based");
                r.headers_mut().remove("retry-after");
                r
            }
            _ if path.starts_with("/rest/servicedeskapi") => jsm_error(status, reason, "sd.error"),
            _ => platform_error(status, &[reason], json!({})),
        }
    }

    fn rate_limited(&self, info: &RateLimitInfo, _path: &str) -> Response {
        let mut r = too_many(
            Duration::from_secs(info.retry_after_secs),
            "jira-burst-based",
        );
        if let Ok(v) = HeaderValue::from_str(&reset_header(info.reset_at)) {
            r.headers_mut().insert("x-ratelimit-reset", v);
        }
        r
    }

    fn rate_limit_headers(&self, info: &RateLimitInfo, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(info.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(info.remaining));
    }
}
