//! Freshservice (contracts/freshservice.md): the Workflow Automator's "Trigger Webhook" call in,
//! the v2 REST API out: the ticket with its group, requester and agent; notes (HTML, private
//! unless a rule says public); artifacts as `attachments[]` parts of one private multipart note.
//!
//! Notes and attachments live in the ticket's conversations, so "is this note already there"
//! and "is this file already attached" are both answered by reading every page of
//! `GET /api/v2/tickets/{id}/conversations` (plus the ticket's own attachments, which count
//! against the same per-ticket size limit). Facts not confirmed officially are in [`assumed`].

mod assumed;
mod bodies;
mod demo;
mod inbound;
mod settings;
mod wire;

pub use assumed::BODY_TEMPLATE;
pub use settings::{Auth, Inbound as InboundScheme, Settings};

use super::registry::Entry;
use super::{
    ArtifactFile, AttachmentLimits, BuildCtx, Inbound, InboundError, Itsm, ItsmError, Note,
    RemoteAttachment, Result, Verified, VerifyError,
};
use crate::config::{ItsmConfig, Secret, Visibility};
use crate::ids::{ConnectionId, TicketRef};
use crate::outbound::{read_json, Target, Upstream};
use crate::render::Markup;
use crate::ticket::{Person, Ticket, Wants};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;
use tracing::instrument;

/// `kind = "freshservice"` in the registry.
pub static KIND: Entry = Entry::of::<Settings>("freshservice", demo::start);

pub struct Freshservice {
    id: ConnectionId,
    up: Upstream,
    key: Secret,
    inbound: InboundScheme,
}

impl std::fmt::Debug for Freshservice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Freshservice")
            .field("id", &self.id)
            .field("upstream", &self.up)
            .finish()
    }
}

/// The numeric ticket id a [`TicketRef`] holds.
fn ticket_id(t: &TicketRef) -> Result<u64> {
    t.as_str().parse().map_err(|_| {
        ItsmError::Contract(format!(
            "ticket reference {t} is not a Freshservice ticket number"
        ))
    })
}

/// A conversation page and whether another follows.
struct Page {
    conversations: Vec<Value>,
    more: bool,
}

impl Freshservice {
    pub fn new(cfg: &ItsmConfig, settings: &Settings, ctx: &BuildCtx) -> Self {
        let Auth::ApiKey(api_key) = &settings.auth;
        Freshservice {
            id: cfg.id.clone(),
            up: Upstream::new(
                Target::connection("freshservice", &cfg.id),
                &cfg.base_url,
                cfg.rate_limit,
                ctx.timeout,
                ctx.metrics.clone(),
                &ctx.trust,
            ),
            key: api_key.key.clone(),
            inbound: settings.inbound.clone(),
        }
    }

