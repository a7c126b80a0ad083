//! HTTP to one Zendesk instance: the credential and `Accept` on every call, Zendesk's error
//! envelope made into a sentence an admin understands, the rate-limit headers added to a 429's
//! message, and paging through a ticket's comments by `next_page`.

use super::{assumed, Auth};
use crate::config::ItsmConfig;
use crate::itsm::{BuildCtx, ItsmError, Result};
use crate::outbound::{read_json, Retry, Target, Upstream, UpstreamError};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A ticket holds at most this many comments (contract: "422 past that: permanent").
pub const MAX_COMMENTS: usize = 5000;

pub struct Client {
    /// "Zendesk <connection>", for messages.
    pub what: String,
    up: Upstream,
    auth: Auth,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("upstream", &self.up)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(cfg: &ItsmConfig, auth: Auth, ctx: &BuildCtx) -> Self {
        Client {
            what: format!("Zendesk {}", cfg.id),
            up: Upstream::new(
                Target::connection("zendesk", &cfg.id),
                &cfg.base_url,
                cfg.rate_limit,
                ctx.timeout,
                ctx.metrics.clone(),
                &ctx.trust,
            ),
            auth,
        }
    }

    /// A request with the credential and `Accept: application/json`; `path` starts with '/'.
    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self
            .up
            .client()
            .request(method, self.up.url(path))
            .header("Accept", "application/json");
        self.auth.apply(rb)
    }

    pub async fn call(&self, rb: reqwest::RequestBuilder) -> Result<Value> {
        let resp = self.up.send(rb).await?;
        let limits = rate_limits(resp.headers());
        read_json(&self.what, resp, envelope)
            .await
            .map_err(|e| self.refine(e, limits).into())
    }

    pub async fn get(&self, path: &str) -> Result<Value> {
        self.call(self.req(reqwest::Method::GET, path)).await
    }

    /// Zendesk's own meaning of a status, and on a 429 which limit it was.
    fn refine(&self, mut e: UpstreamError, limits: Option<String>) -> UpstreamError {
        let Some(status) = e.status else { return e };
        if assumed::TRANSIENT_STATUSES.contains(&status) {
            e.retry = Retry::Transient { after: None };
        }
        if status == 429 {
            let wait = match e.retry {
                Retry::Transient { after: Some(d) } => format!("Retry-After {} s", d.as_secs()),
                _ => "no Retry-After: backing off".into(),
            };
            let limits = limits.map(|l| format!("{l}; ")).unwrap_or_default();
            e.message = format!("{} ({limits}{wait})", e.message);
        }
        e
    }
}

/// `X-Rate-Limit: 700`, `X-Rate-Limit-Remaining: 0` → "X-Rate-Limit 700, X-Rate-Limit-Remaining 0".
fn rate_limits(h: &HeaderMap) -> Option<String> {
    let get = |n: &str| {
        h.get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .map(String::from)
    };
    let (limit, remaining) = (get("x-rate-limit"), get("x-rate-limit-remaining"));
    if remaining.as_deref() == Some("0") {
        tracing::warn!(
            limit = limit.as_deref().unwrap_or("?"),
            "the Zendesk API rate limit is used up for this minute"
        );
    }
    match (limit, remaining) {
        (None, None) => None,
        (l, r) => Some(format!(
            "X-Rate-Limit {}, X-Rate-Limit-Remaining {}",
            l.as_deref().unwrap_or("?"),
            r.as_deref().unwrap_or("?")
        )),
    }
}

/// Zendesk's envelopes in words:
/// `{"error": "RecordInvalid", "description": "...", "details": {field: [{description, error}]}}`
/// → "RecordInvalid: ... (field: description)"; also `{"error": {"title", "message"}}` and a bare
/// `{"error": "..."}`.
pub fn envelope(v: &Value) -> Option<String> {
    let head = match v.get("error") {
        Some(Value::String(code)) => match v.get("description").and_then(Value::as_str) {
            Some(d) if !d.is_empty() => format!("{code}: {d}"),
            _ => code.clone(),
        },
        Some(Value::Object(o)) => {
            let s = |k: &str| o.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
            match (s("title"), s("message")) {
                (Some(t), Some(m)) => format!("{t}: {m}"),
                (t, m) => t.or(m)?.to_string(),
            }
        }
        _ => v.get("description").and_then(Value::as_str)?.to_string(),
    };
    let details: Vec<String> = v
        .get("details")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .flat_map(|(field, list)| {
            let list = list.as_array().cloned().unwrap_or_default();
            list.into_iter().filter_map(move |d| {
                let text = d
                    .get("description")
                    .or_else(|| d.get("error"))
                    .and_then(Value::as_str)?;
                Some(format!("{field}: {text}"))
            })
        })
        .collect();
    if details.is_empty() {
        Some(head)
    } else {
        Some(format!("{head} ({})", details.join("; ")))
    }
}

