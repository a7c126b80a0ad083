//! Zendesk (contracts/zendesk.md): a trigger webhook or a ticket event subscription in; the
//! Tickets API to read the ticket and to add comments; the Uploads API plus one comment to
//! attach files.
//!
//! Files attach to comments, never to tickets: every artifact is uploaded under one upload
//! token (the first upload returns it, the others reuse it) and one internal comment carries
//! the token, so a ticket gets all of a session's files in a single update or none of them.
//! Zendesk returns no comment id we could record before a crash, so "is it already there" is
//! answered by reading the ticket's comments: by the note's marker, by the file's name.

mod assumed;
mod client;
mod demo;
mod inbound;
mod names;
mod settings;
pub mod signature;

use super::registry::Entry;
use super::{
    ArtifactFile, AttachmentLimits, BuildCtx, Inbound, InboundError, Itsm, ItsmError, Note,
    RemoteAttachment, Result, Verified, VerifyError,
};
use crate::config::{ItsmConfig, Visibility};
use crate::ids::{ConnectionId, TicketRef};
use crate::render::{escape, Markup};
use crate::ticket::{Ticket, Wants};
use async_trait::async_trait;
use client::{Client, Comments};
use names::Names;
use serde_json::{json, Value};
use tracing::instrument;

pub use client::MAX_COMMENTS;
pub use inbound::INVOCATION_ID;
pub use settings::{Auth, Inbound as InboundScheme, Settings};

/// `kind = "zendesk"` in the registry.
pub static KIND: Entry = Entry::of::<Settings>("zendesk", demo::start);

/// The tag whose addition asks for a session, unless the connection sets `trigger_tag`.
pub const DEFAULT_TRIGGER_TAG: &str = "remote_session";

#[derive(Debug)]
pub struct Zendesk {
    id: ConnectionId,
    client: Client,
    names: Names,
    trigger_tag: String,
    inbound: InboundScheme,
    /// When set, the only account whose webhooks are accepted.
    account_id: Option<String>,
}

/// The numeric id a Zendesk ticket reference must be.
fn ticket_id(t: &TicketRef) -> Result<u64> {
    t.as_str().parse().map_err(|_| {
        ItsmError::Contract(format!(
            "ticket reference {t} is not a numeric Zendesk ticket id"
        ))
    })
}

