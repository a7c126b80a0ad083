//! Fault injection and request recording shared by every simulator. Each simulator installs
//! [`install`] as its outermost axum middleware and supplies a [`SystemErrors`] hook, so that an
//! injected status, a simulated rate limit or a hang looks exactly like the real system's own
//! failure (its error envelope and headers), while tests script failures through one API:
//! [`Faults::push`], [`Faults::set_rate_limit`], and observe traffic through
//! [`Faults::requests`] and [`Faults::wait_for_request`], and count concurrent calls about one
//! subject through [`Faults::track_in_flight`].

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// One scripted failure. Faults are matched in the order they were pushed; the first match wins.
#[derive(Debug, Clone)]
pub struct Fault {
    /// HTTP method to match (case-insensitive); `None` matches any method.
    pub method: Option<String>,
    /// Substring of the request target (path, plus `?query` when there is one).
    pub path_contains: String,
    pub action: FaultAction,
    /// How many matching requests this fault applies to; decremented on each match and removed
    /// at 0. A fault pushed with `times == 0` applies to every match until [`Faults::clear`].
    pub times: u32,
}

impl Fault {
    /// A fault for the next single request whose target contains `path_contains`.
    pub fn new(path_contains: &str, action: FaultAction) -> Self {
        Fault {
            method: None,
            path_contains: path_contains.to_string(),
            action,
            times: 1,
        }
    }

    /// Restricts the fault to one HTTP method.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_string());
        self
    }

    /// Applies the fault to `n` matching requests (0 = every one).
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }
}

#[derive(Debug, Clone)]
pub enum FaultAction {
    /// Answer this status instead of handling; `retry_after` header value if Some; body is the
    /// system's own error envelope unless `body` is Some.
    Status {
        status: u16,
        retry_after: Option<String>,
        body: Option<String>,
    },
    /// Sleep before handling normally.
    Delay(Duration),
    /// Handle the request normally (apply its effect) then never answer: models a crash after
    /// the upstream committed.
    ApplyThenHang,
    /// Never answer and do not apply.
    Hang,
}

impl FaultAction {
    /// `Status` with the system's own envelope and no `Retry-After`.
    pub fn status(status: u16) -> Self {
        FaultAction::Status {
            status,
            retry_after: None,
            body: None,
        }
    }
}

/// One request as the simulator saw it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub at: SystemTime,
    /// Status answered; `None` while in flight, or forever when the request was hung.
    pub status: Option<u16>,
}

impl RecordedRequest {
    fn target(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{}", self.path, q),
            None => self.path.clone(),
        }
    }

    fn matches(&self, method: Option<&str>, path_contains: &str) -> bool {
        let method_ok = match method {
            Some(m) if !m.is_empty() => self.method.eq_ignore_ascii_case(m),
            _ => true,
        };
        method_ok && self.target().contains(path_contains)
    }
}

/// The state of the simulated rate limit, handed to [`SystemErrors`] so each system can phrase
/// its own headers and body.
#[derive(Debug, Clone)]
pub struct RateLimitInfo {
    /// Requests allowed per window.
    pub limit: u32,
    /// Window length.
    pub per: Duration,
    /// Requests still allowed in the current window.
    pub remaining: u32,
    /// When the current window ends.
    pub reset_at: SystemTime,
    /// Whole seconds until the window ends (at least 1), the `Retry-After` value.
    pub retry_after_secs: u64,
}

/// What a simulated system answers when the fault layer refuses a request. Each simulator
/// implements it once with its own error envelope.
pub trait SystemErrors: Send + Sync + 'static {
    /// The system's error answer for an injected `status` on `path`. The layer forces the
    /// status and adds `Retry-After` afterwards, so the body is what matters here.
    fn error(&self, status: StatusCode, path: &str) -> Response;

    /// The answer when the simulated rate limit refuses a request on `path`. The layer sets 429,
    /// `Retry-After` and [`SystemErrors::rate_limit_headers`] on top.
    fn rate_limited(&self, info: &RateLimitInfo, path: &str) -> Response;

    /// Headers the system puts on every answer while a rate limit applies (ServiceNow sends
    /// `X-RateLimit-*` on each request a rule covers). Default: none.
    fn rate_limit_headers(&self, _info: &RateLimitInfo, _headers: &mut HeaderMap) {}
}

/// Scripted faults, the rate limit and the request log of one simulator. Cheap to clone.
#[derive(Clone)]
pub struct Faults {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<FaultState>,
    /// Bumped on every arrival so that `wait_for_request` can sleep until something comes in.
    arrivals: watch::Sender<u64>,
    /// Cancelled when the simulator shuts down; releases hung requests.
    halt: CancellationToken,
}

#[derive(Default)]
struct FaultState {
    queue: Vec<Fault>,
    window: Option<Window>,
    log: Vec<Entry>,
    in_flight: in_flight::InFlight,
    /// A share of the requests no scripted fault takes, failed with one of these at random.
    random: Option<(f64, Vec<FaultAction>)>,
}

struct Window {
    limit: u32,
    per: Duration,
    start: Instant,
    used: u32,
}

struct Entry {
    req: RecordedRequest,
    /// Already returned by a `wait_for_request`, so a second wait finds the next request.
    claimed: bool,
}

