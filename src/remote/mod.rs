//! The remote-support vendor seam: one trait, one folder per vendor, built from configuration.
//! Each vendor's folder holds its settings type (what `[[vendor]]` takes for its kind), its API
//! client, its assumed facts and its part in the demo; [`registry`] lists the folders.
//!
//! The worker only knows this trait: create a session for a ticket, ask whether it is over,
//! collect what it left behind, close it. Vendors differ a lot behind it (Splashtop hands out a
//! link; Sunlogin cannot create sessions at all and is correlated from its logs), so the
//! session carries an opaque `extra` the vendor may use between calls.

pub mod grant;
pub mod keeper;
pub mod registry;
pub mod splashtop;
pub mod sunlogin;

use crate::clock::{Clock, Millis};
use crate::config::{ArtifactKind, VendorConfig, VendorOptions};
use crate::ids::{JobId, VendorId};
use crate::metrics::Metrics;
use crate::outbound::{Advice, Probe, Retry, UpstreamError};
use crate::store::Store;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Session {
    /// The vendor's id for the session.
    pub id: String,
    /// The code a human reads (Splashtop's 9 digits); used in artifact file names.
    pub code: String,
    /// What the end user opens, exactly as the vendor gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_user_link: Option<String>,
    /// What the technician opens (Splashtop deep link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technician_link: Option<String>,
    /// The seat (technician account) the session is expected from, for vendors that correlate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat: Option<String>,
    pub created_at: Millis,
    /// Vendor-private state between calls (a correlated log id, say).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    #[schema(value_type = Object)]
    pub extra: serde_json::Value,
}

/// What the worker asks for when it creates a session.
#[derive(Debug, Clone)]
pub struct SessionRequest {
    pub job: JobId,
    pub ticket_number: String,
    pub subject: String,
    pub customer_name: String,
    pub agent_email: Option<String>,
    pub device: Option<String>,
    pub options: VendorOptions,
    /// When the agent asked (the webhook's arrival): vendors that correlate sessions after the
    /// fact count from here, not from when the worker got to the job.
    pub requested_at: Millis,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SessionState {
    /// Still running (or not started); `status` is the vendor's word for it.
    Open { status: String },
    /// Over; the session as updated by the vendor (correlation results, say).
    Over { status: String, session: Session },
}

/// What [`Vendor::find_created`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum FindCreated {
    /// The session the lost call made: the job takes it instead of creating another.
    Found(Session),
    /// The vendor has no session for the job: creating one is safe.
    NotFound,
    /// The vendor cannot list its recent sessions: one may be left unused.
    CannotList,
}

/// A table artifact (CSV), columns in order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatLine {
    pub time: String,
    pub author: String,
    pub message: String,
}

/// An artifact the vendor has, or the reason it has not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Availability<T> {
    Available(T),
    NotAvailable(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collected {
    pub session_log: Availability<Table>,
    pub file_transfers: Availability<Table>,
    pub chat: Availability<Vec<ChatLine>>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum VendorError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The vendor answered something the contract says it cannot; retrying will not fix it.
    #[error("{0}")]
    Contract(String),
    /// The stored grant is gone and the configured credentials no longer work.
    #[error("{0}")]
    ReAuthorise(String),
}

impl VendorError {
    /// A failed test call in an admin's terms: the answer, and what to fix per `advice`.
    pub fn probe(&self, advice: &Advice) -> Probe {
        match self {
            VendorError::Upstream(u) => Probe::from_upstream(u, advice),
            VendorError::Contract(m) => Probe::failed(
                m,
                "check that base_url is this vendor's API address, and the credential's scopes",
            ),
            VendorError::ReAuthorise(m) => Probe::failed(m, advice.unauthorized),
        }
    }

    pub fn retry(&self) -> Retry {
        match self {
            VendorError::Upstream(u) => u.retry.clone(),
            _ => Retry::Permanent,
        }
    }
}

pub type Result<T, E = VendorError> = std::result::Result<T, E>;

/// A short, one-way tag of the identity a stored value belongs to (an account, a token), for
/// store keys: change the account or the token in the configuration and the old value is no
/// longer found, instead of being used for the wrong identity.
pub fn identity_tag(identity: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(identity.as_bytes())[..8])
}

