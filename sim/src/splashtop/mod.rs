//! Splashtop Open API simulator (attended support / PSA): `basic_info`, the channel list,
//! support-session create/get/close/delete, and the session, file-transfer and chat-transcript
//! log routes, all under `/api/open/v1` behind a bearer token, every answer in Splashtop's
//! `{"result", "data", "message"}` envelope (see `shared/contracts/splashtop.md`). Tests drive
//! the session lifecycle from outside with [`SplashtopSim::mark_active`],
//! [`SplashtopSim::end_session`] and [`SplashtopSim::expire_session`], as the technician and the
//! end user would. The portal host's OAuth 2.0 endpoints live in `oauth.rs`; the API accepts
//! their access tokens as well as the API token.

mod oauth;
mod routes;

pub use oauth::OAuthCounts;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::fault::{Faults, RateLimitInfo, SystemErrors};
use super::{now_utc, Bound, Server};

/// A support session as the simulator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimSession {
    pub id: String,
    /// 9-digit SOS code.
    pub code: String,
    /// "waiting", "active", "closed", "expired" or "deleted".
    pub status: String,
    pub customer_name: String,
    pub customer_issue: String,
    pub channel_id: u64,
    pub support_portal_link: String,
}

/// What Splashtop has recorded once a session is over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionEnd {
    pub log: Vec<LogRow>,
    pub transfers: Vec<TransferRow>,
    pub chat: Vec<ChatLine>,
}

/// One row of the session log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogRow {
    pub start_time: String,
    pub end_time: String,
    pub duration_sec: u64,
    pub technician: String,
    pub src_device: String,
    pub dst_device: String,
    pub src_ip: String,
    pub dst_ip: String,
    pub r#type: String,
}

/// One file transfer (names and sizes only: Splashtop never keeps contents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferRow {
    pub time: String,
    pub file_name: String,
    pub size_bytes: u64,
    /// "upload" or "download".
    pub direction: String,
    pub technician: String,
}

/// One chat transcript line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatLine {
    pub time: String,
    pub author: String,
    pub message: String,
}

const TECHNICIAN: &str = "Beth Anglin";
const OWNER_EMAIL: &str = "beth.anglin@acme.example";

fn rfc3339(t: OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&fmt).unwrap_or_default()
}

impl SessionEnd {
    /// Plausible rows ending now: `n_log` connections, `n_transfers` files, `n_chat` lines
    /// (e.g. 250 chat lines need 3 pages of 100).
    pub fn sample(n_log: usize, n_transfers: usize, n_chat: usize) -> Self {
        let start = now_utc() - time::Duration::hours(2);
        let at = |secs: i64| rfc3339(start + time::Duration::seconds(secs));
        let log = (0..n_log)
            .map(|i| {
                let begin = i as i64 * 900;
                let duration = 240 + (i as u64 * 37) % 600;
                LogRow {
                    start_time: at(begin),
                    end_time: at(begin + duration as i64),
                    duration_sec: duration,
                    technician: TECHNICIAN.into(),
                    src_device: "BETH-LAPTOP".into(),
                    dst_device: "JANE-PC".into(),
                    src_ip: "203.0.113.10".into(),
                    dst_ip: "198.51.100.23".into(),
                    r#type: "Attended Support".into(),
                }
            })
            .collect();
        let transfers = (0..n_transfers)
            .map(|i| {
                let (name, direction) = match i % 3 {
                    0 => (format!("outlook-diag-{i}.zip"), "download"),
                    1 => (format!("screenshot-{i}.png"), "download"),
                    _ => (format!("fix-profile-{i}.ps1"), "upload"),
                };
                TransferRow {
                    time: at(60 + i as i64 * 45),
                    file_name: name,
                    size_bytes: 7_168 * (i as u64 + 1),
                    direction: direction.into(),
                    technician: TECHNICIAN.into(),
                }
            })
            .collect();
        const SAID: &[(&str, &str)] = &[
            (
                TECHNICIAN,
                "Hi Jane, I'm connected now. Can you reproduce the crash?",
            ),
            (
                "Jane Doe",
                "Sure, it happens as soon as I open the calendar.",
            ),
            (TECHNICIAN, "Thanks, I'm collecting the logs."),
            ("Jane Doe", "OK, go ahead."),
            (
                TECHNICIAN,
                "Rebuilding your Outlook profile, this takes a minute.",
            ),
        ];
        let chat = (0..n_chat)
            .map(|i| {
                let (author, text) = SAID[i % SAID.len()];
                ChatLine {
                    time: at(30 + i as i64 * 15),
                    author: author.into(),
                    message: format!("{text} (#{})", i + 1),
                }
            })
            .collect();
        SessionEnd {
            log,
            transfers,
            chat,
        }
    }
}

/// Handle to a running Splashtop simulator. Clones share the server; it stops when the last
/// clone is dropped or on [`SplashtopSim::shutdown`].
#[derive(Clone)]
pub struct SplashtopSim {
    inner: Arc<Handle>,
}

struct Handle {
    state: Arc<StState>,
    faults: Faults,
    server: Server,
}

struct StState {
    /// Portal base for `support_portal_link`; the same server answers it.
    portal: String,
    team_id: u64,
    data: Mutex<StData>,
}

struct StData {
    token: String,
    transcripts: bool,
    sessions: Vec<Session>,
    /// OAuth apps, codes and tokens (`oauth.rs`).
    oauth: oauth::OAuthSim,
}

