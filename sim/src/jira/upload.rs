//! The JSM two-step attachment flow in the simulator: `attachTemporaryFile` (multipart, parts
//! named `file`, XSRF header required, size checked against `uploadLimit`) and attaching the
//! temporary files to a request (same service desk, not expired, each used once).

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};
use std::time::Instant;

use super::errors::{jsm_error, too_many};
use super::model::{self, Attachment, Comment, TempFile};
use super::routes::{no_request, St};

/// Jira refuses multipart posts without this (XSRF protection), in plain text.
fn xsrf_refused() -> Response {
    (StatusCode::FORBIDDEN, "XSRF check failed").into_response()
}

/// The desk a temporary file goes to, and the upload limit; or Jira's refusal.
fn upload_target(
    st: &super::JiraState,
    desk_id: &str,
    headers: &HeaderMap,
) -> Result<(String, u64), Response> {
    let xsrf = headers
        .get("x-atlassian-token")
        .and_then(|v| v.to_str().ok());
    if !xsrf.is_some_and(|v| v.eq_ignore_ascii_case("no-check")) {
        return Err(xsrf_refused());
    }
    let d = st.data();
    let Some(desk) = d.desk(desk_id).map(|x| x.id.clone()) else {
        return Err(jsm_error(
            StatusCode::NOT_FOUND,
            "The service desk could not be found.",
            "sd.servicedesk.error.not.found",
        ));
    };
    if !d.attachments_enabled {
        return Err(jsm_error(
            StatusCode::FORBIDDEN,
            "Attachments are disabled.",
            "sd.attachment.disabled",
        ));
    }
    Ok((desk, d.upload_limit))
}

fn unreadable(e: impl std::fmt::Display) -> Response {
    jsm_error(
        StatusCode::BAD_REQUEST,
        &format!("The multipart body could not be read: {e}"),
        "sd.attachment.multipart",
    )
}

/// Every part named `file`: (file name, content type, bytes), each within `limit`.
async fn read_files(
    form: &mut Multipart,
    limit: u64,
) -> Result<Vec<(String, String, Bytes)>, Response> {
    let mut files = vec![];
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("file").to_string();
        let mime = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = field.bytes().await.map_err(unreadable)?;
        if bytes.len() as u64 > limit {
            // The platform's documented 413 wording.
            return Err(jsm_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The attachments exceed the maximum attachment size for issues.",
                "sd.attachment.too.large",
            ));
        }
        files.push((name, mime, bytes));
    }
    if files.is_empty() {
        return Err(jsm_error(
            StatusCode::BAD_REQUEST,
            "No file was found in the request (multipart part \"file\").",
            "sd.attachment.no.file",
        ));
    }
    Ok(files)
}

pub(super) async fn temporary_file(
    State(st): St,
    Path(desk_id): Path<String>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let (desk, limit) = match upload_target(&st, &desk_id, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let files = match read_files(&mut form, limit).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let mut d = st.data();
    let mut out = vec![];
    for (file_name, mime_type, bytes) in files {
        let id = format!("temp{}", d.next());
        out.push(json!({"temporaryAttachmentId": id, "fileName": file_name}));
        let at = Instant::now();
        d.temps.insert(
            id,
            TempFile {
                desk_id: desk.clone(),
                file_name,
                mime_type,
                bytes,
                at,
            },
        );
    }
    (
        StatusCode::CREATED,
        Json(json!({"temporaryAttachments": out})),
    )
        .into_response()
}

/// Each id must be a live temporary file of the request's service desk.
fn check_temporary(d: &mut super::JiraData, ids: &[String], desk_id: &str) -> Result<(), Response> {
    let ttl = d.temp_ttl;
    let live = |f: &TempFile| f.desk_id == desk_id && f.at.elapsed() < ttl;
    if let Some(t) = ids.iter().find(|t| !d.temps.get(*t).is_some_and(live)) {
        let msg =
            format!("The temporary attachment {t} does not exist or has expired; upload it again.");
        d.temps.retain(|_, f| f.at.elapsed() < ttl);
        return Err(jsm_error(
            StatusCode::BAD_REQUEST,
            &msg,
            "sd.attachment.temporary.invalid",
        ));
    }
    Ok(())
}

/// The attach body: temporary ids (at least one), visibility (default public), comment.
fn attach_request(body: &[u8]) -> Result<(Vec<String>, bool, Option<String>), Response> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Err(jsm_error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
            "sd.request.body.invalid",
        ));
    };
    let ids: Vec<String> = v
        .get("temporaryAttachmentIds")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(jsm_error(
            StatusCode::BAD_REQUEST,
            "At least one temporary attachment id is required.",
            "sd.attachment.ids.required",
        ));
    }
    let public = v.get("public").and_then(Value::as_bool).unwrap_or(true);
    let comment = v
        .pointer("/additionalComment/body")
        .and_then(Value::as_str)
        .map(String::from);
    Ok((ids, public, comment))
}

pub(super) async fn attach(State(st): St, Path(id): Path<String>, body: Bytes) -> Response {
    let (ids, public, comment) = match attach_request(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let base = st.base_url.clone();
    let mut d = st.data();
    let Some(issue) = d.issue(&id).cloned() else {
        return no_request();
    };
    if let Err(r) = check_temporary(&mut d, &ids, &issue.desk_id) {
        return r;
    }
    if let Err(wait) = d.count_write(&issue.id) {
        return too_many(wait, "jira-per-issue-on-write");
    }
    let now = model::now_ms();
    let mut values = vec![];
    for f in ids
        .iter()
        .filter_map(|t| d.temps.remove(t))
        .collect::<Vec<_>>()
    {
        let a = Attachment {
            id: d.next(),
            issue_id: issue.id.clone(),
            file_name: f.file_name,
            mime_type: f.mime_type,
            bytes: f.bytes,
            public,
            created_ms: now,
        };
        values.push(a.jsm(&base, &st.account));
        d.attachments.push(a);
    }
    let n = values.len();
    let mut out = json!({"attachments": {"_expands": [], "size": n, "start": 0, "limit": n, "isLastPage": true, "_links": {}, "values": values}});
    if let Some(body) = comment {
        let c = Comment {
            id: d.next(),
            issue_id: issue.id.clone(),
            body,
            public,
            created_ms: now,
        };
        out["comment"] = c.dto(&base, &st.account);
        d.comments.push(c);
    }
    (StatusCode::CREATED, Json(out)).into_response()
}
