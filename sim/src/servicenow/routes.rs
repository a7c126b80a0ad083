//! HTTP routes of the ServiceNow simulator: basic auth in front of the Table API and Attachment
//! API handlers, answering in ServiceNow's envelopes. Messages the documentation does not give
//! verbatim (missing upload parameters, refused extension) are plausible inventions in the same
//! envelope and are marked as such.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};

use super::query::{paginate, EncodedQuery, Params};
use super::record::{DisplayMode, Record, Render};
use super::{envelope, sn_now, SnErrors, SnState};
use crate::fault::{self, Faults};
use crate::random_hex;

type St = State<Arc<SnState>>;

pub(super) fn router(state: Arc<SnState>, faults: &Faults) -> Router {
    let api = Router::new()
        .route("/api/now/table/{table}", get(list_table))
        .route(
            "/api/now/table/{table}/{sys_id}",
            get(get_record).patch(update_record).put(update_record),
        )
        .route("/api/now/attachment", get(list_attachments))
        .route("/api/now/attachment/file", post(upload_attachment))
        .route(
            "/api/now/attachment/{sys_id}",
            get(get_attachment).delete(delete_attachment),
        )
        .route(
            "/api/now/attachment/{sys_id}/file",
            get(download_attachment),
        )
        .fallback(unknown_resource)
        .method_not_allowed_fallback(method_not_supported)
        // The instance limit is com.glide.attachment.max_size (1 GB); do not cap below it.
        .layer(DefaultBodyLimit::disable())
        .layer(from_fn_with_state(state.clone(), basic_auth))
        .with_state(state);
    fault::install(api, faults, SnErrors)
}

pub(super) fn not_authenticated() -> Response {
    let mut resp = envelope(
        StatusCode::UNAUTHORIZED,
        "User Not Authenticated",
        Some("Required to provide Auth information"),
    );
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Service-now\""),
    );
    resp
}

async fn basic_auth(State(st): St, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, b64) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(b64.trim())
        })
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .and_then(|raw| String::from_utf8(raw).ok());
    let ok = given.is_some_and(|pair| {
        let password = st.data().password.clone();
        pair.split_once(':')
            .is_some_and(|(u, p)| u == st.username && p == password)
    });
    if ok {
        next.run(req).await
    } else {
        not_authenticated()
    }
}

async fn unknown_resource() -> Response {
    envelope(
        StatusCode::BAD_REQUEST,
        "Requested URI does not represent any resource",
        None,
    )
}

async fn method_not_supported() -> Response {
    envelope(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not Supported",
        Some("The HTTP method is not supported by this API"),
    )
}

fn no_record() -> Response {
    envelope(
        StatusCode::NOT_FOUND,
        "No Record found",
        Some("Record doesn't exist or ACL restricts the record retrieval"),
    )
}

fn invalid_table(table: &str) -> Response {
    envelope(
        StatusCode::BAD_REQUEST,
        &format!("Invalid table {table}"),
        None,
    )
}

fn render_opts<'a>(st: &'a SnState, p: &Params) -> Render<'a> {
    let mut r = st.render(
        DisplayMode::parse(p.get("sysparm_display_value")),
        p.bool("sysparm_exclude_reference_link"),
    );
    r.fields = p.fields();
    r
}

fn result(value: Value) -> Response {
    Json(json!({ "result": value })).into_response()
}

/// A list answer: one page of rows plus `X-Total-Count` and `Link`.
fn list_answer(rows: Vec<Record>, p: &Params, st: &SnState, path: &str, r: &Render) -> Response {
    let query = EncodedQuery::parse(p.get("sysparm_query").unwrap_or(""));
    let page = paginate(query.apply(rows.iter()), p, &st.base_url, path);
    let body: Vec<Value> = page.rows.iter().map(|row| row.render(r)).collect();
    let mut resp = result(Value::Array(body));
    let h = resp.headers_mut();
    h.insert("x-total-count", HeaderValue::from(page.total));
    if let Ok(v) = HeaderValue::from_str(&page.link) {
        h.insert(header::LINK, v);
    }
    resp
}

async fn list_table(State(st): St, Path(table): Path<String>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    let rows: Vec<Record> = {
        let data = st.data();
        match data.rows_of(&table) {
            Some(rows) => rows.into_iter().cloned().collect(),
            None => return invalid_table(&table),
        }
    };
    let path = format!("/api/now/table/{table}");
    list_answer(rows, &p, &st, &path, &render_opts(&st, &p))
}