/// Internal session record: the public view plus the lifecycle timestamps.
struct Session {
    sim: SimSession,
    expires_at: String,
    server_name: Option<String>,
    server_os: Option<String>,
    associated_at: Option<String>,
    online_since: Option<String>,
    connected_since: Option<String>,
    end: SessionEnd,
}

impl Session {
    fn to_json(&self) -> Value {
        json!({
            "id": self.sim.id,
            "code": self.sim.code,
            "support_portal_link": self.sim.support_portal_link,
            "status": self.sim.status,
            "channel_id": self.sim.channel_id,
            "expires_at": self.expires_at,
            "assignee_email": OWNER_EMAIL,
            "name": self.sim.customer_name,
            "server_name": self.server_name,
            "server_os": self.server_os,
            "associated_at": self.associated_at,
            "online_since": self.online_since,
            "connected_since": self.connected_since,
        })
    }
}

/// Service Desk channels of the simulated team: the private channel (always id 0) and two
/// shared ones.
const CHANNELS: &[(u64, &str, bool)] = &[(3001, "Default", true), (3002, "Tier 2", false)];

/// "A channel holds at most 100 support sessions."
const CHANNEL_CAPACITY: usize = 100;

impl StState {
    fn data(&self) -> MutexGuard<'_, StData> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl StData {
    fn by_code(&mut self, code: &str) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| s.sim.code == code)
    }
}

impl SplashtopSim {
    /// Starts a simulator on a random loopback port that accepts `Bearer <token>`.
    pub async fn start(token: &str) -> Self {
        let bound = Bound::loopback().await;
        let state = Arc::new(StState {
            portal: bound.base_url(),
            team_id: rand::Rng::gen_range(&mut rand::thread_rng(), 100_000..1_000_000),
            data: Mutex::new(StData {
                token: token.to_string(),
                transcripts: true,
                sessions: Vec::new(),
                oauth: oauth::OAuthSim::default(),
            }),
        });
        let faults = Faults::new();
        let router = routes::router(state.clone(), &faults);
        let server = bound.serve(router, faults.halt_token());
        SplashtopSim {
            inner: Arc::new(Handle {
                state,
                faults,
                server,
            }),
        }
    }

    /// API host (`https://webapi.splashtop.com` in production); paths start `/api/open/v1`.
    pub fn base_url(&self) -> String {
        self.inner.server.base_url()
    }

    /// Portal host for end-user links (`https://my.splashtop.com`); the same server here.
    pub fn portal_url(&self) -> String {
        self.inner.state.portal.clone()
    }

    pub fn team_id(&self) -> u64 {
        self.inner.state.team_id
    }

    /// Stops the server now (hung requests are dropped without an answer).
    pub fn shutdown(&self) {
        self.inner.server.shutdown();
    }

    /// Replaces the accepted token (rotation or revocation).
    pub fn set_token(&self, token: &str) {
        self.inner.state.data().token = token.to_string();
    }

    /// Every session created so far, in creation order (deleted ones included).
    pub fn sessions(&self) -> Vec<SimSession> {
        let data = self.inner.state.data();
        data.sessions.iter().map(|s| s.sim.clone()).collect()
    }

    /// The end user's app is up and the technician connected.
    pub fn mark_active(&self, code: &str) -> bool {
        let mut data = self.inner.state.data();
        let Some(s) = data.by_code(code) else {
            return false;
        };
        let now = rfc3339(now_utc());
        s.sim.status = "active".into();
        s.server_name.get_or_insert_with(|| "JANE-PC".into());
        s.server_os.get_or_insert_with(|| "Windows 11 Pro".into());
        s.associated_at.get_or_insert_with(|| now.clone());
        s.online_since.get_or_insert_with(|| now.clone());
        s.connected_since.get_or_insert(now);
        true
    }

    /// The technician ended the session: status `closed`, logs available.
    pub fn end_session(&self, code: &str, end: SessionEnd) -> bool {
        let mut data = self.inner.state.data();
        let Some(s) = data.by_code(code) else {
            return false;
        };
        s.sim.status = "closed".into();
        s.end = end;
        true
    }

    /// The channel's expiry passed before anyone connected: status `expired`.
    pub fn expire_session(&self, code: &str) -> bool {
        let mut data = self.inner.state.data();
        let Some(s) = data.by_code(code) else {
            return false;
        };
        s.sim.status = "expired".into();
        true
    }

    /// Team setting "save chat transcripts"; off makes the chat route answer an empty page.
    pub fn set_transcripts_enabled(&self, on: bool) {
        self.inner.state.data().transcripts = on;
    }

    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }
}

/// Splashtop's envelope with a failure `result` code.
fn failure(status: StatusCode, result: u32, message: &str) -> Response {
    let body = json!({"result": result, "message": message, "data": null});
    (status, Json(body)).into_response()
}

/// Splashtop's envelope around a successful answer.
fn success(data: Value) -> Response {
    Json(json!({"result": 20200, "message": "success", "data": data})).into_response()
}

/// Injected failures phrased as Splashtop answers them: `result` is the HTTP status times 100
/// (the pattern of 40100, 40400, 42900).
struct StErrors;

impl SystemErrors for StErrors {
    fn error(&self, status: StatusCode, _path: &str) -> Response {
        if status == StatusCode::TOO_MANY_REQUESTS {
            return failure(status, 42900, "too many requests");
        }
        let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
        failure(status, u32::from(status.as_u16()) * 100, &reason)
    }

    fn rate_limited(&self, _info: &RateLimitInfo, _path: &str) -> Response {
        failure(StatusCode::TOO_MANY_REQUESTS, 42900, "too many requests")
    }
}

#[cfg(test)]
mod tests;