    /// Basic auth with the API key as the user name and `X` as the password.
    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self
            .up
            .client()
            .request(method, self.up.url(path))
            .header("Accept", "application/json");
        rb.basic_auth(self.key.expose(), Some("X"))
    }

    /// Send, note the account's remaining rate-limit budget, read JSON; `doing` names the call
    /// in error messages ("reading ticket 266").
    async fn call(
        &self,
        rb: reqwest::RequestBuilder,
        doing: &str,
    ) -> Result<(Value, reqwest::header::HeaderMap)> {
        let resp = self.up.send(rb).await?;
        let headers = resp.headers().clone();
        self.watch_budget(&headers);
        let what = format!("Freshservice {} ({doing})", self.id);
        let v = read_json(&what, resp, wire::envelope).await?;
        Ok((v, headers))
    }

    /// Freshservice's limit is per account, shared with every other integration: say so in the
    /// log when little is left, before 429s start.
    fn watch_budget(&self, h: &reqwest::header::HeaderMap) {
        let num = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        if let (Some(total), Some(remaining)) =
            (num(assumed::HEADER_TOTAL), num(assumed::HEADER_REMAINING))
        {
            let used = num(assumed::HEADER_USED).unwrap_or(1);
            if remaining * 10 < total {
                tracing::warn!(connection = %self.id, total, remaining, used, "the Freshservice account is close to its API rate limit");
            } else {
                tracing::debug!(total, remaining, used, "Freshservice rate limit");
            }
        }
    }

    fn object<'v>(&self, v: &'v Value, key: &str, doing: &str) -> Result<&'v Value> {
        v.get(key).filter(|o| o.is_object()).ok_or_else(|| {
            ItsmError::Contract(format!(
                "Freshservice {} ({doing}): the answer has no `{key}` object",
                self.id
            ))
        })
    }

    async fn get_ticket(&self, id: u64, include: Option<&str>) -> Result<Value> {
        let doing = format!("reading ticket {id}");
        let mut rb = self.req(Method::GET, &format!("/api/v2/tickets/{id}"));
        if let Some(inc) = include {
            rb = rb.query(&[("include", inc)]);
        }
        let (v, _) = self.call(rb, &doing).await?;
        Ok(self.object(&v, "ticket", &doing)?.clone())
    }

    /// A related record (`group`, `requester`, `agent`) by path and id.
    async fn related(&self, path: &str, id: u64, key: &str) -> Result<Value> {
        let doing = format!("reading {key} {id}");
        let (v, _) = self
            .call(self.req(Method::GET, &format!("{path}{id}")), &doing)
            .await?;
        Ok(self.object(&v, key, &doing)?.clone())
    }

    /// The ticket's group; `None` when it is gone (404).
    async fn group(&self, id: u64) -> Result<Option<Value>> {
        match self.related("/api/v2/groups/", id, "group").await {
            Err(e) if matches!(&e, ItsmError::Upstream(u) if u.status == Some(404)) => {
                tracing::warn!(connection = %self.id, id, "the ticket names a group that cannot be read (404)");
                Ok(None)
            }
            r => r.map(Some),
        }
    }

    /// The requester; one who is an agent is not under /requesters, so look there next.
    async fn requester(&self, id: u64) -> Result<Option<Person>> {
        let r = match self.related(assumed::REQUESTER_PATH, id, "requester").await {
            Err(e) if matches!(&e, ItsmError::Upstream(u) if u.status == Some(404)) => {
                self.related(assumed::AGENT_PATH, id, "agent").await?
            }
            r => r?,
        };
        Ok(wire::person(&r))
    }

    async fn agent(&self, id: u64) -> Result<Option<Person>> {
        let a = self.related(assumed::AGENT_PATH, id, "agent").await?;
        Ok(wire::person(&a))
    }

    async fn conversations_page(&self, id: u64, page: usize) -> Result<Page> {
        let doing = format!("listing the conversations of ticket {id}, page {page}");
        let rb = self
            .req(Method::GET, &format!("/api/v2/tickets/{id}/conversations"))
            .query(&[
                ("page", page.to_string()),
                ("per_page", assumed::PER_PAGE.to_string()),
            ]);
        let (v, headers) = self.call(rb, &doing).await?;
        let list = v
            .get("conversations")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                ItsmError::Contract(format!(
                    "Freshservice {} ({doing}): the answer has no `conversations` list",
                    self.id
                ))
            })?;
        let link = headers
            .get(reqwest::header::LINK)
            .and_then(|l| l.to_str().ok());
        let more = match link {
            Some(_) => wire::has_next(link),
            None => list.len() >= assumed::PER_PAGE,
        };
        Ok(Page {
            conversations: list.clone(),
            more,
        })
    }

    /// Every conversation (notes and replies) of the ticket, all pages.
    async fn conversations(&self, id: u64) -> Result<Vec<Value>> {
        let mut out = vec![];
        for page in 1..=assumed::MAX_PAGES {
            let p = self.conversations_page(id, page).await?;
            out.extend(p.conversations);
            if !p.more {
                return Ok(out);
            }
        }
        Err(ItsmError::Contract(format!(
            "Freshservice {}: ticket {id} has more than {} pages of conversations; deskbridge stops reading there",
            self.id,
            assumed::MAX_PAGES
        )))
    }

    /// Files on the ticket itself and on every conversation.
    async fn all_attachments(&self, id: u64) -> Result<Vec<RemoteAttachment>> {
        let ticket = self.get_ticket(id, None).await?;
        let mut out = wire::attachments(&ticket);
        for c in self.conversations(id).await? {
            out.extend(wire::attachments(&c));
        }
        Ok(out)
    }
}

#[async_trait]
impl Itsm for Freshservice {
    fn id(&self) -> &ConnectionId {
        &self.id
    }
    async fn test_connection(&self) -> crate::outbound::Probe {
        let rb = self.req(Method::GET, assumed::TEST_PATH);
        match self.call(rb, "listing tickets").await {
            Ok((v, _)) => {
                let n = v["tickets"].as_array().map_or(0, Vec::len);
                crate::outbound::Probe::ok(format!("read the ticket list ({n} ticket)"))
            }
            Err(e) => e.probe(&assumed::ADVICE),
        }
    }
    fn markup(&self) -> Markup {
        Markup::Html
    }