/// The state of a vendor's credentials, for `/api/v1/status`, `/metrics` and the log. Read from
/// the store, never by calling the vendor, and never holding a secret.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CredentialStatus {
    /// "api_token", "oauth2" or "sunlogin".
    pub auth: &'static str,
    /// "ok", "not_signed_in_yet" (Sunlogin signs in at the first job), "not_authorised" (an
    /// admin must run the OAuth flow), "refresh_token_expiring", "refresh_token_expired" or
    /// "reauthorise". Every state but the first two comes with a `warning`.
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_expires_at: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_at: Option<Millis>,
    /// What an admin should do, when something needs doing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl CredentialStatus {
    /// A credential written in the configuration (an API token): nothing to renew.
    pub fn configured(auth: &'static str) -> Self {
        CredentialStatus {
            auth,
            state: "ok",
            access_token_expires_at: None,
            refresh_token_expires_at: None,
            warning: None,
        }
    }
}

#[async_trait]
pub trait Vendor: Send + Sync + std::fmt::Debug {
    fn id(&self) -> &VendorId;
    /// Splashtop gives a link; Sunlogin only instructions for the agent and the end user.
    fn gives_link(&self) -> bool;
    /// How often to look, how long to wait at most.
    fn poll(&self) -> &crate::config::PollConfig;
    async fn create_session(&self, req: &SessionRequest) -> Result<Session>;
    /// Before creating again after a create call whose answer was lost (a timeout, a 5xx, a
    /// crash): the session that call may have made, found by the job's marker among the
    /// vendor's recent sessions. Default: the vendor cannot list its sessions.
    async fn find_created(&self, _req: &SessionRequest) -> Result<FindCreated> {
        Ok(FindCreated::CannotList)
    }
    async fn session_state(&self, session: &Session) -> Result<SessionState>;
    async fn collect(&self, session: &Session, what: &[ArtifactKind]) -> Result<Collected>;
    async fn close_session(&self, session: &Session) -> Result<()>;
    /// One read-only call with the configured credentials (`check --online`, the test route):
    /// `ok` with what it read, or the answer and what to fix.
    async fn test_connection(&self) -> Probe;
    /// The credentials' state (see [`CredentialStatus`]); default: configured, nothing to renew.
    fn credentials(&self) -> CredentialStatus {
        CredentialStatus::configured("api_token")
    }
    /// Called every few minutes by [`keeper`]: renew what is about to expire even when no job
    /// needs it, and log what an admin must do. Default: nothing to keep alive.
    async fn keep_credentials_alive(&self) {}
    /// The browser flow an admin runs to authorise deskbridge, for vendors configured with one
    /// (`/oauth/{vendor}/start`). Default: none.
    fn oauth(&self) -> Option<&dyn OAuthFlow> {
        None
    }
}

/// An OAuth 2.0 authorization-code flow, as `/oauth/{vendor}/start` and `/callback` drive it.
#[async_trait]
pub trait OAuthFlow: Send + Sync {
    /// Where the admin's browser goes to approve deskbridge, carrying `state`.
    fn authorize_url(&self, state: &str) -> String;
    /// Trade the callback's code, with the `state` it came back with, for tokens, stored before
    /// this returns.
    async fn exchange(&self, code: &str, state: &str) -> Result<Granted>;
}

/// What an authorisation gave, without the tokens: their ends, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Granted {
    pub access_expires_at: i64,
    pub refresh_expires_at: i64,
}

/// What building a vendor needs besides its configuration.
#[derive(Clone)]
pub struct BuildCtx {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub timeout: Duration,
    /// "Now" for deciding whether a stored token is about to expire: the service's clock, so a
    /// test that moves it sees a token go stale without waiting its life out.
    pub clock: Clock,
    /// The CAs outbound HTTPS trusts besides the system's (`server.ca_bundle`, and once
    /// [`build`] has added it, the connection's or vendor's own `ca_bundle`).
    pub trust: crate::outbound::Trust,
}

/// An adapter's settings type: what `[[vendor]]` holds for its kind besides `id`, `kind`,
/// `base_url`, `poll` and `rate_limit`. It refuses unknown keys; its `auth` is an enum of
/// exactly the types the vendor takes.
pub trait VendorSettings: std::fmt::Debug + Send + Sync + std::any::Any {
    /// What serde cannot check (a URL that parses, say), as the key at fault and why.
    fn check(&self) -> Result<(), crate::config::sections::Refusal> {
        Ok(())
    }
    /// The adapter for `cfg`, whose settings these are.
    fn build(&self, cfg: &VendorConfig, ctx: &BuildCtx) -> Arc<dyn Vendor>;
}

pub fn build(cfg: &VendorConfig, ctx: &BuildCtx) -> Arc<dyn Vendor> {
    let ctx = BuildCtx {
        trust: ctx.trust.with(cfg.ca_bundle.as_ref()),
        ..ctx.clone()
    };
    cfg.settings.build(cfg, &ctx)
}