async fn get_record(
    State(st): St,
    Path((table, sys_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::parse(q.as_deref());
    let data = st.data();
    let Some(rows) = data.rows_of(&table) else {
        return invalid_table(&table);
    };
    match rows.into_iter().find(|r| r.sys_id == sys_id) {
        Some(rec) => result(rec.render(&render_opts(&st, &p))),
        None => no_record(),
    }
}

/// PATCH/PUT: journal fields append a `sys_journal_field` row; plain fields are updated.
async fn update_record(
    State(st): St,
    Path((table, sys_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let p = Params::parse(q.as_deref());
    let Ok(Value::Object(changes)) = serde_json::from_slice::<Value>(&body) else {
        return envelope(
            StatusCode::BAD_REQUEST,
            "Exception while reading request",
            Some("The payload is not valid JSON."),
        );
    };
    let now = sn_now();
    let mut data = st.data();
    if data.rows_of(&table).is_none() {
        return invalid_table(&table);
    }
    let Some(idx) = data
        .records
        .iter()
        .position(|r| r.sys_id == sys_id && (r.table == table || table == "task"))
    else {
        return no_record();
    };
    let record_table = data.records[idx].table.clone();
    for (field, value) in changes {
        let text = match value {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        };
        match field.as_str() {
            // Empty journal input is ignored by ServiceNow; nothing is written.
            "work_notes" | "comments" if text.trim().is_empty() => {}
            "work_notes" | "comments" => data.journal.push(Record::plain(
                "sys_journal_field",
                &[
                    ("sys_id", random_hex(32)),
                    ("element", field.clone()),
                    ("element_id", sys_id.clone()),
                    ("name", record_table.clone()),
                    ("value", text),
                    ("sys_created_on", now.clone()),
                    ("sys_created_by", st.username.clone()),
                    ("sys_tags", String::new()),
                ],
            )),
            f if f.starts_with("sys_") => {}
            f => data.records[idx].set(f, text),
        }
    }
    let rec = &mut data.records[idx];
    let count = rec.plain_value("sys_mod_count").parse::<u64>().unwrap_or(0) + 1;
    rec.set("sys_mod_count", count.to_string());
    rec.set("sys_updated_on", now);
    rec.set("sys_updated_by", st.username.clone());
    result(rec.render(&render_opts(&st, &p)))
}

async fn upload_attachment(
    State(st): St,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::parse(q.as_deref());
    let param = |n: &str| p.get(n).map(str::trim).filter(|v| !v.is_empty());
    let (Some(table), Some(table_sys_id), Some(file_name)) = (
        param("table_name"),
        param("table_sys_id"),
        param("file_name"),
    ) else {
        // Status documented (400 = mandatory parameters missing); wording invented.
        return envelope(
            StatusCode::BAD_REQUEST,
            "Missing mandatory parameter",
            Some("table_name, table_sys_id and file_name are required"),
        );
    };
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
    else {
        // The docs call Content-Type mandatory; wording invented.
        return envelope(
            StatusCode::BAD_REQUEST,
            "Content-Type header is mandatory",
            Some("Specify the content type of the file being attached"),
        );
    };
    let mut data = st.data();
    let exists = data
        .rows_of(table)
        .is_some_and(|rows| rows.iter().any(|r| r.sys_id == table_sys_id));
    if !exists {
        return no_record();
    }
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if data.refused_ext.contains(&ext) {
        // Real instances refuse per glide.attachment.extensions; the exact answer is not
        // documented, so this is a 400 in the usual envelope naming the extension.
        let detail = format!("File extension '{ext}' of {file_name} is not allowed");
        return envelope(
            StatusCode::BAD_REQUEST,
            "Attachment not allowed",
            Some(&detail),
        );
    }
    let sys_id = random_hex(32);
    let now = sn_now();
    let size = body.len().to_string();
    let meta = Record::plain(
        "sys_attachment",
        &[
            ("table_sys_id", table_sys_id.to_string()),
            ("size_bytes", size.clone()),
            (
                "download_link",
                format!("{}/api/now/attachment/{sys_id}/file", st.base_url),
            ),
            ("sys_updated_on", now.clone()),
            ("sys_id", sys_id.clone()),
            ("image_height", String::new()),
            ("sys_created_on", now),
            ("file_name", file_name.to_string()),
            ("sys_created_by", st.username.clone()),
            // Stored uncompressed, so the compressed size is the size.
            ("compressed", "false".into()),
            ("average_image_color", String::new()),
            ("sys_updated_by", st.username.clone()),
            ("sys_tags", String::new()),
            ("table_name", table.to_string()),
            ("image_width", String::new()),
            ("sys_mod_count", "0".into()),
            ("content_type", content_type.to_string()),
            ("size_compressed", size),
        ],
    );
    let rendered = meta.render(&st.render(DisplayMode::Value, false));
    data.blobs
        .insert(sys_id.clone(), (content_type.to_string(), body));
    data.attachments.push(meta);
    let location = format!("{}/api/now/attachment/{sys_id}", st.base_url);
    let mut resp = (StatusCode::CREATED, Json(json!({ "result": rendered }))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

async fn list_attachments(State(st): St, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    let rows = st.data().attachments.clone();
    let r = st.render(DisplayMode::Value, false);
    list_answer(rows, &p, &st, "/api/now/attachment", &r)
}

fn find_attachment(st: &SnState, sys_id: &str) -> Option<Record> {
    st.data()
        .attachments
        .iter()
        .find(|a| a.sys_id == sys_id)
        .cloned()
}

async fn get_attachment(State(st): St, Path(sys_id): Path<String>) -> Response {
    match find_attachment(&st, &sys_id) {
        Some(meta) => result(meta.render(&st.render(DisplayMode::Value, false))),
        None => no_record(),
    }
}

async fn delete_attachment(State(st): St, Path(sys_id): Path<String>) -> Response {
    let mut data = st.data();
    let before = data.attachments.len();
    data.attachments.retain(|a| a.sys_id != sys_id);
    if data.attachments.len() == before {
        return no_record();
    }
    data.blobs.remove(&sys_id);
    StatusCode::NO_CONTENT.into_response()
}

/// The bytes, with their content type and ServiceNow's `X-Attachment-Metadata` header.
async fn download_attachment(State(st): St, Path(sys_id): Path<String>) -> Response {
    let Some(meta) = find_attachment(&st, &sys_id) else {
        return no_record();
    };
    let Some((ct, bytes)) = st.data().blobs.get(&sys_id).cloned() else {
        return no_record();
    };
    let meta_json = meta
        .render(&st.render(DisplayMode::Value, false))
        .to_string();
    let mut resp = Response::new(Body::from(bytes));
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ct) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&meta_json) {
        h.insert("x-attachment-metadata", v);
    }
    resp
}
