//! The ticket-system seam: one trait, one folder per system, built from configuration.
//!
//! Each system's folder holds everything about it: its settings type (what `[[itsm]]` takes for
//! its kind), its inbound verification and parsing, its API client, its assumed facts and its
//! part in the demo; [`registry`] lists the folders. A connection verifies a webhook on the raw
//! bytes, turns the [`Verified`] body into a request for a session (or a reason to ignore it),
//! reads the ticket authoritatively, writes notes and attaches files. Every write
//! is checked against the ticket first (a note's marker, an attachment's file name) by the
//! worker, through `find_note` and `list_attachments`, so that a crash between a write and its
//! record never leads to a second copy.

pub mod freshservice;
pub mod jira;
pub mod registry;
pub mod servicenow;
pub mod verify;
pub mod zendesk;

pub use verify::{Verified, VerifyError};

use crate::config::{ItsmConfig, Visibility};
use crate::ids::{ConnectionId, EventId, TicketRef};
use crate::metrics::Metrics;
use crate::outbound::{Advice, Probe, Retry, UpstreamError};
use crate::render::Markup;
use crate::ticket::{Ticket, Wants};
use async_trait::async_trait;
use http::HeaderMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What a webhook asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    Request(InboundRequest),
    /// A well-formed call that does not ask for a session (another event type, say).
    Ignore(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct InboundRequest {
    pub event_id: Option<EventId>,
    pub ticket: TicketRef,
    pub hint: Ticket,
}

/// A body that cannot be a valid call: 400, naming the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InboundError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("required field `{0}` is missing")]
    MissingField(String),
    #[error("field `{field}` is invalid: {reason}")]
    Invalid { field: String, reason: String },
}

impl InboundError {
    pub fn field(&self) -> Option<&str> {
        match self {
            InboundError::NotJson(_) => None,
            InboundError::MissingField(f) | InboundError::Invalid { field: f, .. } => Some(f),
        }
    }
}

/// A note to write on a ticket. `marker` is a string the body contains, unique to the job and
/// purpose, by which the note is found again after a crash.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub body: String,
    pub visibility: Visibility,
    pub marker: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RemoteAttachment {
    pub id: Option<String>,
    pub name: String,
    pub size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ItsmError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The system answered something its contract says it cannot.
    #[error("{0}")]
    Contract(String),
}

impl ItsmError {
    /// Whether the system refused to give the thing asked for (403, 404): for an optional
    /// look-up, the value is then unknown rather than the read failed.
    pub fn is_refusal(&self) -> bool {
        matches!(self, ItsmError::Upstream(u) if matches!(u.status, Some(403 | 404)))
    }

    pub fn retry(&self) -> Retry {
        match self {
            ItsmError::Upstream(u) => u.retry.clone(),
            ItsmError::Contract(_) => Retry::Permanent,
        }
    }
}

impl ItsmError {
    /// A failed test call in an admin's terms: the answer, and what to fix per `advice`.
    pub fn probe(&self, advice: &Advice) -> Probe {
        match self {
            ItsmError::Upstream(u) => Probe::from_upstream(u, advice),
            ItsmError::Contract(m) => Probe::failed(
                m,
                "check that base_url is this kind of system's API address",
            ),
        }
    }
}

pub type Result<T, E = ItsmError> = std::result::Result<T, E>;

