//! The HTTP surface (SPEC §4): webhooks in, the admin/auditor API, probes and metrics.

mod access;
mod api;
pub use api::rules_test_answer;
mod auth;
pub mod error;
mod hooks;
mod oauth;

use crate::runtime::{Current, Shared};
use crate::worker::Worker;
use axum::routing::{get, post};
use axum::Router;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub current: Current,
    pub shared: Shared,
    pub worker: Arc<Worker>,
    /// False once shutdown began: webhooks are refused with 503 so senders retry elsewhere/later.
    pub accepting: Arc<AtomicBool>,
    /// Re-read the configuration: the reload route and SIGHUP share it.
    pub reload: Arc<dyn Fn() -> Result<String, String> + Send + Sync>,
}

impl AppState {
    pub fn is_accepting(&self) -> bool {
        self.accepting.load(Ordering::Relaxed)
    }
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/jobs", get(api::list_jobs))
        .route("/jobs/{id}", get(api::get_job))
        .route("/jobs/{id}/retry", post(api::retry_job))
        .route("/jobs/{id}/cancel", post(api::cancel_job))
        .route("/tickets/{connection}/{*ticket}", get(api::ticket_history))
        .route("/rules/test", post(api::rules_test))
        .route("/reload", post(api::reload))
        .route("/status", get(api::status))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .route("/hooks/{connection}", post(hooks::receive))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .route("/api/v1/audit/public-key", get(api::public_key))
        .route("/oauth/{vendor}/start", get(oauth::start))
        .route("/oauth/{vendor}/callback", get(oauth::callback))
        .nest("/api/v1", api)
        .fallback(|| async { error::ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            error::ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        // Bodies are limited by the hook handler itself, per `max_body_bytes`, with a JSON 413.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(access::log))
        .with_state(state)
}
