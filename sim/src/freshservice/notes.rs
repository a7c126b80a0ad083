//! `POST /api/v2/tickets/{id}/notes` of the Freshservice simulator: a note as JSON, or as
//! `multipart/form-data` with `body`, `private` and repeated `attachments[]` file parts. The
//! ticket's total attachment size (its own files and every note's) is capped; a note that
//! would pass the cap is refused whole, with the validation envelope naming `attachments`.

use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::routes::{not_found, St, API_USER_ID};
use super::{errors, html, render, validation, FsState, NoteRec, SimFile, SimNote};

/// A note as posted: JSON or multipart, with its files.
#[derive(Default)]
struct NoteInput {
    body: Option<String>,
    private: Option<bool>,
    files: Vec<(String, String, Vec<u8>)>,
}

fn read_bool(field: &str, s: &str) -> Result<bool, Response> {
    match s.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(validation(
            field,
            "It should be a/an Boolean",
            "datatype_mismatch",
        )),
    }
}

async fn read_json_note(req: Request) -> Result<NoteInput, Response> {
    let bytes = axum::body::to_bytes(req.into_body(), usize::MAX)
        .await
        .map_err(|_| StatusCode::BAD_REQUEST.into_response())?;
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&bytes) else {
        return Err(errors(
            StatusCode::BAD_REQUEST,
            None,
            json!([{"message": "Request body has invalid json format", "code": "invalid_json"}]),
        ));
    };
    let mut input = NoteInput::default();
    for (k, v) in map {
        match (k.as_str(), v) {
            ("body", Value::String(s)) => input.body = Some(s),
            ("body", _) => {
                return Err(validation(
                    "body",
                    "It should be a/an String",
                    "datatype_mismatch",
                ))
            }
            ("private", Value::Bool(b)) => input.private = Some(b),
            ("private", _) => {
                return Err(validation(
                    "private",
                    "It should be a/an Boolean",
                    "datatype_mismatch",
                ))
            }
            ("incoming" | "notify_emails" | "user_id", _) => {}
            (other, _) => {
                return Err(validation(
                    other,
                    "Unexpected/invalid field in request",
                    "invalid_field",
                ))
            }
        }
    }
    Ok(input)
}

async fn read_multipart_note(st: &Arc<FsState>, req: Request) -> Result<NoteInput, Response> {
    let bad = |e: String| {
        errors(
            StatusCode::BAD_REQUEST,
            None,
            json!([{"message": e, "code": "invalid_value"}]),
        )
    };
    let mut mp = Multipart::from_request(req, st)
        .await
        .map_err(|e| bad(e.body_text()))?;
    let mut input = NoteInput::default();
    while let Some(field) = mp.next_field().await.map_err(|e| bad(e.body_text()))? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "body" => input.body = Some(field.text().await.map_err(|e| bad(e.body_text()))?),
            "private" => {
                input.private = Some(read_bool(
                    "private",
                    &field.text().await.map_err(|e| bad(e.body_text()))?,
                )?)
            }
            "attachments[]" => {
                let Some(file_name) = field.file_name().map(String::from) else {
                    return Err(validation(
                        "attachments",
                        "It should be a/an File",
                        "datatype_mismatch",
                    ));
                };
                let ct = field
                    .content_type()
                    .map(String::from)
                    .unwrap_or_else(|| render::content_type(&file_name));
                let bytes = field.bytes().await.map_err(|e| bad(e.body_text()))?;
                input.files.push((file_name, ct, bytes.to_vec()));
            }
            "incoming" | "notify_emails[]" | "user_id" => {}
            other => {
                return Err(validation(
                    other,
                    "Unexpected/invalid field in request",
                    "invalid_field",
                ))
            }
        }
    }
    Ok(input)
}

pub(super) async fn create_note(State(st): St, Path(id): Path<String>, req: Request) -> Response {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let input = if ct.starts_with("multipart/form-data") {
        read_multipart_note(&st, req).await
    } else if ct.starts_with("application/json") {
        read_json_note(req).await
    } else {
        let msg = "Content-Type header should have application/json or multipart/form-data";
        return errors(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            json!([{"message": msg, "code": "invalid_content_type"}]),
        );
    };
    let input = match input {
        Ok(i) => i,
        Err(resp) => return resp,
    };
    let Some(body) = input.body.filter(|b| !b.trim().is_empty()) else {
        return validation("body", "It should not be blank", "missing_field");
    };
    let mut d = st.data();
    let Some(ticket_id) = id
        .parse()
        .ok()
        .filter(|id: &u64| d.tickets.contains_key(id))
    else {
        return not_found();
    };
    let adding: usize = input.files.iter().map(|f| f.2.len()).sum();
    if d.used(ticket_id) + adding as u64 > d.attachment_limit {
        let mb = d.attachment_limit as f64 / (1024.0 * 1024.0);
        let msg = format!("The total size of all the ticket's attachments (not just this note) cannot exceed {mb:.0}MB");
        return validation("attachments", &msg, "invalid_value");
    }
    let files = input
        .files
        .into_iter()
        .map(|(name, content_type, bytes)| SimFile {
            id: d.id(),
            name,
            content_type,
            bytes,
        })
        .collect();
    let note = SimNote {
        id: d.id(),
        body_text: html::text_of(&body),
        body,
        private: input.private.unwrap_or(true),
        attachments: files,
    };
    let rec = NoteRec {
        ticket_id,
        note,
        incoming: false,
        created_at: render::now(),
    };
    let answer = render::conversation(&rec, API_USER_ID, &st.base_url);
    d.notes.push(rec);
    if let Some(t) = d.tickets.get_mut(&ticket_id) {
        t.updated_at = render::now();
    }
    (StatusCode::CREATED, Json(json!({ "conversation": answer }))).into_response()
}
