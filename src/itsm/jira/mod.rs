//! Jira Service Management, Cloud and Data Center (contracts/jira.md): Automation "Send web
//! request" or a signed admin webhook in; the servicedeskapi request, comments and two-step
//! attachments out, with the platform REST API for the fields JSM does not return (priority,
//! labels, assignee), the attachment list and the size limit.
//!
//! A ticket is referred to by its issue key (`ITS-42`). Comments carry the note marker in
//! their body, so "is this note already there" is answered by walking the comment pages;
//! "is this file already there" by the issue's `attachment` field, by file name.

mod assumed;
mod demo;
mod errors;
mod inbound;
mod settings;
mod shapes;
pub mod signature;
mod write;

#[cfg(test)]
mod tests;

use super::registry::Entry;
use super::{
    ArtifactFile, AttachmentLimits, BuildCtx, Inbound, InboundError, Itsm, ItsmError, Note,
    RemoteAttachment, Result, Verified, VerifyError,
};
use crate::config::ItsmConfig;
use crate::ids::{ConnectionId, TicketRef};
use crate::outbound::{read_json, Probe, Target, Upstream, UpstreamError};
use crate::render::Markup;
use crate::ticket::{Ticket, Wants};
use async_trait::async_trait;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use tracing::instrument;

pub use assumed::DEFAULT_TRIGGER_LABEL;
pub use settings::{Auth, Inbound as InboundScheme, Settings};

/// `kind = "jira"` in the registry.
pub static KIND: Entry = Entry::of::<Settings>("jira", demo::start);

pub struct Jira {
    id: ConnectionId,
    up: Upstream,
    auth: Auth,
    inbound: InboundScheme,
    trigger_label: String,
    /// Issue key → serviceDeskId, learnt on the read; the attachment flow needs it.
    desks: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for Jira {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jira")
            .field("id", &self.id)
            .field("upstream", &self.up)
            .field("trigger_label", &self.trigger_label)
            .finish()
    }
}

/// A ticket reference must be an issue key: it goes into URL paths.
fn key(t: &TicketRef) -> Result<String> {
    inbound::issue_key(t.as_str()).ok_or_else(|| {
        ItsmError::Contract(format!(
            "ticket reference {t} is not a Jira issue key like ITS-42"
        ))
    })
}

impl Jira {
    pub fn new(cfg: &ItsmConfig, settings: &Settings, ctx: &BuildCtx) -> Self {
        Jira {
            id: cfg.id.clone(),
            up: Upstream::new(
                Target::connection("jira", &cfg.id),
                &cfg.base_url,
                cfg.rate_limit,
                ctx.timeout,
                ctx.metrics.clone(),
                &ctx.trust,
            ),
            auth: settings.auth.clone(),
            inbound: settings.inbound.clone(),
            trigger_label: settings
                .trigger_label
                .clone()
                .unwrap_or_else(|| DEFAULT_TRIGGER_LABEL.to_string()),
            desks: Mutex::new(HashMap::new()),
        }
    }

    fn what(&self) -> String {
        format!("Jira {}", self.id)
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self
            .up
            .client()
            .request(method, self.up.url(path))
            .header("Accept", "application/json");
        self.auth.apply(rb)
    }

    async fn call_raw(
        &self,
        rb: reqwest::RequestBuilder,
    ) -> std::result::Result<Value, UpstreamError> {
        let resp = self.up.send(rb).await?;
        let headers = resp.headers().clone();
        read_json(&self.what(), resp, errors::envelope)
            .await
            .map_err(|e| errors::with_rate_limit(e, &headers, std::time::SystemTime::now()))
    }

    async fn call(&self, rb: reqwest::RequestBuilder) -> Result<Value> {
        Ok(self.call_raw(rb).await?)
    }

    fn contract(&self, what: impl std::fmt::Display) -> ItsmError {
        ItsmError::Contract(format!("{}: {what}", self.what()))
    }

