//! Outbound HTTP shared by every adapter: one client per upstream with a timeout, a
//! `User-Agent`, the upstream's rate limit, call metrics, and the one place where an HTTP
//! status or a transport failure becomes "retry (maybe after N s)" or "don't".
//!
//! Adapters still read their system's error envelope to produce a message an admin
//! understands; they hand that message to [`classify`] with the status and headers.

mod probe;
mod ratelimit;
mod retry_after;
pub mod tls;

pub use probe::{Advice, Probe};
pub use ratelimit::RateLimiter;
pub use retry_after::parse_retry_after;
pub use tls::{CaBundle, Trust};

use crate::clock::Millis;
use crate::config::RateLimit;
use crate::metrics::{Answer, Metrics, Side};
use reqwest::{RequestBuilder, Response, StatusCode};
use std::sync::Arc;
use std::time::Duration;

/// Whether and how a failed call may be retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    /// Timeouts, connection errors, 5xx, 429: try again, not before `after` when given.
    Transient { after: Option<Duration> },
    /// 400, 401, 403, 404, 422 and their like: retrying the same call cannot help.
    Permanent,
    /// The credential was refused: renew it (when the adapter can) and try once more.
    Auth,
}

/// A failed call to a ticket system or a vendor, with the upstream's own message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct UpstreamError {
    pub retry: Retry,
    pub status: Option<u16>,
    pub message: String,
}

impl UpstreamError {
    pub fn permanent(message: impl Into<String>) -> Self {
        UpstreamError {
            retry: Retry::Permanent,
            status: None,
            message: message.into(),
        }
    }
    pub fn transient(message: impl Into<String>) -> Self {
        UpstreamError {
            retry: Retry::Transient { after: None },
            status: None,
            message: message.into(),
        }
    }
    pub fn is_transient(&self) -> bool {
        matches!(self.retry, Retry::Transient { .. })
    }
}

/// Classify a non-success answer. `message` is the upstream's own words, already extracted
/// from its envelope; `what` names the upstream for the admin ("ServiceNow acme").
pub fn classify(
    what: &str,
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    message: &str,
) -> UpstreamError {
    let code = status.as_u16();
    let retry = match code {
        429 | 500..=599 | 408 => Retry::Transient {
            after: headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, std::time::SystemTime::now())),
        },
        401 => Retry::Auth,
        _ => Retry::Permanent,
    };
    let reason = status.canonical_reason().unwrap_or("");
    let message = if message.trim().is_empty() {
        format!("{what} answered {code} {reason}")
    } else {
        format!("{what} answered {code} {reason}: {}", message.trim())
    };
    UpstreamError {
        retry,
        status: Some(code),
        message,
    }
}

/// Which system an [`Upstream`] calls: the side and id its last call is kept under, and the
/// name its metrics carry ("servicenow/snow-prod").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub side: Side,
    pub id: String,
    pub name: String,
}

impl Target {
    /// The ticket-system connection `id` of kind `kind`.
    pub fn connection(kind: &str, id: impl std::fmt::Display) -> Self {
        Self::of(Side::Connection, kind, id)
    }
    /// The vendor `id`; `kind` names the API ("splashtop", or "splashtop-oauth" for its
    /// token endpoint): every API of one vendor counts as that vendor's last call.
    pub fn vendor(kind: &str, id: impl std::fmt::Display) -> Self {
        Self::of(Side::Vendor, kind, id)
    }
    fn of(side: Side, kind: &str, id: impl std::fmt::Display) -> Self {
        let id = id.to_string();
        Target {
            side,
            name: format!("{kind}/{id}"),
            id,
        }
    }
}

/// One upstream instance (a ticket-system connection or a vendor).
#[derive(Clone)]
pub struct Upstream {
    /// For messages and metrics: "servicenow/snow-prod".
    pub name: String,
    target: Target,
    base: String,
    client: reqwest::Client,
    limiter: Option<Arc<RateLimiter>>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("name", &self.name)
            .field("base", &self.base)
            .finish()
    }
}

impl Upstream {
    pub fn new(
        target: Target,
        base_url: &str,
        rate_limit: Option<RateLimit>,
        timeout: Duration,
        metrics: Arc<Metrics>,
        trust: &Trust,
    ) -> Self {
        let builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("deskbridge/", env!("CARGO_PKG_VERSION")));
        let client = trust
            .apply(builder)
            .build()
            .expect("the HTTP client builds with certificates that parsed at load");
        metrics.declare_target(&target.name);
        Upstream {
            name: target.name.clone(),
            target,
            base: base_url.trim_end_matches('/').to_string(),
            client,
            limiter: rate_limit.map(|r| Arc::new(RateLimiter::new(r.requests, r.per.0))),
            metrics,
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `path` under the base URL; `path` starts with '/'.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Send after the rate limiter allows it. Any HTTP status is returned as a response; only a
    /// transport failure (timeout, refused connection) is an error, and always a transient one.
    pub async fn send(&self, req: RequestBuilder) -> Result<Response, UpstreamError> {
        if let Some(l) = &self.limiter {
            l.acquire().await;
        }
        let started = std::time::Instant::now();
        let res = req.send().await;
        let elapsed = started.elapsed();
        let answer = match &res {
            Ok(r) => Answer::Status(r.status().as_u16()),
            Err(e) if e.is_timeout() => Answer::Timeout,
            Err(_) => Answer::Unreachable,
        };
        let label = match answer {
            Answer::Status(s) => s.to_string(),
            Answer::Timeout => "timeout".into(),
            Answer::Unreachable => "error".into(),
        };
        self.metrics.outbound(&self.name, &label, elapsed);
        let t = &self.target;
        self.metrics
            .calls
            .record(t.side, &t.id, answer, Millis::now());
        res.map_err(|e| {
            // reqwest's Display includes the URL, never headers: no credential leaks here.
            let what = if e.is_timeout() {
                "did not answer in time"
            } else {
                "could not be reached"
            };
            UpstreamError::transient(format!("{} {what}: {}", self.name, without_url(&e)))
        })
    }
}

fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(&format!(" for url ({u})"), "");
    }
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// Read an answer: JSON on success (an empty body is `null`), or an [`UpstreamError`] carrying
/// the upstream's own message, which `envelope` digs out of its error JSON. Plain-text error
/// bodies are tolerated (some 429s come that way) and quoted, shortened.
pub async fn read_json(
    what: &str,
    resp: Response,
    envelope: fn(&serde_json::Value) -> Option<String>,
) -> Result<serde_json::Value, UpstreamError> {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp
        .text()
        .await
        .map_err(|e| UpstreamError::transient(format!("{what}: the answer was cut off: {e}")))?;
    if status.is_success() {
        if text.trim().is_empty() {
            return Ok(serde_json::Value::Null);
        }
        return serde_json::from_str(&text).map_err(|e| {
            UpstreamError::permanent(format!(
                "{what} answered {status} with a body that is not JSON ({e})"
            ))
        });
    }
    let message = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => envelope(&v).unwrap_or_else(|| shorten(&text)),
        Err(_) => shorten(&text),
    };
    Err(classify(what, status, &headers, &message))
}

fn shorten(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s.to_string()
    }
}
