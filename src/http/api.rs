//! `/api/v1` for admins and auditors, plus the probes, metrics and the audit public key.

use super::error::ApiError;
use super::AppState;
use crate::clock::Millis;
use crate::ids::{ConnectionId, JobId};
use crate::itsm::Inbound;
use crate::job::{Job, JobState};
use crate::metrics::Scrape;
use crate::rules::{self, Certainty};
use crate::store::{JobFilter, SaveError, StoreError};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    state: Option<String>,
    connection: Option<String>,
    ticket: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

pub async fn list_jobs(
    State(st): State<AppState>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    // serde's message names the parameter at fault ("unknown field `x`", "limit: invalid digit").
    let Query(q) = q.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
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
    let (jobs, next) = st.shared.store.list(&filter, after, limit)?;
    Ok(Json(json!({"jobs": jobs, "next": next})))
}

fn parse_id(id: &str) -> Result<JobId, ApiError> {
    JobId::parse(id).ok_or_else(|| {
        ApiError::bad_request("invalid_id", format!("{id:?} is not a job id"))
            .with_field("path", "id")
    })
}

fn load(st: &AppState, id: &str) -> Result<Job, ApiError> {
    let id = parse_id(id)?;
    st.shared
        .store
        .get(&id)?
        .ok_or_else(|| ApiError::not_found(format!("no job {id}")))
}

pub async fn get_job(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(load(&st, &id)?))
}

fn conflict(msg: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "conflict", msg)
}

async fn save(st: &AppState, job: &mut Job) -> Result<(), ApiError> {
    match st.shared.store.save(job).await {
        Ok(()) => Ok(()),
        Err(SaveError::Conflict) => Err(conflict(
            "the job changed while this request was handled; try again".into(),
        )),
        Err(SaveError::Store(StoreError::Invalid(broken))) => Err(conflict(broken.to_string())),
        Err(SaveError::Store(e)) => Err(e.into()),
    }
}

pub async fn retry_job(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    let mut job = load(&st, &id)?;
    // Two live jobs on one ticket would mean two sessions and two link notes.
    let holder = st
        .shared
        .store
        .ticket_holder(job.connection.as_str(), job.ticket.as_str())?;
    if let Some(other) = holder.filter(|o| *o != job.id) {
        return Err(conflict(format!(
            "ticket {} already has a live job {other}: cancel it or let it finish first",
            job.ticket
        )));
    }
    job.resume(st.shared.clock.now())
        .map_err(|e| conflict(e.to_string()))?;
    save(&st, &mut job).await?;
    st.worker.wake();
    Ok(Json(job))
}

pub async fn cancel_job(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    let mut job = load(&st, &id)?;
    let close = job
        .session_may_be_open()
        .then(|| job.session.clone())
        .flatten();
    job.cancel(st.shared.clock.now())
        .map_err(|e| conflict(e.to_string()))?;
    save(&st, &mut job).await?;
    if let (Some(session), Some(vendor)) = (
        close,
        job.vendor
            .as_ref()
            .and_then(|v| st.current.get().vendors.get(v).cloned()),
    ) {
        let (store, clock) = (st.shared.store.clone(), st.shared.clock.clone());
        let id = job.id;
        // The answer does not wait on the vendor; the outcome lands in the job's history.
        tokio::spawn(async move {
            let (error, detail) = match vendor.close_session(&session).await {
                Ok(()) => (None, format!("vendor session {} closed", session.code)),
                Err(e) => (
                    Some(e.to_string()),
                    format!("vendor session {} could not be closed", session.code),
                ),
            };
            for _ in 0..3 {
                let Ok(Some(mut j)) = store.get(&id) else {
                    return;
                };
                j.record(clock.now(), 1, error.clone(), detail.clone());
                if store.save(&mut j).await.is_ok() {
                    return;
                }
            }
        });
    }
    Ok(Json(job))
}

/// Every job matching `filter`, all pages.
fn all_jobs(st: &AppState, filter: &JobFilter) -> Result<Vec<Job>, ApiError> {
    let (mut jobs, mut next) = st.shared.store.list(filter, None, 500)?;
    while let Some(after) = next {
        let (page, n) = st.shared.store.list(filter, Some(after), 500)?;
        jobs.extend(page);
        next = n;
    }
    Ok(jobs)
}

