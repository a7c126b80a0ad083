//! The platform REST routes the simulator serves: the issue read (`fields` filtered, with
//! `attachment`) and the attachment settings (`uploadLimit`), under `/rest/api/2` and, on a
//! Cloud site only, `/rest/api/3`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;

use super::errors::platform_error;
use super::model;
use super::routes::St;

/// `2` always; `3` only on Cloud (Data Center has no v3).
fn version_ok(v: &str, data_center: bool) -> bool {
    v == "2" || (v == "3" && !data_center)
}

fn no_such_path(v: &str, what: &str) -> Response {
    platform_error(
        StatusCode::NOT_FOUND,
        &[&format!("null for uri: /rest/api/{v}/{what}")],
        json!({}),
    )
}

pub(super) async fn get_issue(
    State(st): St,
    Path((v, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let base = &st.base_url;
    let d = st.data();
    if !version_ok(&v, d.data_center) {
        return no_such_path(&v, &format!("issue/{id}"));
    }
    let Some(i) = d.issue(&id) else {
        return platform_error(
            StatusCode::NOT_FOUND,
            &["Issue does not exist or you do not have permission to see it."],
            json!({}),
        );
    };
    let desk = d.desk_of(i);
    let attachments: Vec<Value> = d
        .attachments
        .iter()
        .filter(|a| a.issue_id == i.id)
        .map(|a| a.platform(base, &st.account))
        .collect();
    let wanted: Option<Vec<&str>> = q.get("fields").map(|f| {
        f.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    });
    let wanted = wanted.filter(|w| !w.contains(&"*all"));
    Json(model::issue_json(
        base,
        i,
        &desk,
        attachments,
        wanted.as_deref(),
    ))
    .into_response()
}

pub(super) async fn attachment_meta(State(st): St, Path(v): Path<String>) -> Response {
    let d = st.data();
    if !version_ok(&v, d.data_center) {
        return no_such_path(&v, "attachment/meta");
    }
    Json(json!({"enabled": d.attachments_enabled, "uploadLimit": d.upload_limit})).into_response()
}