/// An id field of a ticket: a number, or (in some payloads) a string of digits; null is none.
fn id_field(v: &Value, key: &str) -> Option<u64> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A non-empty, trimmed string field.
pub(super) fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// An object's `id` as text, whether Zendesk sent it as a number or a string.
fn id_text(v: &Value) -> Option<String> {
    match v.get("id")? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

impl Zendesk {
    pub fn new(cfg: &ItsmConfig, settings: &Settings, ctx: &BuildCtx) -> Self {
        Zendesk {
            id: cfg.id.clone(),
            client: Client::new(cfg, settings.auth.clone(), ctx),
            names: Names::default(),
            trigger_tag: settings
                .trigger_tag
                .clone()
                .unwrap_or_else(|| DEFAULT_TRIGGER_TAG.into()),
            inbound: settings.inbound.clone(),
            account_id: settings.account_id.clone(),
        }
    }

    /// The ticket object of `GET /api/v2/tickets/{id}`, normalised, with the group's name and
    /// the names in `wants` looked up; a brand or user Zendesk refuses (403/404) is unknown.
    async fn normalise(&self, t: &Value, wants: Wants) -> Result<Ticket> {
        let c = &self.client;
        let queue = match id_field(t, "group_id") {
            Some(g) => self.names.group(c, g).await?,
            None => None,
        };
        let mut unknown = vec![];
        let brand = match id_field(t, "brand_id").filter(|_| wants.brand) {
            Some(b) => super::optional(self.names.brand(c, b).await, "brand", &mut unknown)?,
            None => None,
        };
        let requester = match id_field(t, "requester_id").filter(|_| wants.requester) {
            Some(u) => super::optional(self.names.user(c, u).await, "requester", &mut unknown)?,
            None => None,
        };
        let agent = match id_field(t, "assignee_id").filter(|_| wants.agent) {
            Some(u) => super::optional(self.names.user(c, u).await, "agent", &mut unknown)?,
            None => None,
        };
        let tags = t.get("tags").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        });
        Ok(Ticket {
            number: id_field(t, "id").map(|i| i.to_string()),
            subject: text(t, "subject").or_else(|| text(t, "raw_subject")),
            queue,
            priority: text(t, "priority"),
            tags: Some(tags.unwrap_or_default()),
            category: text(t, "type"),
            requester,
            agent,
            brand,
            unknown,
            ..Ticket::default()
        })
    }

    /// `PUT /api/v2/tickets/{id}` with one comment.
    async fn comment(&self, id: u64, comment: Value) -> Result<()> {
        let rb = self
            .client
            .req(reqwest::Method::PUT, &format!("/api/v2/tickets/{id}"))
            .json(&json!({"ticket": {"comment": comment}}));
        let v = self.client.call(rb).await?;
        if !v.get("ticket").is_some_and(Value::is_object) {
            return Err(ItsmError::Contract(format!(
                "{}: the ticket update answered without a `ticket` object",
                self.client.what
            )));
        }
        Ok(())
    }

    /// Upload one file, into the upload `token` when there is one; returns the upload's token
    /// and the new attachment's id.
    async fn upload(
        &self,
        f: &ArtifactFile,
        token: Option<&str>,
    ) -> Result<(String, Option<String>)> {
        let mut q = vec![("filename", f.name.as_str())];
        if let Some(t) = token {
            q.push(("token", t));
        }
        let rb = self
            .client
            .req(reqwest::Method::POST, "/api/v2/uploads")
            .query(&q)
            .header("Content-Type", f.content_type.as_str())
            .body(f.bytes.clone());
        let v = self.client.call(rb).await?;
        let up = &v["upload"];
        let got = text(up, "token").ok_or_else(|| {
            ItsmError::Contract(format!(
                "{}: the upload answer has no `upload.token`",
                self.client.what
            ))
        })?;
        if token.is_some_and(|t| t != got) {
            return Err(ItsmError::Contract(format!(
                "{}: uploading {} into an upload answered another token",
                self.client.what, f.name
            )));
        }
        Ok((got, attachment_id(up, &f.name)))
    }
}

/// The id of the attachment just uploaded: `upload.attachment.id`, or (older answers, which
/// only list `attachments`) the last one with this file name.
fn attachment_id(up: &Value, name: &str) -> Option<String> {
    if let Some(a) = up.get("attachment").filter(|a| a.is_object()) {
        return id_text(a);
    }
    let named = |a: &&Value| file_name(a).is_some_and(|n| n == name);
    up.get("attachments")?
        .as_array()?
        .iter()
        .rev()
        .find(named)
        .and_then(id_text)
}

/// An attachment's file name: `file_name`, or `name` in older answers.
fn file_name(a: &Value) -> Option<String> {
    text(a, "file_name").or_else(|| text(a, "name"))
}

/// Whether a comment holds `marker` in any of the texts Zendesk returns for it.
fn has_marker(comment: &Value, marker: &str) -> bool {
    assumed::COMMENT_TEXT_FIELDS.iter().any(|f| {
        comment
            .get(*f)
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains(marker))
    })
}

/// The body of the comment that carries the files: their names, escaped like any other text.
fn attach_body(files: &[ArtifactFile]) -> String {
    let mut body = String::from("Remote-support session artifacts, attached by deskbridge:\n");
    for f in files {
        body.push_str(&format!("\n- {}", escape(Markup::Markdown, &f.name)));
    }
    body
}

