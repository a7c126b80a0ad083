//! Freshservice's error answers in the simulator: the `{"description", "errors": [...]}`
//! envelope of the shipped 400 fixture, and the [`SystemErrors`] that make injected faults and
//! the simulated rate limit look like Freshservice's own (429 with `X-RateLimit-*`, gateway
//! pages for 502-504).

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{routes, PLAN_PER_MINUTE};
use crate::fault::{RateLimitInfo, SystemErrors};

/// `{"errors": [...]}` with an optional `description`, the shape of every Freshservice error.
pub(super) fn errors(status: StatusCode, description: Option<&str>, errors: Value) -> Response {
    let mut body = json!({ "errors": errors });
    if let Some(d) = description {
        body["description"] = d.into();
    }
    (status, Json(body)).into_response()
}

/// One validation failure, as in the shipped 400 fixture.
pub(super) fn validation(field: &str, message: &str, code: &str) -> Response {
    errors(
        StatusCode::BAD_REQUEST,
        Some("Validation failed"),
        json!([{"field": field, "message": message, "code": code}]),
    )
}

/// Injected failures and rate limits, as Freshservice phrases them.
pub(super) struct FsErrors;

impl SystemErrors for FsErrors {
    fn error(&self, status: StatusCode, _path: &str) -> Response {
        match status.as_u16() {
            401 => routes::not_authenticated(),
            // A missing record: 404 with an empty body (assumed, as Freshdesk answers).
            404 => StatusCode::NOT_FOUND.into_response(),
            400 => validation("body", "It should be a/an String", "datatype_mismatch"),
            429 => {
                let info = RateLimitInfo {
                    limit: PLAN_PER_MINUTE,
                    per: std::time::Duration::from_secs(60),
                    remaining: 0,
                    reset_at: std::time::SystemTime::now() + std::time::Duration::from_secs(60),
                    retry_after_secs: 60,
                };
                let mut resp = self.rate_limited(&info, "");
                self.rate_limit_headers(&info, resp.headers_mut());
                resp
            }
            // Gateways in front of the API answer with a page, not JSON.
            502..=504 => {
                let reason = status.canonical_reason().unwrap_or("Error");
                (
                    status,
                    format!(
                        "<html><body><h1>{} {reason}</h1></body></html>",
                        status.as_u16()
                    ),
                )
                    .into_response()
            }
            _ => {
                let reason = status.canonical_reason().unwrap_or("Error");
                errors(
                    status,
                    None,
                    json!([{"message": reason, "code": "internal_error"}]),
                )
            }
        }
    }

    fn rate_limited(&self, info: &RateLimitInfo, _path: &str) -> Response {
        // Wording invented; the shape is the swagger's `{"errors": [error]}` for 429.
        let message = format!(
            "You have exceeded the limit of {} requests per minute",
            info.limit
        );
        errors(
            StatusCode::TOO_MANY_REQUESTS,
            None,
            json!([{"message": message, "code": "rate_limit_exceeded"}]),
        )
    }

    fn rate_limit_headers(&self, info: &RateLimitInfo, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-total", HeaderValue::from(info.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(info.remaining));
        headers.insert("x-ratelimit-used-currentrequest", HeaderValue::from(1u32));
    }
}
