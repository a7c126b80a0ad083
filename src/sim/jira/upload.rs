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

pub(super) async fn temporary_file(
    State(st): St,
    Path(desk_id): Path<String>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let xsrf = headers
        .get("x-atlassian-token")
        .and_then(|v| v.to_str().ok());
    if !xsrf.is_some_and(|v| v.eq_ignore_ascii_case("no-check")) {
        return xsrf_refused();
    }
    let (desk, limit, enabled) = {
        let d = st.data();
        (
            d.desk(&desk_id).map(|x| x.id.clone()),
            d.upload_limit,
            d.attachments_enabled,
        )
    };
    let Some(desk) = desk else {
        return jsm_error(
            StatusCode::NOT_FOUND,
            "The service desk could not be found.",
            "sd.servicedesk.error.not.found",
        );
    };
    if !enabled {
        return jsm_error(
            StatusCode::FORBIDDEN,
            "Attachments are disabled.",
            "sd.attachment.disabled",
        );
    }
    let mut files = vec![];
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return jsm_error(
                    StatusCode::BAD_REQUEST,
                    &format!("The multipart body could not be read: {e}"),
                    "sd.attachment.multipart",
                )
            }
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("file").to_string();
        let mime = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return jsm_error(
                    StatusCode::BAD_REQUEST,
                    &format!("The multipart body could not be read: {e}"),
                    "sd.attachment.multipart",
                )
            }
        };
        if bytes.len() as u64 > limit {
            // The platform's documented 413 wording.
            return jsm_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The attachments exceed the maximum attachment size for issues.",
                "sd.attachment.too.large",
            );
        }
        files.push((name, mime, bytes));
    }
    if files.is_empty() {
        return jsm_error(
            StatusCode::BAD_REQUEST,
            "No file was found in the request (multipart part \"file\").",
            "sd.attachment.no.file",
        );
    }
    let mut d = st.data();
    let mut out = vec![];
    for (file_name, mime_type, bytes) in files {
        let id = format!("temp{}", d.next());
        out.push(json!({"temporaryAttachmentId": id, "fileName": file_name}));
        d.temps.insert(
            id,
            TempFile {
                desk_id: desk.clone(),
                file_name,
                mime_type,
                bytes,
                at: Instant::now(),
            },
        );
    }
    (
        StatusCode::CREATED,
        Json(json!({"temporaryAttachments": out})),
    )
        .into_response()
}

pub(super) async fn attach(State(st): St, Path(id): Path<String>, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return jsm_error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
            "sd.request.body.invalid",
        );
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
        return jsm_error(
            StatusCode::BAD_REQUEST,
            "At least one temporary attachment id is required.",
            "sd.attachment.ids.required",
        );
    }
    let public = v.get("public").and_then(Value::as_bool).unwrap_or(true);
    let comment = v
        .pointer("/additionalComment/body")
        .and_then(Value::as_str)
        .map(String::from);
    let base = st.base_url.clone();
    let mut d = st.data();
    let Some(issue) = d.issue(&id).cloned() else {
        return no_request();
    };
    let ttl = d.temp_ttl;
    for t in &ids {
        let usable = d
            .temps
            .get(t)
            .is_some_and(|f| f.desk_id == issue.desk_id && f.at.elapsed() < ttl);
        if !usable {
            d.temps.retain(|_, f| f.at.elapsed() < ttl);
            let msg = format!(
                "The temporary attachment {t} does not exist or has expired; upload it again."
            );
            return jsm_error(
                StatusCode::BAD_REQUEST,
                &msg,
                "sd.attachment.temporary.invalid",
            );
        }
    }
    if let Err(wait) = d.count_write(&issue.id) {
        return too_many(wait, "jira-per-issue-on-write");
    }
    let now = model::now_ms();
    let mut values = vec![];
    for t in ids {
        let Some(f) = d.temps.remove(&t) else {
            continue;
        };
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
    let mut out = json!({"attachments": {"_expands": [], "size": values.len(), "start": 0, "limit": values.len(), "isLastPage": true, "_links": {}, "values": values}});
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