enum Decision {
    Limited(RateLimitInfo),
    Act(FaultAction, Option<RateLimitInfo>),
    Pass(Option<RateLimitInfo>),
}

impl Default for Faults {
    fn default() -> Self {
        Self::new()
    }
}

impl Faults {
    pub fn new() -> Self {
        let (arrivals, _) = watch::channel(0);
        Faults {
            inner: Arc::new(Inner {
                state: Mutex::new(FaultState::default()),
                arrivals,
                halt: CancellationToken::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, FaultState> {
        // A panicking test thread must not wedge the simulator for the others.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a fault; faults are matched in push order.
    pub fn push(&self, f: Fault) {
        self.lock().queue.push(f);
    }

    /// Removes every queued fault, the random faults and the rate limit. The request log is
    /// kept.
    pub fn clear(&self) {
        let mut st = self.lock();
        st.queue.clear();
        st.window = None;
        st.random = None;
    }

    /// Fails `rate` (0 to 1) of the requests that no scripted fault takes, each with one of
    /// `actions` picked at random: an upstream that is unreliable all the time.
    pub fn set_random_faults(&self, rate: f64, actions: Vec<FaultAction>) {
        self.lock().random = (!actions.is_empty()).then_some((rate, actions));
    }

    /// Allows `requests` per `per` window (starting now); beyond it the system answers 429 with
    /// `Retry-After` and its own rate-limit headers and body. Refused requests do not count.
    pub fn set_rate_limit(&self, requests: u32, per: Duration) {
        self.lock().window = Some(Window {
            limit: requests,
            per,
            start: Instant::now(),
            used: 0,
        });
    }

    /// Every request seen so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().log.iter().map(|e| e.req.clone()).collect()
    }

    /// Resolves as soon as a matching request arrives (before it is answered), or `None` after
    /// `timeout`. A request that arrived earlier counts if it is still in flight, so calling this
    /// just after the request went out is not racy. Each request is returned at most once, so
    /// consecutive waits see consecutive requests. `method` "" matches any method.
    pub async fn wait_for_request(
        &self,
        method: &str,
        path_contains: &str,
        timeout: Duration,
    ) -> Option<RecordedRequest> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = self.inner.arrivals.subscribe();
        let seen_before = self.lock().log.len();
        loop {
            {
                let mut st = self.lock();
                let hit = st.log.iter_mut().enumerate().find(|(i, e)| {
                    !e.claimed
                        && (*i >= seen_before || e.req.status.is_none())
                        && e.req.matches(Some(method), path_contains)
                });
                if let Some((_, e)) = hit {
                    e.claimed = true;
                    return Some(e.req.clone());
                }
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => continue,
                _ => return None,
            }
        }
    }

    /// The token that stops the simulator owning these faults (the server halts on it too).
    pub(crate) fn halt_token(&self) -> CancellationToken {
        self.inner.halt.clone()
    }

    fn record(&self, req: &Request) -> usize {
        let rec = RecordedRequest {
            method: req.method().as_str().to_string(),
            path: req.uri().path().to_string(),
            query: req.uri().query().map(str::to_string),
            at: SystemTime::now(),
            status: None,
        };
        let idx = {
            let mut st = self.lock();
            st.log.push(Entry {
                req: rec,
                claimed: false,
            });
            st.log.len() - 1
        };
        self.inner.arrivals.send_modify(|n| *n += 1);
        idx
    }

    fn set_status(&self, idx: usize, status: u16) {
        if let Some(e) = self.lock().log.get_mut(idx) {
            e.req.status = Some(status);
        }
    }

    /// Rate limit first (it models the gateway in front of the handlers), then the fault queue.
    fn decide(&self, idx: usize) -> Decision {
        let mut st = self.lock();
        let req = st.log[idx].req.clone();
        let mut info = None;
        if let Some(w) = st.window.as_mut() {
            let now = Instant::now();
            if now.duration_since(w.start) >= w.per {
                w.start = now;
                w.used = 0;
            }
            let reset_in = w.per.saturating_sub(now.duration_since(w.start));
            let refused = w.used >= w.limit;
            if !refused {
                w.used += 1;
            }
            let limit_info = RateLimitInfo {
                limit: w.limit,
                per: w.per,
                remaining: w.limit.saturating_sub(w.used),
                reset_at: SystemTime::now() + reset_in,
                retry_after_secs: reset_in.as_secs_f64().ceil().max(1.0) as u64,
            };
            if refused {
                return Decision::Limited(limit_info);
            }
            info = Some(limit_info);
        }
        let pos = st
            .queue
            .iter()
            .position(|f| req.matches(f.method.as_deref(), &f.path_contains));
        let Some(pos) = pos else {
            if let Some((rate, actions)) = &st.random {
                if rand::random::<f64>() < *rate {
                    let pick = rand::random::<usize>() % actions.len();
                    return Decision::Act(actions[pick].clone(), info);
                }
            }
            return Decision::Pass(info);
        };
        let action = st.queue[pos].action.clone();
        match st.queue[pos].times {
            0 => {}
            1 => {
                st.queue.remove(pos);
            }
            _ => st.queue[pos].times -= 1,
        }
        Decision::Act(action, info)
    }
}

mod in_flight;
mod layer;
pub use layer::install;

#[cfg(test)]
mod tests;