/// The comments of one ticket, a page at a time, oldest first.
pub struct Comments<'a> {
    client: &'a Client,
    next: Option<String>,
    pages: usize,
}

impl<'a> Comments<'a> {
    pub fn new(client: &'a Client, ticket: u64) -> Self {
        let first = format!(
            "/api/v2/tickets/{ticket}/comments?per_page={}",
            assumed::COMMENTS_PER_PAGE
        );
        Comments {
            client,
            next: Some(first),
            pages: 0,
        }
    }

    /// The next page's comments, or `None` after the last page.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Value>>> {
        let Some(path) = self.next.take() else {
            return Ok(None);
        };
        self.pages += 1;
        // Every page holds at least one comment and a ticket at most MAX_COMMENTS of them: more
        // pages than that means the server is sending us round in circles.
        if self.pages > MAX_COMMENTS {
            return Err(ItsmError::Contract(format!(
                "{}: the comment list has more pages than a ticket can have comments",
                self.client.what
            )));
        }
        let mut v = self.client.get(&path).await?;
        let rows = v
            .get_mut("comments")
            .map(Value::take)
            .and_then(|c| match c {
                Value::Array(a) => Some(a),
                _ => None,
            })
            .ok_or_else(|| {
                ItsmError::Contract(format!(
                    "{}: the comment list has no `comments` list",
                    self.client.what
                ))
            })?;
        if let Some(next) = v
            .get("next_page")
            .and_then(Value::as_str)
            .filter(|_| !rows.is_empty())
        {
            let next = local_path(next).ok_or_else(|| {
                ItsmError::Contract(format!(
                    "{}: `next_page` {next:?} is not an API URL",
                    self.client.what
                ))
            })?;
            if next == path {
                return Err(ItsmError::Contract(format!(
                    "{}: `next_page` points at the page just read",
                    self.client.what
                )));
            }
            self.next = Some(next);
        }
        Ok(Some(rows))
    }
}

/// `https://acme.zendesk.com/api/v2/tickets/1/comments.json?page=2` → `/api/v2/...?page=2`. Only
/// the path and query are kept: the credential goes to the configured instance, never to
/// whatever host a response names.
fn local_path(next: &str) -> Option<String> {
    let (path, query) = match url::Url::parse(next) {
        Ok(u) => (u.path().to_string(), u.query().map(String::from)),
        Err(_) if next.starts_with('/') => match next.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (next.to_string(), None),
        },
        Err(_) => return None,
    };
    if !path.starts_with("/api/v2/") {
        return None;
    }
    Some(match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn zendesk_error_envelopes_become_one_readable_sentence() {
        let v = json!({"error": "RecordInvalid", "description": "Record validation errors",
            "details": {"base": [{"description": "Ticket has too many comments", "error": "TooManyComments"}],
                        "subject": [{"error": "BlankValue"}]}});
        assert_eq!(envelope(&v).unwrap(), "RecordInvalid: Record validation errors (base: Ticket has too many comments; subject: BlankValue)");
        assert_eq!(
            envelope(&json!({"error": "Couldn't authenticate you"})).unwrap(),
            "Couldn't authenticate you"
        );
        let v = json!({"error": {"title": "Forbidden", "message": "You do not have access to this page."}});
        assert_eq!(
            envelope(&v).unwrap(),
            "Forbidden: You do not have access to this page."
        );
        assert_eq!(
            envelope(&json!({"error": "RecordNotFound", "description": "Not found"})).unwrap(),
            "RecordNotFound: Not found"
        );
        assert_eq!(
            envelope(&json!({"ticket": {}})),
            None,
            "not an envelope: the raw text is quoted instead"
        );
    }

    #[test]
    fn next_page_urls_are_followed_on_the_configured_instance_only() {
        let u = "https://acme.zendesk.com/api/v2/tickets/1/comments.json?page=2&per_page=100";
        assert_eq!(
            local_path(u).unwrap(),
            "/api/v2/tickets/1/comments.json?page=2&per_page=100"
        );
        assert_eq!(
            local_path("https://evil.example/api/v2/x").unwrap(),
            "/api/v2/x",
            "host dropped"
        );
        assert_eq!(
            local_path("/api/v2/tickets/1/comments?page=3").unwrap(),
            "/api/v2/tickets/1/comments?page=3"
        );
        assert_eq!(local_path("https://acme.zendesk.com/admin"), None);
        assert_eq!(local_path("page=2"), None);
    }

    #[test]
    fn rate_limit_headers_are_named_when_present() {
        let mut h = HeaderMap::new();
        assert_eq!(rate_limits(&h), None);
        h.insert("x-rate-limit", "700".parse().unwrap());
        h.insert("x-rate-limit-remaining", "0".parse().unwrap());
        assert_eq!(
            rate_limits(&h).unwrap(),
            "X-Rate-Limit 700, X-Rate-Limit-Remaining 0"
        );
    }
}
