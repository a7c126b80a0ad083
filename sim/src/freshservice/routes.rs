//! HTTP routes of the Freshservice simulator: basic auth (API key as user, any password) and
//! `X-RateLimit-*` headers in front of the ticket, note, conversation, group, requester and
//! agent handlers. Messages the sources do not give verbatim (a missing note body, the size
//! limit, page size) are plausible inventions in the shipped validation envelope.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};

use super::{render, validation, FsErrors, FsState, NoteRec, PLAN_PER_MINUTE};
use crate::fault::{self, Faults};

pub(super) type St = State<Arc<FsState>>;

/// The `include` values the shipped 400 fixture lists as accepted.
const INCLUDES: [&str; 11] = [
    "tags",
    "conversations",
    "requester",
    "stats",
    "problem",
    "assets",
    "change",
    "related_tickets",
    "requested_for",
    "department",
    "feedback",
];
/// The agent the API key belongs to: the author of every note it writes.
pub(super) const API_USER_ID: u64 = 1_000_000_001;

pub(super) fn router(state: Arc<FsState>, faults: &Faults) -> Router {
    let api = Router::new()
        .route("/api/v2/tickets", get(list_tickets))
        .route("/api/v2/tickets/{id}", get(view_ticket))
        .route(
            "/api/v2/tickets/{id}/notes",
            post(super::notes::create_note),
        )
        .route(
            "/api/v2/tickets/{id}/conversations",
            get(list_conversations),
        )
        .route("/api/v2/groups/{id}", get(view_group))
        .route("/api/v2/requesters/{id}", get(view_requester))
        .route("/api/v2/agents/{id}", get(view_agent))
        .route("/helpdesk/attachments/{id}", get(download))
        .fallback(|| async { not_found() })
        .method_not_allowed_fallback(|| async {
            super::errors(
                StatusCode::METHOD_NOT_ALLOWED,
                None,
                json!([{"message": "Method not allowed", "code": "method_not_allowed"}]),
            )
        })
        // Notes carry files up to the ticket's limit; the request itself is not capped lower.
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
        .layer(from_fn_with_state(state.clone(), basic_auth))
        .layer(from_fn_with_state(state.clone(), rate_headers))
        .with_state(state);
    fault::install(api, faults, FsErrors)
}

pub(super) fn not_authenticated() -> Response {
    let body = json!({"code": "invalid_credentials", "message": "You have to be logged in to perform this action."});
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

/// A record that does not exist: 404 with no body (assumed, as Freshdesk answers).
pub(super) fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

async fn basic_auth(State(st): St, req: Request, next: Next) -> Response {
    let user = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| pair.split_once(':').map(|(u, _)| u.to_string()));
    let ok = user.is_some_and(|u| !u.is_empty() && u == st.data().api_key);
    if ok {
        next.run(req).await
    } else {
        not_authenticated()
    }
}

/// Every answer, failed ones included, reports the account's budget for the minute.
async fn rate_headers(State(st): St, req: Request, next: Next) -> Response {
    let used = {
        let mut m = st.minute.lock().unwrap_or_else(|e| e.into_inner());
        if m.0.elapsed() >= Duration::from_secs(60) {
            *m = (Instant::now(), 0);
        }
        m.1 += 1;
        m.1
    };
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert("x-ratelimit-total", HeaderValue::from(PLAN_PER_MINUTE));
    h.insert(
        "x-ratelimit-remaining",
        HeaderValue::from(PLAN_PER_MINUTE.saturating_sub(used)),
    );
    h.insert("x-ratelimit-used-currentrequest", HeaderValue::from(1u32));
    resp
}

