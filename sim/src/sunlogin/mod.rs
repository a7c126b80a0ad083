//! Sunlogin 向日葵 (Oray 贝锐) open API simulator, as `shared/contracts/sunlogin.md` describes it:
//! every call signed with the APP Key/Secret (timestamps within 300 s, nonces single use within
//! 300 s), 身份授权 and 续租授权 handing out JWT AccessTokens with a configurable, possibly very
//! short, `exp` and single-use RefreshTokens, and the three log lists (remote sessions, file
//! transfers, seat log) behind the AccessToken, all in the `{"code","message","data"}` envelope.
//!
//! The simulator's own implementation of the signature is deliberately separate from the
//! product's: this crate does not depend on deskbridge, so a shared mistake cannot pass both
//! sides.
//! Tests and the demo play the agent from outside with [`SunloginSim::start_session`] and
//! [`SunloginSim::end_session`], and the account owner with [`SunloginSim::revoke_tokens`] and
//! [`SunloginSim::set_password`].

mod auth;
mod routes;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::fault::{Faults, RateLimitInfo, SystemErrors};
use super::{Bound, Server};

/// A 查询远程日志列表 row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteLog {
    pub log_id: String,
    pub seat_account: String,
    pub device_id: String,
    pub remote_code: String,
    pub client_ip: String,
    pub start_time: i64,
    /// None while the session runs.
    pub end_time: Option<i64>,
}

/// A 查询文件传输日志 row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileTransfer {
    pub log_id: String,
    pub file_name: String,
    pub size: u64,
    /// "upload" or "download".
    pub direction: String,
    pub time: i64,
}

/// A 查询坐席日志 row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatLog {
    pub seat_account: String,
    pub event: String,
    pub detail: String,
    pub time: i64,
}

/// How often each identity call was answered, and how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCounts {
    /// 身份授权 that succeeded.
    pub authorised: u32,
    /// 身份授权 refused (wrong account or password).
    pub refused_authorise: u32,
    /// 续租授权 that succeeded.
    pub refreshed: u32,
    /// 续租授权 refused: a reused, unknown or revoked RefreshToken.
    pub refused_refresh: u32,
    /// Business calls refused for their AccessToken (401).
    pub refused_access: u32,
    /// Calls refused for their signature, timestamp, nonce or APP Key.
    pub refused_signature: u32,
}

/// Handle to a running Sunlogin simulator; clones share it, and it stops with the last one.
#[derive(Clone)]
pub struct SunloginSim {
    inner: Arc<Handle>,
}

struct Handle {
    state: Arc<SlState>,
    faults: Faults,
    server: Server,
}

pub(crate) struct SlState {
    app_key: String,
    app_secret: String,
    /// Signs the simulator's JWTs.
    jwt_key: [u8; 32],
    data: Mutex<SlData>,
}

pub(crate) struct SlData {
    account: String,
    password: String,
    access_ttl: Duration,
    /// Nonce → Unix seconds when seen; entries older than the window are dropped.
    nonces: HashMap<String, i64>,
    grants: auth::Grants,
    counts: TokenCounts,
    remote: Vec<RemoteLog>,
    transfers: Vec<FileTransfer>,
    seat_logs: Vec<SeatLog>,
    next_log_id: u64,
}

impl SlState {
    fn data(&self) -> MutexGuard<'_, SlData> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) fn now() -> i64 {
    super::unix_secs(std::time::SystemTime::now()) as i64
}

impl SunloginSim {
    /// A simulator for one 贝锐 project (`app_key`, `app_secret`) and one account.
    pub async fn start(app_key: &str, app_secret: &str, account: &str, password: &str) -> Self {
        let bound = Bound::loopback().await;
        let state = Arc::new(SlState {
            app_key: app_key.into(),
            app_secret: app_secret.into(),
            jwt_key: rand::random(),
            data: Mutex::new(SlData {
                account: account.into(),
                password: password.into(),
                access_ttl: Duration::from_secs(7200),
                nonces: HashMap::new(),
                grants: auth::Grants::default(),
                counts: TokenCounts::default(),
                remote: vec![],
                transfers: vec![],
                seat_logs: vec![],
                next_log_id: 880_000_001,
            }),
        });
        let faults = Faults::new();
        let router = routes::router(state.clone(), &faults);
        let server = bound.serve(router, faults.halt_token());
        SunloginSim {
            inner: Arc::new(Handle {
                state,
                faults,
                server,
            }),
        }
    }