/// An optional look-up's value: a refusal (403/404) leaves it unknown, recorded for `field` in
/// `unknown`; anything else that went wrong fails the read (a 5xx is retried).
pub(crate) fn optional<T>(
    r: Result<Option<T>>,
    field: &str,
    unknown: &mut Vec<crate::ticket::UnknownValue>,
) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(v),
        Err(e) if e.is_refusal() => {
            tracing::warn!(field, error = %e, "an optional value cannot be read; rules decide without it");
            unknown.push(crate::ticket::UnknownValue {
                field: field.into(),
                why: e.to_string(),
            });
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

#[async_trait]
pub trait Itsm: Send + Sync + std::fmt::Debug {
    fn id(&self) -> &ConnectionId;
    /// The markup notes are written in, for escaping.
    fn markup(&self) -> Markup;
    /// Authenticate a webhook's sender on the raw bytes, with this connection's inbound scheme
    /// and whatever else its settings pin (a Zendesk account). Only this makes a [`Verified`].
    fn verify<'a>(
        &self,
        headers: &HeaderMap,
        body: &'a [u8],
        now: SystemTime,
    ) -> Result<Verified<'a>, VerifyError>;
    /// Turn a verified body into a request, or a reason to ignore it.
    fn parse_inbound(
        &self,
        headers: &HeaderMap,
        body: Verified<'_>,
    ) -> Result<Inbound, InboundError>;
    /// The ticket as the system has it now. Optional look-ups (a name behind an id that only
    /// enriches the ticket) are made only for the values in `wants`; one answered 403 or 404
    /// leaves its value in [`Ticket::unknown`] instead of failing the read.
    async fn read_ticket(&self, ticket: &TicketRef, wants: Wants) -> Result<Ticket>;
    /// Whether a note containing `marker` is already on the ticket.
    async fn find_note(&self, ticket: &TicketRef, marker: &str) -> Result<bool>;
    async fn post_note(&self, ticket: &TicketRef, note: &Note) -> Result<()>;
    /// Files attached to the ticket, all pages.
    async fn list_attachments(&self, ticket: &TicketRef) -> Result<Vec<RemoteAttachment>>;
    /// Attach files, in the system's own flow. Returns what was attached, in order.
    async fn attach(
        &self,
        ticket: &TicketRef,
        files: &[ArtifactFile],
    ) -> Result<Vec<RemoteAttachment>>;
    /// One read-only call with the configured credentials (`check --online`, the test route):
    /// `ok` with what it read, or the answer and what to fix.
    async fn test_connection(&self) -> Probe;
    /// The size limits that apply to attaching to this ticket.
    async fn attachment_limits(&self, _ticket: &TicketRef) -> Result<AttachmentLimits> {
        Ok(AttachmentLimits::default())
    }
}

/// What a ticket system lets deskbridge attach. `None` = no known limit.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
pub struct AttachmentLimits {
    /// Largest single file.
    pub per_file: Option<u64>,
    /// Largest total of all files on one ticket.
    pub per_ticket: Option<u64>,
    /// Bytes already attached to the ticket (counts against `per_ticket`).
    pub used_on_ticket: u64,
}

#[derive(Clone)]
pub struct BuildCtx {
    pub metrics: Arc<Metrics>,
    pub timeout: Duration,
    /// The CAs outbound HTTPS trusts besides the system's (`server.ca_bundle`, and once
    /// [`build`] has added it, the connection's or vendor's own `ca_bundle`).
    pub trust: crate::outbound::Trust,
}

/// An adapter's settings type: what `[[itsm]]` holds for its kind besides `id`, `kind`,
/// `base_url` and `rate_limit`. It refuses unknown keys; its tagged tables (`auth`, `inbound`)
/// are enums of exactly the types the system takes, so the adapter never meets one it cannot use.
pub trait ItsmSettings: std::fmt::Debug + Send + Sync + std::any::Any {
    /// What serde cannot check (a numeric account id, say), as the key at fault and why.
    fn check(&self) -> Result<(), crate::config::sections::Refusal> {
        Ok(())
    }
    /// The adapter for `cfg`, whose settings these are.
    fn build(&self, cfg: &ItsmConfig, ctx: &BuildCtx) -> Arc<dyn Itsm>;
}

pub fn build(cfg: &ItsmConfig, ctx: &BuildCtx) -> Arc<dyn Itsm> {
    let ctx = BuildCtx {
        trust: ctx.trust.with(cfg.ca_bundle.as_ref()),
        ..ctx.clone()
    };
    cfg.settings.build(cfg, &ctx)
}

/// Parse a payload an admin hands in to try the rules (`deskbridge rules test`,
/// `POST /api/v1/rules/test`). Its sender is the admin, authenticated by the API token or the
/// shell, so it counts as verified; the webhook path never comes here.
pub fn parse_admin_payload(itsm: &dyn Itsm, body: &[u8]) -> Result<Inbound, InboundError> {
    itsm.parse_inbound(&HeaderMap::new(), Verified::new(body))
}