fn params(q: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn param<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn view_ticket(State(st): St, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    let p = params(q.as_deref());
    let include: Vec<&str> = param(&p, "include")
        .map(|i| i.split(',').map(str::trim).collect())
        .unwrap_or_default();
    if include.iter().any(|i| !INCLUDES.contains(i)) {
        let msg = format!(
            "It should be one of these values: '{}'",
            INCLUDES.join(", ")
        );
        return validation("include", &msg, "invalid_value");
    }
    let d = st.data();
    let Some(t) = id.parse().ok().and_then(|id: u64| d.tickets.get(&id)) else {
        return not_found();
    };
    let mut v = render::ticket(t, &st.base_url, include.contains(&"tags"));
    if include.contains(&"requester") {
        v["requester"] = render::embedded_requester(&d, t);
    }
    if include.contains(&"conversations") {
        let list: Vec<Value> = d
            .notes
            .iter()
            .filter(|n| n.ticket_id == t.id)
            .take(10)
            .map(|n| render::conversation(n, API_USER_ID, &st.base_url))
            .collect();
        v["conversations"] = list.into();
    }
    Json(json!({ "ticket": v })).into_response()
}

/// "List all tickets", newest first, `per_page` (1-100, default 30) at a time; first page only.
async fn list_tickets(State(st): St, RawQuery(q): RawQuery) -> Response {
    let p = params(q.as_deref());
    let per_page = match param(&p, "per_page").map(str::parse::<usize>) {
        None => 30,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            return validation(
                "per_page",
                "It should be a number between 1 and 100",
                "invalid_value",
            )
        }
    };
    let d = st.data();
    let list: Vec<Value> = d
        .tickets
        .values()
        .rev()
        .take(per_page)
        .map(|t| render::ticket(t, &st.base_url, false))
        .collect();
    Json(json!({ "tickets": list })).into_response()
}

async fn view_group(State(st): St, Path(id): Path<String>) -> Response {
    let d = st.data();
    match id.parse().ok().and_then(|id: u64| d.groups.get(&id).map(|n| (id, n))) {
        Some((id, name)) => Json(json!({"group": {
            "id": id, "name": name, "description": null, "escalate_to": null, "unassigned_for": "30m",
            "business_hours_id": null, "agent_ids": [], "members": [], "observers": [], "restricted": false,
            "approval_required": false, "auto_ticket_assign": false,
            "created_at": "2024-01-02T09:00:00Z", "updated_at": "2024-01-02T09:00:00Z",
        }}))
        .into_response(),
        None => not_found(),
    }
}

async fn view_requester(State(st): St, Path(id): Path<String>) -> Response {
    let d = st.data();
    match id.parse().ok().and_then(|id: u64| d.requesters.get(&id)) {
        Some(p) => Json(json!({"requester": render::person(p, false)})).into_response(),
        None => not_found(),
    }
}

async fn view_agent(State(st): St, Path(id): Path<String>) -> Response {
    let d = st.data();
    match id.parse().ok().and_then(|id: u64| d.agents.get(&id)) {
        Some(p) => Json(json!({"agent": render::person(p, true)})).into_response(),
        None => not_found(),
    }
}

async fn download(State(st): St, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return not_found();
    };
    let d = st.data();
    let own = d.tickets.values().flat_map(|t| t.files.iter());
    let notes = d.notes.iter().flat_map(|n| n.note.attachments.iter());
    match own.chain(notes).find(|f| f.id == id) {
        Some(f) => (
            [(header::CONTENT_TYPE, f.content_type.clone())],
            f.bytes.clone(),
        )
            .into_response(),
        None => not_found(),
    }
}

async fn list_conversations(
    State(st): St,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let p = params(q.as_deref());
    let page = match param(&p, "page").map(str::parse::<usize>) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => {
            return validation(
                "page",
                "It should be a/an Positive Integer",
                "datatype_mismatch",
            )
        }
    };
    let per_page = match param(&p, "per_page").map(str::parse::<usize>) {
        None => 30,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            return validation(
                "per_page",
                "It should be a Positive Integer less than or equal to 100",
                "invalid_value",
            )
        }
    };
    let d = st.data();
    let Some(t) = id.parse().ok().and_then(|id: u64| d.tickets.get(&id)) else {
        return not_found();
    };
    let all: Vec<&NoteRec> = d.notes.iter().filter(|n| n.ticket_id == t.id).collect();
    let start = (page - 1).saturating_mul(per_page).min(all.len());
    let end = (start + per_page).min(all.len());
    let list: Vec<Value> = all[start..end]
        .iter()
        .map(|n| render::conversation(n, API_USER_ID, &st.base_url))
        .collect();
    let mut resp = Json(json!({ "conversations": list })).into_response();
    if end < all.len() {
        let next = format!(
            "<{}/api/v2/tickets/{}/conversations?page={}&per_page={per_page}>; rel=\"next\"",
            st.base_url,
            t.id,
            page + 1
        );
        if let Ok(v) = HeaderValue::from_str(&next) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    resp
}