    async fn request_facts(&self, key: &str) -> Result<shapes::RequestFacts> {
        let rb = self
            .req(reqwest::Method::GET, &format!("{}{key}", assumed::REQUEST))
            .query(&[("expand", assumed::REQUEST_EXPAND)]);
        let facts = shapes::request_facts(&self.call(rb).await?).map_err(|e| self.contract(e))?;
        self.desks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_string(), facts.service_desk_id.clone());
        Ok(facts)
    }

    async fn service_desk_of(&self, key: &str) -> Result<String> {
        if let Some(id) = self
            .desks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
        {
            return Ok(id.clone());
        }
        Ok(self.request_facts(key).await?.service_desk_id)
    }

    /// The request type's name, which the request read did not expand.
    async fn request_type_name(&self, facts: &shapes::RequestFacts) -> Result<String> {
        let path = assumed::request_type_path(&facts.service_desk_id, &facts.request_type_id);
        let v = self.call(self.req(reqwest::Method::GET, &path)).await?;
        v.get("name")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| self.contract("the request type answer has no `name`"))
    }

    async fn issue(&self, key: &str, fields: &str) -> Result<Value> {
        let rb = self
            .req(reqwest::Method::GET, &format!("{}{key}", assumed::ISSUE))
            .query(&[("fields", fields)]);
        self.call(rb).await
    }
}

#[async_trait]
impl Itsm for Jira {
    fn id(&self) -> &ConnectionId {
        &self.id
    }
    async fn test_connection(&self) -> Probe {
        match self.upload_limit().await {
            Ok(l) => Probe::ok(match l.per_file {
                Some(b) => format!("attachments enabled, up to {} MB a file", b / (1024 * 1024)),
                None => "signed in (no attachment limit could be read)".into(),
            }),
            // Attachments turned off: the message already says where to turn them on.
            Err(ItsmError::Contract(message)) => Probe { ok: false, message },
            Err(e) => e.probe(&assumed::ADVICE),
        }
    }
    fn markup(&self) -> Markup {
        Markup::JiraWiki
    }

    fn verify<'a>(
        &self,
        headers: &http::HeaderMap,
        body: &'a [u8],
        now: std::time::SystemTime,
    ) -> Result<Verified<'a>, VerifyError> {
        self.inbound.verify(headers, body, now)
    }

    fn parse_inbound(
        &self,
        headers: &http::HeaderMap,
        body: Verified<'_>,
    ) -> Result<Inbound, InboundError> {
        inbound::parse(headers, body.bytes(), &self.trigger_label)
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn read_ticket(&self, ticket: &TicketRef, wants: Wants) -> Result<Ticket> {
        let key = key(ticket)?;
        let facts = self.request_facts(&key).await?;
        let mut unknown = None;
        let name = match &facts.request_type_name {
            Some(n) => Some(n.clone()),
            None if wants.request_type => match self.request_type_name(&facts).await {
                Ok(n) => Some(n),
                Err(e) if e.is_refusal() => {
                    tracing::warn!(error = %e, "the request type cannot be read; rules decide without it");
                    unknown = Some(e.to_string());
                    None
                }
                Err(e) => return Err(e),
            },
            // No rule of this connection looks at it: not worth a call.
            None => None,
        };
        let issue = self.issue(&key, assumed::ISSUE_FIELDS).await?;
        let mut t = shapes::ticket(&facts, name, &issue);
        if let Some(why) = unknown {
            t.mark_unknown(&["queue", "request_type"], &why);
        }
        Ok(t)
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn find_note(&self, ticket: &TicketRef, marker: &str) -> Result<bool> {
        self.find_comment(&key(ticket)?, marker).await
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn post_note(&self, ticket: &TicketRef, note: &Note) -> Result<()> {
        self.post_comment(&key(ticket)?, note).await
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn list_attachments(&self, ticket: &TicketRef) -> Result<Vec<RemoteAttachment>> {
        let v = self
            .issue(&key(ticket)?, assumed::ATTACHMENT_FIELDS)
            .await?;
        let list = v
            .pointer("/fields/attachment")
            .and_then(Value::as_array)
            .ok_or_else(|| self.contract("the issue answer has no `fields.attachment` list"))?;
        Ok(list.iter().filter_map(shapes::attachment).collect())
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket, files = files.len()))]
    async fn attach(
        &self,
        ticket: &TicketRef,
        files: &[ArtifactFile],
    ) -> Result<Vec<RemoteAttachment>> {
        if files.is_empty() {
            return Ok(vec![]);
        }
        let key = key(ticket)?;
        let desk = self.service_desk_of(&key).await?;
        self.attach_files(&key, &desk, files).await
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn attachment_limits(&self, ticket: &TicketRef) -> Result<AttachmentLimits> {
        key(ticket)?;
        self.upload_limit().await
    }
}