pub async fn ticket_history(
    State(st): State<AppState>,
    Path((connection, ticket)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let by_ref = JobFilter {
        connection: Some(connection.clone()),
        ticket: Some(ticket.clone()),
        state: None,
    };
    let mut jobs = all_jobs(&st, &by_ref)?;
    if jobs.is_empty() {
        // The path may carry the human number (INC0000046) rather than the API reference; the
        // unindexed filter matches numbers too.
        let by_number = JobFilter {
            connection: None,
            ticket: Some(ticket.clone()),
            state: None,
        };
        jobs = all_jobs(&st, &by_number)?
            .into_iter()
            .filter(|j| j.connection.as_str() == connection)
            .collect();
    }
    let reference = jobs.first().map(|j| j.ticket.to_string()).unwrap_or(ticket);
    let attachments = st
        .shared
        .store
        .attached_on_ticket(&connection, &reference)?;
    Ok(Json(
        json!({"connection": connection, "ticket": reference, "sessions": jobs, "attachments": attachments}),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesTest {
    connection: String,
    payload: Value,
}

pub async fn rules_test(
    State(st): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let t: RulesTest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))?;
    let rt = st.current.get();
    rules_test_answer(
        &rt,
        &t.connection,
        &serde_json::to_vec(&t.payload).unwrap_or_default(),
    )
    .map(Json)
}

/// Shared by the route and `deskbridge rules test`.
pub fn rules_test_answer(
    rt: &crate::runtime::Runtime,
    connection: &str,
    payload: &[u8],
) -> Result<Value, ApiError> {
    let itsm = rt.itsm.get(&ConnectionId::new(connection)).ok_or_else(|| {
        ApiError::not_found(format!("unknown connection {connection:?}"))
            .with_field("field", "connection")
    })?;
    let inbound = crate::itsm::parse_admin_payload(itsm.as_ref(), payload)
        .map_err(|e| ApiError::bad_request("invalid_payload", e.to_string()))?;
    let req = match inbound {
        Inbound::Ignore(reason) => return Ok(json!({"ignored": reason})),
        Inbound::Request(r) => r,
    };
    let hint = rules::decide(&rt.config.rules, connection, &req.hint, Certainty::Hint);
    let read = rules::decide(
        &rt.config.rules,
        connection,
        &req.hint,
        Certainty::Authoritative,
    );
    Ok(json!({
        "ticket_ref": req.ticket,
        "normalised": req.hint,
        "on_webhook": {"rule": hint.rule, "trace": hint.trace, "why_none": hint.rule.is_none().then(|| hint.why_none())},
        "if_read_as_is": {"rule": read.rule, "trace": read.trace, "why_none": read.rule.is_none().then(|| read.why_none())},
    }))
}

pub async fn reload(State(st): State<AppState>) -> Result<Json<Value>, ApiError> {
    match (st.reload)() {
        Ok(msg) => Ok(Json(json!({"status": "reloaded", "message": msg}))),
        Err(reason) => Err(ApiError::bad_request(
            "invalid_config",
            format!("the new configuration was refused and the running one stays: {reason}"),
        )),
    }
}

pub async fn status(State(st): State<AppState>) -> Json<Value> {
    let counts: serde_json::Map<String, Value> = st
        .shared
        .store
        .count_by_state()
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), n.into()))
        .collect();
    let rt = st.current.get();
    // Credentials that need an admin are named here, and in the log and /metrics, while /readyz
    // stays up: the service still works for everything else.
    let mut warnings = vec![];
    let vendors: Vec<Value> = rt
        .config
        .vendor
        .iter()
        .map(|v| {
            let credentials = rt.vendors.get(&v.id).map(|vendor| vendor.credentials());
            if let Some(w) = credentials.as_ref().and_then(|c| c.warning.clone()) {
                warnings.push(json!({"vendor": v.id, "message": w}));
            }
            json!({"id": v.id, "kind": v.kind, "credentials": credentials})
        })
        .collect();
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "jobs": counts,
        "connections": rt.config.itsm.iter().map(|c| json!({"id": c.id, "kind": c.kind})).collect::<Vec<_>>(),
        "vendors": vendors,
        "warnings": warnings,
        "audit_public_key": st.shared.audit.public_key(),
    }))
}

pub async fn readyz(State(st): State<AppState>) -> Response {
    if st.shared.store.is_healthy() && st.worker.is_alive() && st.is_accepting() {
        (StatusCode::OK, "ready").into_response()
    } else {
        ApiError::unavailable("not ready: the store is closed or the worker is not running")
            .into_response()
    }
}

pub async fn metrics(State(st): State<AppState>) -> Response {
    let now = Millis::now();
    let rt = st.current.get();
    let refresh_expires_in = rt
        .vendors
        .iter()
        .filter_map(|(id, vendor)| {
            let end = vendor.credentials().refresh_token_expires_at?;
            Some((id.to_string(), ((end.0 - now.0) as f64 / 1000.0).floor()))
        })
        .collect();
    let scrape = Scrape {
        jobs: st.shared.store.count_by_state(),
        store_bytes: st.shared.store.size_on_disk(),
        refresh_expires_in,
        connections: rt.config.itsm.iter().map(|c| c.id.to_string()).collect(),
        vendors: rt.config.vendor.iter().map(|v| v.id.to_string()).collect(),
    };
    let text = st.shared.metrics.render(&scrape);
    ([("content-type", crate::metrics::CONTENT_TYPE)], text).into_response()
}

pub async fn public_key(State(st): State<AppState>) -> Json<Value> {
    Json(json!({"algorithm": "ed25519", "public_key": st.shared.audit.public_key()}))
}
