//! HTTP routes of the Splashtop simulator: bearer-token auth in front of the `/api/open/v1`
//! handlers, plus the portal page that `support_portal_link` points at. Status codes follow the
//! `result` family (40100/41406 -> 401, 40403 -> 403, 40404 -> 404, 40422 -> 400).

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use bytes::Bytes;
use rand::Rng;
use serde_json::{json, Value};
use std::collections::HashMap;

use super::{
    failure, now_utc, rfc3339, success, Session, SessionEnd, SimSession, StErrors, StState,
    CHANNELS, CHANNEL_CAPACITY,
};
use crate::fault::{self, Faults};

type St = State<Arc<StState>>;

pub(super) fn router(state: Arc<StState>, faults: &Faults) -> Router {
    let team = "/teams/{team_id}";
    let api = Router::new()
        .route("/users/basic_info", get(basic_info))
        .route(&format!("{team}/psa/channel_list"), get(channel_list))
        .route(
            &format!("{team}/psa/support_sessions"),
            post(create_session),
        )
        .route(
            &format!("{team}/psa/support_sessions/{{id}}"),
            get(get_session),
        )
        .route(
            &format!("{team}/psa/support_sessions/{{id}}/action"),
            put(session_action),
        )
        .route(&format!("{team}/logs/{{kind}}"), get(logs))
        .layer(from_fn_with_state(state.clone(), bearer_auth));
    let app = Router::new()
        .nest("/api/open/v1", api)
        .route("/service_desk/psa/{code}", get(portal_page))
        .route("/oauth2/authorize", get(super::oauth::authorize))
        .route("/oauth2/token", post(super::oauth::token))
        .fallback(|| async { failure(StatusCode::NOT_FOUND, 40400, "not found") })
        .method_not_allowed_fallback(|| async {
            failure(StatusCode::METHOD_NOT_ALLOWED, 40500, "method not allowed")
        })
        .with_state(state);
    fault::install(app, faults, StErrors)
}

async fn bearer_auth(State(st): St, req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    let Some(token) = token else {
        return failure(StatusCode::UNAUTHORIZED, 40100, "invalid token");
    };
    let quoted = token.len() >= 2
        && ((token.starts_with('"') && token.ends_with('"'))
            || (token.starts_with('\'') && token.ends_with('\'')));
    if quoted {
        return failure(StatusCode::UNAUTHORIZED, 41406, "invalid token format");
    }
    let known = {
        let data = st.data();
        token == data.token || data.oauth.access_ok(token)
    };
    if !known {
        return failure(StatusCode::UNAUTHORIZED, 40100, "invalid token");
    }
    next.run(req).await
}

fn wrong_params(why: &str) -> Response {
    failure(
        StatusCode::BAD_REQUEST,
        40422,
        &format!("wrong_params: {why}"),
    )
}

fn not_found(what: &str) -> Response {
    failure(StatusCode::NOT_FOUND, 40404, &format!("{what} not found"))
}

/// The team in the path must be the token's team; the error answer otherwise.
fn wrong_team(st: &StState, team: &str) -> Option<Response> {
    match team.parse::<u64>() {
        Ok(t) if t == st.team_id => None,
        _ => Some(not_found("team")),
    }
}

async fn basic_info(State(st): St) -> Response {
    success(json!({
        "email": super::OWNER_EMAIL,
        "name": super::TECHNICIAN,
        "scopes": {
            "psa": {"team_id": st.team_id},
            "users": {"team_id": st.team_id},
        },
    }))
}

async fn channel_list(State(st): St, Path(team): Path<String>) -> Response {
    if let Some(e) = wrong_team(&st, &team) {
        return e;
    }
    let channels: Vec<Value> = CHANNELS
        .iter()
        .map(|(id, name, default)| json!({"id": id, "name": name, "default": default}))
        .collect();
    success(json!({
        "private": {"id": 0, "name": "Private", "default": false},
        "channels": channels,
    }))
}

