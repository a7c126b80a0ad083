//! HTTP routes of the Jira simulator: authentication in front of the servicedeskapi handlers
//! (customer request, comments, service desk, request type) and of the platform and upload
//! routes in their own files. Message wordings that Atlassian does not document verbatim are
//! plausible inventions in the right envelope.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::HashMap;

use super::errors::{jsm_error, not_authenticated, platform_error, too_many, JiraErrors};
use super::model::{self, Comment};
use super::{platform, upload, JiraState};
use crate::fault::{self, Faults};

pub(super) type St = State<Arc<JiraState>>;

pub(super) fn router(state: Arc<JiraState>, faults: &Faults) -> Router {
    let api = Router::new()
        .route("/rest/servicedeskapi/request/{id}", get(get_request))
        .route(
            "/rest/servicedeskapi/request/{id}/comment",
            get(list_comments).post(add_comment),
        )
        .route(
            "/rest/servicedeskapi/request/{id}/attachment",
            post(upload::attach),
        )
        .route("/rest/servicedeskapi/servicedesk/{id}", get(get_desk))
        .route(
            "/rest/servicedeskapi/servicedesk/{id}/requesttype/{rt}",
            get(get_request_type),
        )
        .route(
            "/rest/servicedeskapi/servicedesk/{id}/attachTemporaryFile",
            post(upload::temporary_file),
        )
        .route("/rest/api/{v}/issue/{id}", get(platform::get_issue))
        .route(
            "/rest/api/{v}/attachment/meta",
            get(platform::attachment_meta),
        )
        .fallback(unknown)
        // Jira's own limit is the attachment setting, checked by the upload handler.
        .layer(DefaultBodyLimit::disable())
        .layer(from_fn_with_state(state.clone(), authenticate))
        .with_state(state);
    fault::install(api, faults, JiraErrors)
}

