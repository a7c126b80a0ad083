//! HTTP routes of the Zendesk simulator: auth in front of the Tickets, Groups, Users, Brands
//! and Uploads routes, each answering in Zendesk's shapes. Paths are accepted with or without
//! the `.json` suffix, as Zendesk accepts them. Writes live in `writes.rs`.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::json;

use super::state::ZdState;
use super::{envelope, shapes, writes, ZdErrors};
use crate::fault::{self, Faults};

pub(super) type St = State<Arc<ZdState>>;

pub(super) fn router(state: Arc<ZdState>, faults: &Faults) -> Router {
    let api = Router::new()
        .route(
            "/api/v2/tickets/{id}",
            get(show_ticket).put(writes::update_ticket),
        )
        .route("/api/v2/tickets/{id}/{list}", get(list_comments))
        .route("/api/v2/groups/{id}", get(show_group))
        .route("/api/v2/brands/{id}", get(show_brand))
        .route("/api/v2/users/me", get(show_me))
        .route("/api/v2/users/{id}", get(show_user))
        .route("/api/v2/uploads", post(writes::upload))
        .route("/api/v2/uploads.json", post(writes::upload))
        .route("/api/v2/uploads/{token}", delete(writes::delete_upload))
        .fallback(|| async { envelope(StatusCode::NOT_FOUND, "InvalidEndpoint", "Not found") })
        // Zendesk's own attachment limit is far above anything deskbridge sends.
        .layer(DefaultBodyLimit::disable())
        .layer(from_fn_with_state(state.clone(), auth))
        .with_state(state);
    fault::install(api, faults, ZdErrors)
}

pub(super) fn not_authenticated() -> Response {
    let mut resp = (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "Couldn't authenticate you"})),
    )
        .into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Web Password\""),
    );
    resp
}

/// Basic `{email}/token:{api_token}`, or a bearer token when one is allowed.
async fn auth(State(st): St, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ok = {
        let data = st.data();
        match given.split_once(' ') {
            Some((s, b64)) if s.eq_ignore_ascii_case("basic") => {
                base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .ok()
                    .and_then(|raw| String::from_utf8(raw).ok())
                    .is_some_and(|pair| pair == format!("{}/token:{}", data.email, data.api_token))
            }
            Some((s, tok)) if s.eq_ignore_ascii_case("bearer") => {
                data.bearer.as_deref() == Some(tok.trim())
            }
            _ => false,
        }
    };
    if ok {
        next.run(req).await
    } else {
        not_authenticated()
    }
}

/// `35436` or `35436.json` → 35436.
pub(super) fn numeric(raw: &str) -> Option<u64> {
    raw.strip_suffix(".json").unwrap_or(raw).parse().ok()
}

pub(super) fn not_found() -> Response {
    envelope(StatusCode::NOT_FOUND, "RecordNotFound", "Not found")
}

/// `?a=1&b=x%20y` → pairs, percent-decoded.
pub(super) fn params(q: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

pub(super) fn param<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn show_ticket(State(st): St, Path(id): Path<String>) -> Response {
    let data = st.data();
    match numeric(&id).and_then(|id| data.tickets.get(&id)) {
        Some(t) => Json(json!({"ticket": shapes::ticket(t, &st.base_url)})).into_response(),
        None => not_found(),
    }
}

/// `GET /api/v2/tickets/{id}/comments[.json]?page=&per_page=`: oldest first, `per_page` at
/// most 100, `next_page`/`previous_page` as absolute URLs with the `.json` suffix.
async fn list_comments(
    State(st): St,
    Path((id, list)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    if list != "comments" && list != "comments.json" {
        return envelope(StatusCode::NOT_FOUND, "InvalidEndpoint", "Not found");
    }
    let p = params(q.as_deref());
    let per_page = param(&p, "per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 100);
    let page = param(&p, "page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let data = st.data();
    let Some(t) = numeric(&id).and_then(|id| data.tickets.get(&id)) else {
        return not_found();
    };
    let total = t.comments.len();
    let rows: Vec<_> = t
        .comments
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|c| shapes::comment(c, &st.base_url))
        .collect();
    let url = |n: usize| {
        format!(
            "{}/api/v2/tickets/{}/comments.json?page={n}&per_page={per_page}",
            st.base_url, t.id
        )
    };
    let next = (page * per_page < total).then(|| url(page + 1));
    let previous = (page > 1).then(|| url(page - 1));
    Json(json!({"comments": rows, "next_page": next, "previous_page": previous, "count": total}))
        .into_response()
}

async fn show_group(State(st): St, Path(id): Path<String>) -> Response {
    let data = st.data();
    match numeric(&id).and_then(|id| data.groups.iter().find(|(g, _)| *g == id)) {
        Some((id, name)) => {
            Json(json!({"group": shapes::named("group", *id, name, &st.base_url)})).into_response()
        }
        None => not_found(),
    }
}

async fn show_brand(State(st): St, Path(id): Path<String>) -> Response {
    let data = st.data();
    match numeric(&id).and_then(|id| data.brands.iter().find(|(b, _)| *b == id)) {
        Some((id, name)) => {
            Json(json!({"brand": shapes::named("brand", *id, name, &st.base_url)})).into_response()
        }
        None => not_found(),
    }
}

/// "Show Self": the user the credentials belong to (the integration agent).
async fn show_me(State(st): St) -> Response {
    let data = st.data();
    match data.user(data.agent_id) {
        Some(u) => Json(json!({"user": shapes::user(u, &st.base_url)})).into_response(),
        None => not_found(),
    }
}

async fn show_user(State(st): St, Path(id): Path<String>) -> Response {
    let data = st.data();
    match numeric(&id).and_then(|id| data.user(id)) {
        Some(u) => Json(json!({"user": shapes::user(u, &st.base_url)})).into_response(),
        None => not_found(),
    }
}
