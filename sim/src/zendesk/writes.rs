//! The simulator's writes: `PUT /api/v2/tickets/{id}` (tags, fields and one comment, which may
//! carry upload tokens) and the Uploads API. Answers the documentation does not give verbatim
//! (a missing upload parameter, an unknown token, a refused extension, a full ticket) are
//! plausible inventions in Zendesk's envelope and are marked as such.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::routes::{not_found, numeric, param, params, St};
use super::state::{zd_now, zd_time, SimFile, Upload, ZdData};
use super::{envelope, markdown, shapes};
use crate::random_hex;

/// 422 `RecordInvalid` naming the field, in the documented `details` shape.
fn invalid(field: &str, error: &str, description: &str) -> Response {
    let body = json!({"error": "RecordInvalid", "description": "Record validation errors",
        "details": {field: [{"description": description, "error": error}]}});
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => s.split_whitespace().map(String::from).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => vec![],
    }
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Checks a comment against the ticket and takes the files of its upload tokens. Nothing is
/// changed unless every check passes.
fn take_comment(
    data: &mut ZdData,
    ticket: u64,
    c: &Value,
) -> Result<(String, bool, Vec<SimFile>), Response> {
    let body = match (
        c.get("body").and_then(Value::as_str),
        c.get("html_body").and_then(Value::as_str),
    ) {
        (Some(b), _) => b.to_string(),
        (None, Some(h)) => markdown::to_plain(&strip_tags(h)),
        (None, None) => String::new(),
    };
    let tokens = strings(c.get("uploads"));
    if body.trim().is_empty() && tokens.is_empty() {
        // wording invented
        return Err(invalid("comment", "BlankValue", "Comment: cannot be blank"));
    }
    let count = data.tickets.get(&ticket).map_or(0, |t| t.comments.len());
    if count >= data.comment_limit {
        // contract: 422 past the limit; wording invented
        let d = format!(
            "The ticket has reached the maximum of {} comments",
            data.comment_limit
        );
        return Err(invalid("base", "TooManyComments", &d));
    }
    if let Some(bad) = tokens.iter().find(|t| data.live_upload(t).is_none()) {
        // wording invented
        return Err(invalid(
            "uploads",
            "InvalidValue",
            &format!("Upload token {bad} is invalid or expired"),
        ));
    }
    let files = tokens
        .iter()
        .filter_map(|t| data.uploads.remove(t))
        .flat_map(|u| u.files)
        .collect();
    // `public` defaults to true in Zendesk: an internal note must say `"public": false`.
    let public = c.get("public").and_then(Value::as_bool).unwrap_or(true);
    Ok((body, public, files))
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

pub(super) async fn update_ticket(
    State(st): St,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !content_type(&headers).is_some_and(|c| c.starts_with("application/json")) {
        // the docs require it on PUT; status and wording invented
        return envelope(
            StatusCode::BAD_REQUEST,
            "InvalidContentType",
            "Content-Type must be application/json",
        );
    }
    let Some(upd) = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("ticket").filter(|t| t.is_object()).cloned())
    else {
        return envelope(
            StatusCode::BAD_REQUEST,
            "InvalidJSON",
            "The request body must be {\"ticket\": {...}}",
        );
    };
    let mut data = st.data();
    let Some(tid) = numeric(&id).filter(|t| data.tickets.contains_key(t)) else {
        return not_found();
    };
    let comment = match upd.get("comment") {
        Some(c) => match take_comment(&mut data, tid, c) {
            Ok(c) => Some(c),
            Err(resp) => return resp,
        },
        None => None,
    };
    let author = data.agent_id;
    let t = data.tickets.get_mut(&tid).expect("checked above");
    if upd.get("tags").is_some() {
        t.tags = strings(upd.get("tags"));
    }
    for tag in strings(upd.get("additional_tags")) {
        if !t.tags.contains(&tag) {
            t.tags.push(tag);
        }
    }
    let remove = strings(upd.get("remove_tags"));
    t.tags.retain(|x| !remove.contains(x));
    for (key, field) in [("subject", &mut t.subject), ("status", &mut t.status)] {
        if let Some(v) = upd.get(key).and_then(Value::as_str) {
            *field = v.to_string();
        }
    }
    if let Some(p) = upd.get("priority") {
        t.priority = p.as_str().map(String::from);
    }
    t.updated_at = zd_now();
    let mut events = vec![];
    if let Some((body, public, files)) = comment {
        let attachments: Vec<Value> = files
            .iter()
            .map(|f| shapes::attachment(f, &st.base_url))
            .collect();
        let cid = data.push_comment(tid, author, &body, public, files);
        events.push(json!({"id": cid, "type": "Comment", "author_id": author, "body": body, "public": public, "attachments": attachments}));
    }
    let audit_id = data.new_id();
    let t = &data.tickets[&tid];
    let audit = json!({"id": audit_id, "ticket_id": tid, "created_at": t.updated_at, "author_id": author, "events": events});
    Json(json!({"ticket": shapes::ticket(t, &st.base_url), "audit": audit})).into_response()
}

/// `POST /api/v2/uploads?filename=..[&token=..]`, the raw file as the body.
pub(super) async fn upload(
    State(st): St,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = params(q.as_deref());
    let Some(name) = param(&p, "filename")
        .map(str::trim)
        .filter(|n| !n.is_empty())
    else {
        // wording invented
        return envelope(
            StatusCode::BAD_REQUEST,
            "MissingParameter",
            "filename is required",
        );
    };
    // contract: "Content-Type the file's MIME type"; a recognised type has a slash
    let Some(ctype) = content_type(&headers).filter(|c| c.contains('/')) else {
        return invalid(
            "content_type",
            "InvalidValue",
            "Content-Type must be the MIME type of the file",
        );
    };
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let mut data = st.data();
    if data.refused_ext.contains(&ext) {
        // admins can restrict attachment types; wording invented
        return invalid(
            "file",
            "FileTypeNotAllowed",
            &format!("Files of type .{ext} are not allowed on this account"),
        );
    }
    let token = match param(&p, "token") {
        Some(t) if data.live_upload(t).is_some() => t.to_string(),
        // wording invented
        Some(t) => {
            return invalid(
                "token",
                "InvalidValue",
                &format!("Upload token {t} is invalid or expired"),
            )
        }
        None => {
            let t = random_hex(25);
            data.uploads.insert(
                t.clone(),
                Upload {
                    created: std::time::Instant::now(),
                    files: vec![],
                },
            );
            t
        }
    };
    let file = SimFile {
        id: data.new_id(),
        file_name: name.to_string(),
        content_type: ctype.to_string(),
        bytes: body.to_vec(),
    };
    let attachment = shapes::attachment(&file, &st.base_url);
    let up = data
        .uploads
        .get_mut(&token)
        .expect("created or checked above");
    up.files.push(file);
    let expires = crate::now_utc() + super::state::UPLOAD_TTL.saturating_sub(up.created.elapsed());
    let all: Vec<Value> = up
        .files
        .iter()
        .map(|f| shapes::attachment(f, &st.base_url))
        .collect();
    let body = json!({"upload": {"token": token, "expires_at": zd_time(expires), "attachment": attachment, "attachments": all}});
    (StatusCode::CREATED, Json(body)).into_response()
}

/// `DELETE /api/v2/uploads/{token}`: 204, or 404 for an unknown token.
pub(super) async fn delete_upload(State(st): St, Path(token): Path<String>) -> Response {
    match st
        .data()
        .uploads
        .remove(token.strip_suffix(".json").unwrap_or(&token))
    {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(),
    }
}