    fn verify<'a>(
        &self,
        headers: &http::HeaderMap,
        body: &'a [u8],
        _now: std::time::SystemTime,
    ) -> Result<Verified<'a>, VerifyError> {
        self.inbound.verify(headers, body)
    }

    fn parse_inbound(
        &self,
        _headers: &http::HeaderMap,
        body: Verified<'_>,
    ) -> Result<Inbound, InboundError> {
        inbound::parse(body.bytes())
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn read_ticket(&self, ticket: &TicketRef, wants: Wants) -> Result<Ticket> {
        let id = ticket_id(ticket)?;
        let t = self.get_ticket(id, Some(assumed::TICKET_INCLUDE)).await?;
        let mut rel = wire::Related::default();
        if let Some(g) = wire::id_of(&t, "group_id") {
            let group = self.group(g).await?;
            rel.group = group.and_then(|g| g.get("name").and_then(Value::as_str).map(String::from));
        }
        let mut unknown = vec![];
        if let Some(r) = wire::id_of(&t, "requester_id").filter(|_| wants.requester) {
            rel.requester = super::optional(self.requester(r).await, "requester", &mut unknown)?;
        }
        if let Some(a) = wire::id_of(&t, "responder_id").filter(|_| wants.agent) {
            rel.agent = super::optional(self.agent(a).await, "agent", &mut unknown)?;
        }
        let mut ticket = wire::normalise(&t, rel);
        ticket.unknown = unknown;
        Ok(ticket)
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn find_note(&self, ticket: &TicketRef, marker: &str) -> Result<bool> {
        let id = ticket_id(ticket)?;
        let has = |c: &Value, key: &str| {
            c.get(key)
                .and_then(Value::as_str)
                .is_some_and(|s| s.contains(marker))
        };
        Ok(self
            .conversations(id)
            .await?
            .iter()
            .any(|c| has(c, "body_text") || has(c, "body")))
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn post_note(&self, ticket: &TicketRef, note: &Note) -> Result<()> {
        let id = ticket_id(ticket)?;
        let private = note.visibility == Visibility::Internal;
        let body = bodies::marker_on_its_own_line(&note.body, &note.marker);
        let rb = self
            .req(Method::POST, &format!("/api/v2/tickets/{id}/notes"))
            .json(&serde_json::json!({ "body": body, "private": private }));
        let (v, _) = self
            .call(rb, &format!("adding a note to ticket {id}"))
            .await?;
        self.object(&v, "conversation", "adding a note")?;
        Ok(())
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn list_attachments(&self, ticket: &TicketRef) -> Result<Vec<RemoteAttachment>> {
        self.all_attachments(ticket_id(ticket)?).await
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket, files = files.len()))]
    async fn attach(
        &self,
        ticket: &TicketRef,
        files: &[ArtifactFile],
    ) -> Result<Vec<RemoteAttachment>> {
        let id = ticket_id(ticket)?;
        if files.is_empty() {
            return Ok(vec![]);
        }
        let rb = self
            .req(Method::POST, &format!("/api/v2/tickets/{id}/notes"))
            .multipart(bodies::files_form(files)?);
        let doing = format!("attaching {} files to ticket {id}", files.len());
        let (v, _) = self.call(rb, &doing).await?;
        let stored = wire::attachments(self.object(&v, "conversation", &doing)?);
        Ok(files
            .iter()
            .map(|f| {
                let found = stored.iter().find(|a| a.name == f.name);
                RemoteAttachment {
                    id: found.and_then(|a| a.id.clone()),
                    name: f.name.clone(),
                    size: found.and_then(|a| a.size).or(Some(f.bytes.len() as u64)),
                }
            })
            .collect())
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn attachment_limits(&self, ticket: &TicketRef) -> Result<AttachmentLimits> {
        let used = self
            .all_attachments(ticket_id(ticket)?)
            .await?
            .iter()
            .filter_map(|a| a.size)
            .sum();
        Ok(AttachmentLimits {
            per_file: None,
            per_ticket: Some(assumed::TICKET_ATTACHMENT_LIMIT),
            used_on_ticket: used,
        })
    }
}