/// Basic `email:api_token` (Cloud) or, when configured, `Bearer <PAT>` (Data Center).
async fn authenticate(State(st): St, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let ok = {
        let d = st.data();
        match given.split_once(' ') {
            Some((s, b64)) if s.eq_ignore_ascii_case("basic") => {
                base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .ok()
                    .and_then(|raw| String::from_utf8(raw).ok())
                    .is_some_and(|pair| pair == format!("{}:{}", st.account.email, d.api_token))
            }
            Some((s, token)) if s.eq_ignore_ascii_case("bearer") => {
                d.pat.as_deref().is_some_and(|p| p == token.trim())
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

async fn unknown(req: Request) -> Response {
    let uri = req.uri().path().to_string();
    platform_error(
        StatusCode::NOT_FOUND,
        &[&format!("null for uri: {uri}")],
        json!({}),
    )
}

pub(super) fn no_request() -> Response {
    jsm_error(
        StatusCode::NOT_FOUND,
        "The request could not be found or you do not have permission to view it.",
        "sd.request.error.not.found",
    )
}

async fn get_request(
    State(st): St,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let base = &st.base_url;
    let d = st.data();
    let Some(i) = d.issue(&id).cloned() else {
        return no_request();
    };
    let desk = d.desk_of(&i);
    let expand: Vec<&str> = if d.expand {
        q.get("expand")
            .map(|e| e.split(',').map(str::trim).collect())
            .unwrap_or_default()
    } else {
        vec![]
    };
    let mut v = json!({
        "_expands": ["participant", "status", "sla", "requestType", "serviceDesk", "attachment", "action", "comment"],
        "issueId": i.id,
        "issueKey": i.key,
        "requestTypeId": i.request_type_id,
        "serviceDeskId": i.desk_id,
        "createdDate": model::date_dto(i.created_ms),
        "reporter": model::user_dto(base, &i.reporter.account_id, &i.reporter.name, &i.reporter.email),
        "requestFieldValues": [{"fieldId": "summary", "label": "Summary", "value": i.summary}],
        "currentStatus": {"status": i.status, "statusCategory": "NEW", "statusDate": model::date_dto(i.created_ms)},
        "_links": {
            "jiraRest": format!("{base}/rest/api/2/issue/{}", i.id),
            "web": format!("{base}/servicedesk/customer/portal/{}/{}", i.desk_id, i.key),
            "self": format!("{base}/rest/servicedeskapi/request/{}", i.id),
        },
    });
    if expand.contains(&"requestType") {
        if let Some(rt) = d.request_types.iter().find(|r| r.id == i.request_type_id) {
            v["requestType"] = rt.dto(base);
        }
    }
    if expand.contains(&"serviceDesk") {
        v["serviceDesk"] = desk.dto(base);
    }
    Json(v).into_response()
}

async fn get_desk(State(st): St, Path(id): Path<String>) -> Response {
    match st.data().desk(&id) {
        Some(d) => Json(d.dto(&st.base_url)).into_response(),
        None => jsm_error(
            StatusCode::NOT_FOUND,
            "The service desk could not be found.",
            "sd.servicedesk.error.not.found",
        ),
    }
}

async fn get_request_type(State(st): St, Path((id, rt)): Path<(String, String)>) -> Response {
    let d = st.data();
    let found = d.desk(&id).and_then(|desk| {
        d.request_types
            .iter()
            .find(|r| r.id == rt && r.desk_id == desk.id)
    });
    match found {
        Some(r) => Json(r.dto(&st.base_url)).into_response(),
        None => jsm_error(
            StatusCode::NOT_FOUND,
            "The request type could not be found.",
            "sd.requesttype.error.not.found",
        ),
    }
}

/// A `start`/`limit` query value, or the default; a bad value is a 400 naming it.
pub(super) fn paging(
    q: &HashMap<String, String>,
    name: &str,
    default: usize,
) -> Result<usize, Response> {
    match q.get(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            jsm_error(
                StatusCode::BAD_REQUEST,
                &format!("The {name} parameter must be a number."),
                "sd.paging.error",
            )
        }),
    }
}

/// Paged comments; `public`/`internal` filter (both default true); at most 100 a page.
async fn list_comments(
    State(st): St,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (start, limit) = match (paging(&q, "start", 0), paging(&q, "limit", 50)) {
        (Ok(s), Ok(l)) => (s, l.clamp(1, 100)),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let flag = |n: &str| q.get(n).map(|v| v != "false").unwrap_or(true);
    let (public, internal) = (flag("public"), flag("internal"));
    let base = &st.base_url;
    let d = st.data();
    let Some(i) = d.issue(&id) else {
        return no_request();
    };
    let all: Vec<&Comment> = d
        .comments
        .iter()
        .filter(|c| c.issue_id == i.id && ((c.public && public) || (!c.public && internal)))
        .collect();
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit)
        .map(|c| c.dto(base, &st.account))
        .collect();
    let last = start + page.len() >= all.len();
    let self_link = format!("{base}/rest/servicedeskapi/request/{}/comment", i.id);
    let mut links =
        json!({"base": format!("{base}/rest/servicedeskapi"), "context": "", "self": self_link});
    if !last {
        links["next"] = format!("{self_link}?start={}&limit={limit}", start + limit).into();
    }
    Json(json!({"_expands": [], "size": page.len(), "start": start, "limit": limit, "isLastPage": last, "_links": links, "values": page})).into_response()
}

async fn add_comment(State(st): St, Path(id): Path<String>, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return jsm_error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
            "sd.request.body.invalid",
        );
    };
    let text = v
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if text.trim().is_empty() {
        return jsm_error(
            StatusCode::BAD_REQUEST,
            "The comment body can't be empty.",
            "sd.comment.body.required",
        );
    }
    let Some(public) = v.get("public").and_then(Value::as_bool) else {
        return jsm_error(
            StatusCode::BAD_REQUEST,
            "The comment visibility (public) is required.",
            "sd.comment.public.required",
        );
    };
    let mut d = st.data();
    let Some(issue_id) = d.issue(&id).map(|i| i.id.clone()) else {
        return no_request();
    };
    if let Err(wait) = d.count_write(&issue_id) {
        return too_many(wait, "jira-per-issue-on-write");
    }
    let c = Comment {
        id: d.next(),
        issue_id,
        body: text,
        public,
        created_ms: model::now_ms(),
    };
    d.comments.push(c.clone());
    (StatusCode::CREATED, Json(c.dto(&st.base_url, &st.account))).into_response()
}
