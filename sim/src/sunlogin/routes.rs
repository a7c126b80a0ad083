//! Routes of the Sunlogin simulator (paths as `shared/contracts/sunlogin.md` gives them): the
//! two identity calls, and the three log lists behind the AccessToken, paged with
//! `page` (from 1) and `page_size` (at most 100) into `data {list, total}`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use serde_json::{json, Value};

use super::auth::{require_access, verify_signature};
use super::{failure, success, SlErrors, SlState};
use crate::fault::{self, Faults};

type St = State<Arc<SlState>>;
type Params = Query<HashMap<String, String>>;

pub(super) fn router(state: Arc<SlState>, faults: &Faults) -> Router {
    let business = Router::new()
        .route("/api/v1/logs/remote", get(remote_logs))
        .route("/api/v1/logs/file_transfer", get(file_transfers))
        .route("/api/v1/seats/logs", get(seat_logs))
        .layer(from_fn_with_state(state.clone(), require_access));
    let app = Router::new()
        .route("/api/v1/auth/authorize", post(authorize))
        .route("/api/v1/auth/refresh", post(refresh))
        .merge(business)
        .fallback(|| async { failure(StatusCode::NOT_FOUND, 40400, "no such API") })
        .layer(from_fn_with_state(state.clone(), verify_signature))
        .with_state(state);
    fault::install(app, faults, SlErrors)
}

fn bad_request(msg: &str) -> Response {
    failure(StatusCode::BAD_REQUEST, 40000, msg)
}

fn json_body(body: &Bytes) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

fn pair_answer(access: String, refresh: String) -> Response {
    success(json!({"access_token": access, "refresh_token": refresh}))
}

/// 身份授权.
async fn authorize(State(st): St, body: Bytes) -> Response {
    let Some(b) = json_body(&body) else {
        return bad_request("body must be a JSON object");
    };
    let (Some(account), Some(password)) = (
        b.get("account").and_then(Value::as_str),
        b.get("password").and_then(Value::as_str),
    ) else {
        return bad_request("account and password are required");
    };
    let mut d = st.data();
    if account != d.account || password != d.password {
        d.counts.refused_authorise += 1;
        return failure(
            StatusCode::UNAUTHORIZED,
            40100,
            "account or password is wrong",
        );
    }
    let ttl = d.access_ttl.as_secs() as i64;
    let (access, refresh) = d.grants.issue(&st.jwt_key, account, ttl);
    d.counts.authorised += 1;
    pair_answer(access, refresh)
}

/// 续租授权: the RefreshToken is single use; its pair dies and a new one is issued.
async fn refresh(State(st): St, body: Bytes) -> Response {
    let Some(token) = json_body(&body).and_then(|b| {
        b.get("refresh_token")
            .and_then(Value::as_str)
            .map(String::from)
    }) else {
        return bad_request("refresh_token is required");
    };
    let mut d = st.data();
    if let Err(msg) = d.grants.redeem(&token) {
        d.counts.refused_refresh += 1;
        return failure(StatusCode::UNAUTHORIZED, 40102, msg);
    }
    let (ttl, account) = (d.access_ttl.as_secs() as i64, d.account.clone());
    let (access, refresh) = d.grants.issue(&st.jwt_key, &account, ttl);
    d.counts.refreshed += 1;
    pair_answer(access, refresh)
}

/// A query parameter as an integer; the error is the message of the 400.
fn number(q: &HashMap<String, String>, name: &str) -> Result<Option<i64>, String> {
    match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} must be an integer")),
    }
}

/// `data {list, total}` for one page of `rows`.
fn page(q: &HashMap<String, String>, rows: Vec<Value>) -> Response {
    let (page, size) = match (number(q, "page"), number(q, "page_size")) {
        (Ok(p), Ok(s)) => (p.unwrap_or(1), s.unwrap_or(20)),
        (Err(e), _) | (_, Err(e)) => return bad_request(&e),
    };
    if page < 1 || !(1..=100).contains(&size) {
        return bad_request("page must be at least 1 and page_size between 1 and 100");
    }
    let total = rows.len();
    let list: Vec<Value> = rows
        .into_iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
        .collect();
    success(json!({"list": list, "total": total, "page": page, "page_size": size}))
}

/// start_time and end_time, both required.
fn window(q: &HashMap<String, String>) -> Result<(i64, i64), String> {
    match (number(q, "start_time")?, number(q, "end_time")?) {
        (Some(s), Some(e)) if s <= e => Ok((s, e)),
        (Some(_), Some(_)) => Err("start_time is after end_time".into()),
        _ => Err("start_time and end_time are required".into()),
    }
}

/// 查询远程日志列表: sessions that started in the window, newest first.
async fn remote_logs(State(st): St, Query(q): Params) -> Response {
    let (from, to) = match window(&q) {
        Ok(w) => w,
        Err(e) => return bad_request(&e),
    };
    let mut rows: Vec<_> = st
        .data()
        .remote
        .iter()
        .filter(|r| r.start_time >= from && r.start_time <= to)
        .cloned()
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.start_time));
    page(
        &q,
        rows.into_iter()
            .map(|r| json!(r))
            .map(with_duration)
            .collect(),
    )
}

fn with_duration(mut v: Value) -> Value {
    let d = match (v["start_time"].as_i64(), v["end_time"].as_i64()) {
        (Some(s), Some(e)) => json!(e - s),
        _ => Value::Null,
    };
    v["duration"] = d;
    v
}

/// 查询文件传输日志 of one session.
async fn file_transfers(State(st): St, Query(q): Params) -> Response {
    let Some(log_id) = q.get("log_id").filter(|v| !v.is_empty()).cloned() else {
        return bad_request("log_id is required");
    };
    let rows = st
        .data()
        .transfers
        .iter()
        .filter(|t| t.log_id == log_id)
        .map(|t| json!(t))
        .collect();
    page(&q, rows)
}

/// 查询坐席日志 of one seat in the window.
async fn seat_logs(State(st): St, Query(q): Params) -> Response {
    let Some(seat) = q.get("seat").filter(|v| !v.is_empty()).cloned() else {
        return bad_request("seat is required");
    };
    let (from, to) = match window(&q) {
        Ok(w) => w,
        Err(e) => return bad_request(&e),
    };
    let rows = st
        .data()
        .seat_logs
        .iter()
        .filter(|s| s.seat_account == seat && s.time >= from && s.time <= to)
        .map(|s| json!(s))
        .collect();
    page(&q, rows)
}
