//! `POST /hooks/{connection}`: verify, parse, pre-match rules on the hint, store durably, 202.
//!
//! Order matters: the connection's adapter checks the sender on the raw bytes before anything
//! parses them (its parser takes only the [`Verified`] proof), and the answer 202 is given only
//! once the job is flushed to disk. A body no rule can match is
//! answered 200 "ignored" at once, without calling any other system.

use super::error::ApiError;
use super::extract::PathParams;
use super::AppState;
use crate::ids::ConnectionId;
use crate::itsm::{Inbound, Verified};
use crate::job::{Job, NewJob};
use crate::rules::{self, Certainty};
use crate::store::Enqueued;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tracing::instrument;

#[instrument(skip_all, fields(connection = %connection, ticket, number, job_id))]
pub async fn receive(
    State(st): State<AppState>,
    PathParams(connection): PathParams<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (outcome, resp) = match handle(&st, &connection, &headers, body).await {
        Ok((outcome, resp)) => {
            // One line per webhook an operator can follow: the span carries connection,
            // ticket and job id.
            tracing::info!(outcome, status = resp.status().as_u16(), "webhook");
            (outcome, resp)
        }
        Err(e) => {
            // The reason only: never a header's value, a secret or the body.
            tracing::warn!(outcome = e.code, status = e.status.as_u16(), reason = %e.message, "webhook refused");
            (e.code, e.into_response())
        }
    };
    // Unknown connections share one label: a path segment from the internet must not be able
    // to grow the metrics without bound.
    let label = if outcome == "not_found" {
        "unknown"
    } else {
        connection.as_str()
    };
    st.shared.metrics.webhook(label, outcome);
    resp
}

async fn handle(
    st: &AppState,
    connection: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(&'static str, Response), ApiError> {
    let rt = st.current.get();
    let Some(itsm) = rt.itsm.get(&ConnectionId::new(connection)) else {
        return Err(
            ApiError::not_found(format!("unknown connection {connection:?}"))
                .with_field("path", "connection"),
        );
    };
    if !st.is_accepting() {
        return Err(ApiError::unavailable(
            "deskbridge is shutting down; send again shortly",
        ));
    }
    let max = rt.config.server.max_body_bytes;
    let too_big = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is over the limit of {max} bytes (server.max_body_bytes)"),
        )
    };
    let declared = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_big());
    }
    let bytes = axum::body::to_bytes(body, max).await.map_err(|e| {
        let over = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if over {
            too_big()
        } else {
            // The client stopped sending (the connection is being closed), or broke the framing.
            ApiError::bad_request(
                "body_unreadable",
                format!("the body could not be read: {e}"),
            )
        }
    })?;
    let verified: Verified = itsm
        .verify(headers, &bytes, std::time::SystemTime::now())
        .map_err(|e| {
            let header = e.header().to_string();
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", e.to_string())
                .with_field("header", header)
        })?;
    let inbound = itsm.parse_inbound(headers, verified).map_err(|e| {
        let err = ApiError::bad_request("invalid_body", e.to_string());
        match e.field() {
            Some(f) => err.with_field("field", f),
            None => err,
        }
    })?;
    let req = match inbound {
        Inbound::Ignore(reason) => return Ok(("ignored", ignored(reason))),
        Inbound::Request(r) => r,
    };
    let span = tracing::Span::current();
    span.record("ticket", tracing::field::display(&req.ticket));
    if let Some(n) = &req.hint.number {
        span.record("number", n.as_str());
    }
    let decision = rules::decide(&rt.config.rules, connection, &req.hint, Certainty::Hint);
    let Some(i) = decision.chosen else {
        return Ok(("ignored", ignored(decision.why_none())));
    };
    let rule = &rt.config.rules[i];
    let job = Job::new(
        NewJob {
            connection: ConnectionId::new(connection),
            ticket: req.ticket,
            ticket_number: req.hint.number.clone(),
            event_id: req.event_id,
            vendor: Some(rule.vendor.clone()),
            rule: Some(rule.name.clone()),
            hint: req.hint,
        },
        st.shared.clock.now(),
    );
    let (outcome, id, status) = match st.shared.store.enqueue(&job).await? {
        Enqueued::Queued(id) => ("queued", id, "queued"),
        Enqueued::Duplicate(id) => ("duplicate", id, "queued"),
        Enqueued::Existing(id) => ("existing", id, "existing"),
    };
    tracing::Span::current().record("job_id", tracing::field::display(&id));
    if outcome == "queued" {
        st.worker.wake();
    }
    let mut body = json!({"job_id": id, "status": status});
    if outcome == "duplicate" {
        body["duplicate"] = true.into();
    }
    Ok((outcome, (StatusCode::ACCEPTED, Json(body)).into_response()))
}

fn ignored(reason: String) -> Response {
    (
        StatusCode::OK,
        Json(json!({"status": "ignored", "reason": reason})),
    )
        .into_response()
}
