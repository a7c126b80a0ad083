//! `/api/v1` for admins and auditors, its description at `/openapi.json`, and the probes and
//! metrics. Routes are registered with their `#[utoipa::path]` descriptions in one call
//! (`utoipa_axum::routes!`), so the description cannot miss a route or drift from its types.

mod jobs;
mod system;

pub use system::rules_test_answer;

use super::error::{ApiError, ErrorBody, ErrorDetail};
use super::AppState;
use crate::clock::Millis;
use crate::metrics::Scrape;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "deskbridge",
        description = "The admin and auditor API of deskbridge (SPEC §4). Every route takes \
            `Authorization: Bearer <token>`: the admin token for everything, the auditor token \
            for reads (GET).",
    ),
    paths(jobs::ticket_history),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
    tags((name = "jobs", description = "Jobs, their history and artifacts"),
        (name = "system", description = "Connections, vendors, rules, configuration")),
)]
struct ApiDoc;

/// Every operation takes the bearer token unless it says otherwise.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        api.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// `/api/v1`'s routes behind the token check, the public key outside it, and the description
/// of all of them (paths as served, under `/api/v1`).
pub fn routes(state: AppState) -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let guarded = OpenApiRouter::new()
        .routes(routes!(jobs::list_jobs))
        .routes(routes!(jobs::retry_jobs))
        .routes(routes!(jobs::get_job))
        .routes(routes!(jobs::retry_job))
        .routes(routes!(jobs::cancel_job))
        .routes(routes!(jobs::artifact))
        // A ticket reference may contain '/': axum takes the rest of the path; described in
        // ApiDoc's `paths`.
        .route("/tickets/{connection}/{*ticket}", get(jobs::ticket_history))
        .routes(routes!(system::status))
        .routes(routes!(system::test_connection))
        .routes(routes!(system::test_vendor))
        .routes(routes!(system::rules_test))
        .routes(routes!(system::reload))
        .layer(axum::middleware::from_fn_with_state(
            state,
            super::auth::require_token,
        ));
    let open = OpenApiRouter::new().routes(routes!(system::public_key));
    let mut doc = ApiDoc::openapi();
    doc.openapi = utoipa::openapi::OpenApiVersion::Version31;
    let (router, mut api) = OpenApiRouter::with_openapi(doc)
        .nest("/api/v1", guarded.merge(open))
        .split_for_parts();
    // `paths(...)` above is relative to /api/v1 like the others.
    let ticket = "/tickets/{connection}/{ticket}";
    if let Some(item) = api.paths.paths.remove(ticket) {
        api.paths.paths.insert(format!("/api/v1{ticket}"), item);
    }
    (router, api)
}

pub async fn readyz(State(st): State<AppState>) -> Response {
    if st.worker.is_alive() && st.is_accepting() && st.shared.store.is_healthy().await {
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
        jobs: st.shared.store.count_by_state().await.unwrap_or_default(),
        store_bytes: st.shared.store.size_bytes().await,
        refresh_expires_in,
        connections: rt.config.itsm.iter().map(|c| c.id.to_string()).collect(),
        vendors: rt.config.vendor.iter().map(|v| v.id.to_string()).collect(),
    };
    let text = st.shared.metrics.render(&scrape);
    ([("content-type", crate::metrics::CONTENT_TYPE)], text).into_response()
}