async fn create_session(State(st): St, Path(team): Path<String>, body: Bytes) -> Response {
    if let Some(e) = wrong_team(&st, &team) {
        return e;
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&body) else {
        return wrong_params("body must be a JSON object");
    };
    let Some(channel_id) = body.get("channel_id").and_then(Value::as_u64) else {
        return wrong_params("channel_id is required");
    };
    let name = match body.get("customer_name").and_then(Value::as_str) {
        Some(n) if !n.trim().is_empty() => n.to_string(),
        _ => return wrong_params("customer_name is required"),
    };
    if name.chars().count() > 64 {
        return wrong_params("customer_name max length is 64");
    }
    let issue = match body.get("customer_issue") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return wrong_params("customer_issue must be a string"),
    };
    if channel_id != 0 && !CHANNELS.iter().any(|(id, _, _)| *id == channel_id) {
        return failure(StatusCode::FORBIDDEN, 40403, "channel not found");
    }
    let mut data = st.data();
    let open = data
        .sessions
        .iter()
        .filter(|s| s.sim.channel_id == channel_id)
        .filter(|s| matches!(s.sim.status.as_str(), "waiting" | "active"))
        .count();
    if open >= CHANNEL_CAPACITY {
        return failure(StatusCode::FORBIDDEN, 40403, "channel is full");
    }
    let code = loop {
        let c = rand::thread_rng()
            .gen_range(100_000_000u32..1_000_000_000)
            .to_string();
        if !data.sessions.iter().any(|s| s.sim.code == c) {
            break c;
        }
    };
    let session = Session {
        sim: SimSession {
            id: uuid::Uuid::new_v4().simple().to_string(),
            support_portal_link: format!("{}/service_desk/psa/{code}", st.portal),
            code,
            status: "waiting".into(),
            customer_name: name,
            customer_issue: issue,
            channel_id,
        },
        // Channel expiry is configurable from 30 minutes to a day; the Default is a day.
        expires_at: rfc3339(now_utc() + time::Duration::days(1)),
        server_name: None,
        server_os: None,
        associated_at: None,
        online_since: None,
        connected_since: None,
        end: SessionEnd::default(),
    };
    let answer = json!({"support_session": session.to_json()});
    data.sessions.push(session);
    success(answer)
}

async fn get_session(State(st): St, Path((team, id)): Path<(String, String)>) -> Response {
    if let Some(e) = wrong_team(&st, &team) {
        return e;
    }
    let data = st.data();
    // Deleted sessions are gone; closed and expired ones still answer with their status.
    match data
        .sessions
        .iter()
        .find(|s| s.sim.id == id && s.sim.status != "deleted")
    {
        Some(s) => success(json!({"support_session": s.to_json()})),
        None => not_found("support session"),
    }
}

async fn session_action(
    State(st): St,
    Path((team, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Some(e) = wrong_team(&st, &team) {
        return e;
    }
    let kind = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("kind").and_then(Value::as_str).map(str::to_string));
    let mut data = st.data();
    let Some(s) = data.sessions.iter_mut().find(|s| s.sim.id == id) else {
        return not_found("support session");
    };
    match (kind.as_deref(), s.sim.status.as_str()) {
        (Some("close" | "delete"), "deleted") => return not_found("support session"),
        (Some("close"), "expired") => return not_found("support session"),
        (Some("close"), _) => s.sim.status = "closed".into(),
        (Some("delete"), _) => s.sim.status = "deleted".into(),
        _ => return wrong_params("kind must be close or delete"),
    }
    success(json!({"support_session": s.to_json()}))
}

/// The three log routes: `sessions`, `file_transfers`, `chat_transcripts`, paged 1-based with
/// `per_page` defaulting to and capped at 100.
async fn logs(
    State(st): St,
    Path((team, kind)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(e) = wrong_team(&st, &team) {
        return e;
    }
    let num = |name: &str, default: usize| match q.get(name) {
        None => Ok(default),
        Some(v) => v.trim().parse::<usize>().ok().filter(|n| *n >= 1).ok_or(()),
    };
    let (Ok(page), Ok(per_page)) = (num("page", 1), num("per_page", 100)) else {
        return wrong_params("page and per_page must be positive integers");
    };
    let per_page = per_page.min(100);
    let data = st.data();
    let wanted = q.get("support_session_id").filter(|v| !v.is_empty());
    let sessions: Vec<&Session> = match wanted {
        Some(id) => match data.sessions.iter().find(|s| &s.sim.id == id) {
            Some(s) => vec![s],
            None => return not_found("support session"),
        },
        None => data.sessions.iter().collect(),
    };
    let rows: Vec<Value> = match kind.as_str() {
        "sessions" => sessions
            .iter()
            .flat_map(|s| s.end.log.iter().map(|r| json!(r)))
            .collect(),
        "file_transfers" => sessions
            .iter()
            .flat_map(|s| s.end.transfers.iter().map(|r| json!(r)))
            .collect(),
        // Transcript saving off at team level: nothing was kept, so nothing to list.
        "chat_transcripts" if !data.transcripts => Vec::new(),
        "chat_transcripts" => sessions
            .iter()
            .flat_map(|s| s.end.chat.iter().map(|r| json!(r)))
            .collect(),
        _ => return failure(StatusCode::NOT_FOUND, 40400, "not found"),
    };
    let total = rows.len();
    let logs: Vec<Value> = rows
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    success(json!({"logs": logs, "page": page, "per_page": per_page, "total": total}))
}

/// The end-user landing page behind `support_portal_link` (the real one offers the SOS app).
async fn portal_page(State(st): St, Path(code): Path<String>) -> Response {
    let known = st.data().sessions.iter().any(|s| s.sim.code == code);
    if !known {
        return (StatusCode::NOT_FOUND, Html("<h1>Session not found</h1>")).into_response();
    }
    Html(format!(
        "<!doctype html><title>Splashtop support session {code}</title>\
         <h1>Join support session</h1><p>Download the SOS app and enter code <b>{code}</b>.</p>"
    ))
    .into_response()
}