#[async_trait]
impl Itsm for Zendesk {
    fn id(&self) -> &ConnectionId {
        &self.id
    }
    async fn test_connection(&self) -> crate::outbound::Probe {
        use crate::outbound::Probe;
        match self.client.get(assumed::ME_PATH).await {
            Ok(v) => {
                let user = &v[assumed::USER_KEY];
                let role = user["role"].as_str().unwrap_or("unknown");
                let email = user["email"].as_str().unwrap_or("?");
                if assumed::STAFF_ROLES.contains(&role) {
                    Probe::ok(format!("signed in as {email} ({role})"))
                } else {
                    Probe::failed(
                        format!("signed in as {email}, whose role is {role}"),
                        assumed::ADVICE.forbidden,
                    )
                }
            }
            Err(e) => e.probe(&assumed::ADVICE),
        }
    }
    fn markup(&self) -> Markup {
        Markup::Markdown
    }

    fn verify<'a>(
        &self,
        headers: &http::HeaderMap,
        body: &'a [u8],
        now: std::time::SystemTime,
    ) -> Result<Verified<'a>, VerifyError> {
        let verified = self.inbound.verify(headers, body, now)?;
        if let Some(want) = &self.account_id {
            signature::check_account(want, headers)?;
        }
        Ok(verified)
    }

    fn parse_inbound(
        &self,
        headers: &http::HeaderMap,
        body: Verified<'_>,
    ) -> Result<Inbound, InboundError> {
        inbound::parse(headers, body.bytes(), &self.trigger_tag)
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn read_ticket(&self, ticket: &TicketRef, wants: Wants) -> Result<Ticket> {
        let id = ticket_id(ticket)?;
        let v = self.client.get(&format!("/api/v2/tickets/{id}")).await?;
        let t = v.get("ticket").filter(|t| t.is_object()).ok_or_else(|| {
            ItsmError::Contract(format!(
                "{}: the ticket answer has no `ticket` object",
                self.client.what
            ))
        })?;
        self.normalise(t, wants).await
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn find_note(&self, ticket: &TicketRef, marker: &str) -> Result<bool> {
        let mut pages = Comments::new(&self.client, ticket_id(ticket)?);
        while let Some(comments) = pages.next_page().await? {
            if comments.iter().any(|c| has_marker(c, marker)) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn post_note(&self, ticket: &TicketRef, note: &Note) -> Result<()> {
        let public = note.visibility == Visibility::Public;
        self.comment(
            ticket_id(ticket)?,
            json!({"body": note.body, "public": public}),
        )
        .await
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn list_attachments(&self, ticket: &TicketRef) -> Result<Vec<RemoteAttachment>> {
        let mut out = vec![];
        let mut pages = Comments::new(&self.client, ticket_id(ticket)?);
        while let Some(comments) = pages.next_page().await? {
            for a in comments
                .iter()
                .filter_map(|c| c.get("attachments")?.as_array())
                .flatten()
            {
                out.push(RemoteAttachment {
                    id: id_text(a),
                    name: file_name(a).unwrap_or_default(),
                    size: a.get("size").and_then(Value::as_u64),
                });
            }
        }
        Ok(out)
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn attach(
        &self,
        ticket: &TicketRef,
        files: &[ArtifactFile],
    ) -> Result<Vec<RemoteAttachment>> {
        let id = ticket_id(ticket)?;
        if files.is_empty() {
            return Ok(vec![]);
        }
        let mut token: Option<String> = None;
        let mut out = vec![];
        for f in files {
            let (t, attachment) = self.upload(f, token.as_deref()).await?;
            token = Some(t);
            out.push(RemoteAttachment {
                id: attachment,
                name: f.name.clone(),
                size: Some(f.bytes.len() as u64),
            });
        }
        // Artifacts are audit material: internal, whatever the notes' visibility.
        self.comment(
            id,
            json!({"body": attach_body(files), "public": false, "uploads": [token]}),
        )
        .await?;
        Ok(out)
    }

    async fn attachment_limits(&self, _ticket: &TicketRef) -> Result<AttachmentLimits> {
        Ok(AttachmentLimits {
            per_file: Some(assumed::MAX_ATTACHMENT_BYTES),
            ..AttachmentLimits::default()
        })
    }
}

#[cfg(test)]
mod tests;
