//! `/api/v1/jobs...` and `/api/v1/tickets/...`: thin over [`crate::admin`], each handler
//! described for `/openapi.json` by its own types.

use super::super::error::{ApiError, ErrorBody};
use super::super::extract::{PathParams, QueryParams};
use super::super::AppState;
use crate::admin::{api_actor, BulkRetried, BulkRetry};
use crate::ids::JobId;
use crate::job::{Job, JobState};
use crate::store::JobFilter;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only jobs in this state.
    state: Option<String>,
    /// Only this connection's jobs.
    connection: Option<String>,
    /// Only this ticket's jobs (its reference or its number).
    ticket: Option<String>,
    /// Page size, 1-500 (default 50).
    limit: Option<usize>,
    /// The `next` of the previous page.
    cursor: Option<String>,
}

/// A page of jobs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobPage {
    pub jobs: Vec<Job>,
    /// The cursor of the next page, null on the last.
    pub next: Option<JobId>,
}

/// Jobs, newest first, paginated.
#[utoipa::path(get, path = "/jobs", tag = "jobs", params(ListQuery),
    responses((status = 200, body = JobPage), (status = 400, body = ErrorBody)))]
pub async fn list_jobs(
    State(st): State<AppState>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<JobPage>, ApiError> {
    // serde's message names the parameter at fault ("unknown field `x`", "limit: invalid digit").
    let state = match q.state.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(JobState::parse(s).ok_or_else(|| {
            ApiError::bad_request("invalid_query", format!("unknown state {s:?}"))
                .with_field("field", "state")
        })?),
        None => None,
    };
    let after = match q.cursor.as_deref().filter(|s| !s.is_empty()) {
        Some(c) => Some(JobId::parse(c).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "cursor is not a job id")
                .with_field("field", "cursor")
        })?),
        None => None,
    };
    let filter = JobFilter {
        state,
        connection: q.connection,
        ticket: q.ticket,
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let (jobs, next) = st.shared.store.list(&filter, after, limit).await?;
    Ok(Json(JobPage { jobs, next }))
}

/// One job: its state, every step with time, attempt and error, its artifacts with SHA-256.
#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = Job), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(st): State<AppState>,
    PathParams(id): PathParams<String>,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(st.admin().job(&id).await?))
}

/// A failed job goes back to work from the step that failed.
#[utoipa::path(post, path = "/jobs/{id}/retry", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = Job), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_job(
    State(st): State<AppState>,
    PathParams(id): PathParams<String>,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(st.admin().retry(&id, &api_actor()).await?))
}

/// Stop a job; closes the vendor session if one is open and tells the ticket the link no
/// longer works.
#[utoipa::path(post, path = "/jobs/{id}/cancel", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = Job), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_job(
    State(st): State<AppState>,
    PathParams(id): PathParams<String>,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(st.admin().cancel(&id, &api_actor()).await?))
}

/// Retry every failed job matching the filter; answers how many.
#[utoipa::path(post, path = "/jobs/retry", tag = "jobs", request_body = BulkRetry,
    responses((status = 200, body = BulkRetried), (status = 400, body = ErrorBody)))]
pub async fn retry_jobs(
    State(st): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<BulkRetried>, ApiError> {
    let filter: BulkRetry = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))?;
    Ok(Json(
        st.admin().retry_matching(&filter, &api_actor()).await?,
    ))
}

/// An artifact's bytes exactly as attached.
#[utoipa::path(get, path = "/jobs/{id}/artifacts/{name}", tag = "jobs",
    params(("id" = String, Path), ("name" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn artifact(
    State(st): State<AppState>,
    PathParams((id, name)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    let file = st.admin().artifact(&id, &name).await?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file.name.replace(['"', '\\'], "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        file.bytes,
    )
        .into_response())
}

/// Every session ever run for a ticket, with artifacts.
#[utoipa::path(get, path = "/tickets/{connection}/{ticket}", tag = "jobs",
    params(("connection" = String, Path), ("ticket" = String, Path, description = "the ticket's reference or number; may contain '/'")),
    responses((status = 200, body = Object)))]
pub async fn ticket_history(
    State(st): State<AppState>,
    PathParams((connection, ticket)): PathParams<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let admin = st.admin();
    let by_ref = JobFilter {
        connection: Some(connection.clone()),
        ticket: Some(ticket.clone()),
        state: None,
    };
    let mut jobs = admin.all(&by_ref).await?;
    if jobs.is_empty() {
        // The path may carry the human number (INC0000046) rather than the API reference; the
        // unindexed filter matches numbers too.
        let by_number = JobFilter {
            connection: None,
            ticket: Some(ticket.clone()),
            state: None,
        };
        jobs = admin
            .all(&by_number)
            .await?
            .into_iter()
            .filter(|j| j.connection.as_str() == connection)
            .collect();
    }
    let reference = jobs.first().map(|j| j.ticket.to_string()).unwrap_or(ticket);
    let attachments = st
        .shared
        .store
        .attached_on_ticket(&connection, &reference)
        .await?;
    Ok(Json(
        serde_json::json!({"connection": connection, "ticket": reference, "sessions": jobs, "attachments": attachments}),
    ))
}