    pub fn base_url(&self) -> String {
        self.inner.server.base_url()
    }

    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    pub fn shutdown(&self) {
        self.inner.server.shutdown();
    }

    fn data(&self) -> MutexGuard<'_, SlData> {
        self.inner.state.data()
    }

    /// Lifetime (`exp - iat`) of AccessTokens issued from now on; seconds granularity.
    pub fn set_access_ttl(&self, ttl: Duration) {
        self.data().access_ttl = ttl;
    }

    /// Every token issued so far is dead (the grant is gone); the account still signs in.
    pub fn revoke_tokens(&self) {
        self.data().grants.revoke_all();
    }

    /// The account owner changed the password: every token dies, the old password is refused.
    pub fn set_password(&self, password: &str) {
        let mut d = self.data();
        d.password = password.into();
        d.grants.revoke_all();
    }

    pub fn counts(&self) -> TokenCounts {
        self.data().counts
    }

    /// Every AccessToken and RefreshToken issued so far (to check they never leak).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.data().grants.issued()
    }

    /// The agent connected from `seat` to a device: a running remote-log row (and a seat-log
    /// line). Returns its log id.
    pub fn start_session(&self, seat: &str, device_id: &str, remote_code: &str) -> String {
        self.start_session_at(seat, device_id, remote_code, now())
    }

    /// [`Self::start_session`] at a given start time (Unix seconds), for sessions in the past.
    pub fn start_session_at(
        &self,
        seat: &str,
        device_id: &str,
        remote_code: &str,
        t: i64,
    ) -> String {
        let mut d = self.data();
        let log_id = d.next_log_id.to_string();
        d.next_log_id += 1;
        d.remote.push(RemoteLog {
            log_id: log_id.clone(),
            seat_account: seat.into(),
            device_id: device_id.into(),
            remote_code: remote_code.into(),
            client_ip: "198.51.100.23".into(),
            start_time: t,
            end_time: None,
        });
        d.seat_logs.push(SeatLog {
            seat_account: seat.into(),
            event: "remote_start".into(),
            detail: format!("{device_id} ({remote_code})"),
            time: t,
        });
        log_id
    }

    /// The session ended, with these transfers (file name, size, "upload"/"download").
    pub fn end_session(&self, log_id: &str, transfers: &[(&str, u64, &str)]) -> bool {
        let mut d = self.data();
        let t = now();
        let Some(row) = d.remote.iter_mut().find(|r| r.log_id == log_id) else {
            return false;
        };
        row.end_time = Some(t.max(row.start_time));
        let seat = row.seat_account.clone();
        for (i, (name, size, direction)) in transfers.iter().enumerate() {
            let time = t - (transfers.len() - i) as i64;
            d.transfers.push(FileTransfer {
                log_id: log_id.into(),
                file_name: (*name).into(),
                size: *size,
                direction: (*direction).into(),
                time,
            });
        }
        d.seat_logs.push(SeatLog {
            seat_account: seat,
            event: "remote_end".into(),
            detail: log_id.into(),
            time: t,
        });
        true
    }

    /// Any remote-log row, as written (other seats, earlier sessions).
    pub fn add_remote_log(&self, row: RemoteLog) {
        self.data().remote.push(row);
    }

    pub fn remote_logs(&self) -> Vec<RemoteLog> {
        self.data().remote.clone()
    }
}

/// The envelope around a successful answer.
pub(crate) fn success(data: Value) -> Response {
    Json(json!({"code": 0, "message": "ok", "data": data})).into_response()
}

/// The envelope with an error code.
pub(crate) fn failure(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        Json(json!({"code": code, "message": message, "data": null})),
    )
        .into_response()
}

/// Injected failures in Sunlogin's envelope: the code is the HTTP status times 100.
struct SlErrors;

impl SystemErrors for SlErrors {
    fn error(&self, status: StatusCode, _path: &str) -> Response {
        let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
        failure(status, i64::from(status.as_u16()) * 100, &reason)
    }

    fn rate_limited(&self, _info: &RateLimitInfo, _path: &str) -> Response {
        failure(StatusCode::TOO_MANY_REQUESTS, 42900, "too many requests")
    }
}

#[cfg(test)]
mod tests;
