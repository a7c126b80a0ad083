//! Zendesk simulator: the Tickets API (show, update with a comment, list comments with offset
//! paging), groups, users and brands, and the Uploads API (raw bytes into an upload token that
//! one comment then carries), behind API-token basic auth or a bearer token, answering in
//! Zendesk's shapes and error envelopes, with `X-Rate-Limit` headers and 429 + `Retry-After`
//! from the shared fault layer (see `shared/contracts/zendesk.md`). It also plays Zendesk's
//! sending side: the "Start remote session" macro and trigger, or a ticket event subscription,
//! produce a webhook delivery signed as Zendesk signs it ([`ZendeskSim::click_start_remote_session`]).
//!
//! Tests seed tickets with [`ZendeskSim::add_ticket`] and read back what the product wrote with
//! [`ZendeskSim::comments`] and [`ZendeskSim::attachments`].

mod markdown;
mod routes;
mod shapes;
mod state;
mod webhook;
mod writes;

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::fault::{Faults, RateLimitInfo, SystemErrors};
use super::{Bound, Server};
use state::ZdState;
pub use state::{SimComment, SimFile, SimTicket, MAX_COMMENTS};
pub use webhook::{
    sign_webhook, verify_webhook, WebhookDelivery, ACCOUNT_ID_HEADER, INVOCATION_ID_HEADER,
    SIGNATURE_HEADER, SIGNATURE_TIMESTAMP_HEADER, WEBHOOK_ID_HEADER,
};

/// Handle to a running Zendesk simulator. Clones share the server; it stops when the last
/// clone is dropped or on [`ZendeskSim::shutdown`].
#[derive(Clone)]
pub struct ZendeskSim {
    inner: Arc<Handle>,
}

struct Handle {
    state: Arc<ZdState>,
    faults: Faults,
    server: Server,
}

impl ZendeskSim {
    /// Starts a simulator on a random loopback port that accepts the API token `api_token` of
    /// the agent `email` (basic `{email}/token:{api_token}`).
    pub async fn start(email: &str, api_token: &str) -> Self {
        let bound = Bound::loopback().await;
        let state = Arc::new(ZdState::new(bound.base_url(), email, api_token));
        let faults = Faults::new();
        let router = routes::router(state.clone(), &faults);
        let server = bound.serve(router, faults.halt_token());
        ZendeskSim {
            inner: Arc::new(Handle {
                state,
                faults,
                server,
            }),
        }
    }

    /// `http://127.0.0.1:PORT`, the instance URL to configure in the product.
    pub fn base_url(&self) -> String {
        self.inner.server.base_url()
    }

    pub fn shutdown(&self) {
        self.inner.server.shutdown();
    }

    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// The account id Zendesk puts in `x-zendesk-account-id`.
    pub fn account_id(&self) -> u64 {
        self.inner.state.account_id
    }

    /// Replaces the accepted API token (a rotated or revoked credential).
    pub fn set_api_token(&self, token: &str) {
        self.inner.state.data().api_token = token.to_string();
    }

    /// Also accept `Authorization: Bearer <token>` (an OAuth access token).
    pub fn allow_bearer(&self, token: &str) {
        self.inner.state.data().bearer = Some(token.to_string());
    }

    /// Seeds a ticket (its description becomes the first, public comment, as in Zendesk) and
    /// returns its id.
    pub fn add_ticket(&self, t: SimTicket) -> u64 {
        self.inner.state.data().add_ticket(t)
    }

    /// The ticket as `GET /api/v2/tickets/{id}` shows it.
    pub fn ticket(&self, id: u64) -> Option<Value> {
        let data = self.inner.state.data();
        data.tickets
            .get(&id)
            .map(|t| shapes::ticket(t, &self.inner.state.base_url))
    }

    /// Adds a comment as another agent would (for paging and idempotency tests).
    pub fn add_comment(&self, ticket: u64, body: &str, public: bool) {
        let mut data = self.inner.state.data();
        let author = data.agent_id;
        data.push_comment(ticket, author, body, public, vec![]);
    }

    /// Every comment on the ticket, oldest first.
    pub fn comments(&self, ticket: u64) -> Vec<SimComment> {
        self.inner
            .state
            .data()
            .tickets
            .get(&ticket)
            .map(|t| t.comments.clone())
            .unwrap_or_default()
    }

    /// Every file attached to the ticket's comments, in order.
    pub fn attachments(&self, ticket: u64) -> Vec<SimFile> {
        self.comments(ticket)
            .into_iter()
            .flat_map(|c| c.attachments)
            .collect()
    }

    /// Uploads whose token no comment has used yet.
    pub fn pending_uploads(&self) -> usize {
        self.inner.state.data().uploads.len()
    }

    /// The id the simulator gave a group name (for event payloads and templates).
    pub fn group_id(&self, name: &str) -> Option<u64> {
        self.inner
            .state
            .data()
            .groups
            .iter()
            .find(|(_, n)| n == name)
            .map(|(id, _)| *id)
    }

    /// Lowers the 5000-comment limit so a test can reach it.
    pub fn set_comment_limit(&self, n: usize) {
        self.inner.state.data().comment_limit = n;
    }

    /// Refuses uploads whose file name ends in `.ext`, like an account whose admin restricted
    /// attachment types.
    pub fn refuse_extension(&self, ext: &str) {
        let ext = ext.trim_start_matches('.').to_ascii_lowercase();
        self.inner.state.data().refused_ext.push(ext);
    }
}

/// Zendesk's usual error envelope.
fn envelope(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "description": description})),
    )
        .into_response()
}

/// Injected failures and rate limits, phrased as Zendesk phrases them.
struct ZdErrors;

impl SystemErrors for ZdErrors {
    fn error(&self, status: StatusCode, _path: &str) -> Response {
        match status.as_u16() {
            401 => routes::not_authenticated(),
            403 => (status, Json(json!({"error": {"title": "Forbidden", "message": "You do not have access to this page. Please contact the account owner of this help desk for further help."}}))).into_response(),
            404 => envelope(status, "RecordNotFound", "Not found"),
            409 => envelope(status, "Conflict", "The ticket was updated by someone else at the same time"),
            422 => envelope(status, "RecordInvalid", "Record validation errors"),
            429 => envelope(status, "APIRateLimitExceeded", "Number of allowed API requests per minute exceeded"),
            _ => envelope(status, status.canonical_reason().unwrap_or("Error"), "Something went wrong on our side"),
        }
    }

    fn rate_limited(&self, _info: &RateLimitInfo, path: &str) -> Response {
        self.error(StatusCode::TOO_MANY_REQUESTS, path)
    }

    fn rate_limit_headers(&self, info: &RateLimitInfo, headers: &mut HeaderMap) {
        headers.insert("x-rate-limit", HeaderValue::from(info.limit));
        headers.insert("x-rate-limit-remaining", HeaderValue::from(info.remaining));
    }
}

#[cfg(test)]
mod tests;
