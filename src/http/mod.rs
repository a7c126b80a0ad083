//! The HTTP surface (SPEC §4): webhooks in, the admin/auditor API, probes and metrics.

mod access;
mod api;
pub use api::rules_test_answer;
mod auth;
pub mod error;
mod extract;
mod hooks;
mod oauth;
pub mod serve;

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

    /// The admin actions over this service (what the handlers and the console call).
    pub fn admin(&self) -> crate::admin::Admin {
        crate::admin::Admin::new(
            self.current.clone(),
            self.shared.clone(),
            self.worker.clone(),
        )
    }
}

pub fn router(state: AppState) -> Router {
    let (api, doc) = api::routes(state.clone());
    let doc = doc.to_pretty_json().unwrap_or_default();
    // The description of /api/v1, for the same readers.
    let described = Router::new()
        .route(
            "/openapi.json",
            get(move || async move { ([("content-type", "application/json")], doc.clone()) }),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .route("/hooks/{connection}", post(hooks::receive))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .route("/oauth/{vendor}/start", get(oauth::start))
        .route("/oauth/{vendor}/callback", get(oauth::callback))
        .merge(api)
        .merge(described)
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
