//! ServiceNow (contracts/servicenow.md): the signed UI Action call in, the Table API for the
//! incident and its journal, the Attachment API for files.
//!
//! Journal writes return no id, so "did we already post this note" is answered by reading
//! `sys_journal_field` for the note's marker; "did we already attach this file" by listing the
//! record's attachments by file name.

mod assumed;
mod demo;
mod inbound;
mod settings;
pub mod signature;

pub use settings::{Auth, Inbound as InboundScheme, Settings};

use super::registry::Entry;
use super::{
    ArtifactFile, BuildCtx, Inbound, InboundError, Itsm, ItsmError, Note, RemoteAttachment, Result,
    Verified, VerifyError,
};
use crate::config::{ItsmConfig, Visibility};
use crate::ids::{ConnectionId, TicketRef};
use crate::outbound::{read_json, Probe, Target, Upstream};
use crate::render::Markup;
use crate::ticket::{Person, Ticket, Wants};
use async_trait::async_trait;
use serde_json::Value;
use tracing::instrument;

/// Fields read from the incident; dot-walked e-mails save two calls to sys_user.
const FIELDS: &str = "number,short_description,priority,category,assignment_group,caller_id,caller_id.email,assigned_to,assigned_to.email,sys_domain,sys_class_name,cmdb_ci";
/// Attachment list page size.
const PAGE: usize = 100;

/// `kind = "servicenow"` in the registry.
pub static KIND: Entry = Entry::of::<Settings>("servicenow", demo::start);

pub struct ServiceNow {
    id: ConnectionId,
    up: Upstream,
    auth: Auth,
    inbound: InboundScheme,
}

impl std::fmt::Debug for ServiceNow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceNow")
            .field("id", &self.id)
            .field("upstream", &self.up)
            .finish()
    }
}

/// `{"error": {"message", "detail"}, "status": "failure"}` → "message (detail)".
fn envelope(v: &Value) -> Option<String> {
    let e = v.get("error")?;
    let msg = e.get("message").and_then(Value::as_str).unwrap_or_default();
    match e.get("detail").and_then(Value::as_str) {
        Some(d) if !d.is_empty() && d != msg => Some(format!("{msg} ({d})")),
        _ => Some(msg.to_string()),
    }
}

/// `incident/<sys_id>` → ("incident", "<sys_id>").
fn split(t: &TicketRef) -> Result<(&str, &str)> {
    t.as_str()
        .split_once('/')
        .ok_or_else(|| ItsmError::Contract(format!("ticket reference {t} is not table/sys_id")))
}

/// With `sysparm_display_value=all` a field is `{"value", "display_value"}`.
fn field<'a>(rec: &'a Value, name: &str, display: bool) -> Option<&'a str> {
    let f = rec.get(name)?;
    let s = match f {
        Value::String(s) => s.as_str(),
        Value::Object(_) => f
            .get(if display { "display_value" } else { "value" })?
            .as_str()?,
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

impl ServiceNow {
    pub fn new(cfg: &ItsmConfig, settings: &Settings, ctx: &BuildCtx) -> Self {
        ServiceNow {
            id: cfg.id.clone(),
            up: Upstream::new(
                Target::connection("servicenow", &cfg.id),
                &cfg.base_url,
                cfg.rate_limit,
                ctx.timeout,
                ctx.metrics.clone(),
                &ctx.trust,
            ),
            auth: settings.auth.clone(),
            inbound: settings.inbound.clone(),
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self
            .up
            .client()
            .request(method, self.up.url(path))
            .header("Accept", "application/json");
        self.auth.apply(rb)
    }

    async fn call(&self, rb: reqwest::RequestBuilder) -> Result<Value> {
        let resp = self.up.send(rb).await?;
        Ok(read_json(&format!("ServiceNow {}", self.id), resp, envelope).await?)
    }

    pub(crate) fn normalise(rec: &Value) -> Ticket {
        let person = |name: &str| {
            let p = Person {
                name: field(rec, name, true).map(String::from),
                email: field(rec, &format!("{name}.email"), false).map(String::from),
            };
            (p.name.is_some() || p.email.is_some()).then_some(p)
        };
        Ticket {
            number: field(rec, "number", false).map(String::from),
            subject: field(rec, "short_description", false).map(String::from),
            queue: field(rec, "assignment_group", true).map(String::from),
            priority: field(rec, "priority", false).map(String::from),
            category: field(rec, "category", false).map(String::from),
            requester: person("caller_id"),
            agent: person("assigned_to"),
            workspace: field(rec, "sys_domain", true).map(String::from),
            device: field(rec, "cmdb_ci", true).map(String::from),
            tags: Some(vec![]),
            ..Ticket::default()
        }
    }
}

#[async_trait]
impl Itsm for ServiceNow {
    fn id(&self) -> &ConnectionId {
        &self.id
    }

    async fn test_connection(&self) -> Probe {
        match self
            .call(self.req(reqwest::Method::GET, assumed::TEST_PATH))
            .await
        {
            Ok(v) => {
                let rows = v["result"].as_array().map_or(0, Vec::len);
                Probe::ok(format!("read the incident table ({rows} row)"))
            }
            Err(e) => e.probe(&assumed::ADVICE),
        }
    }
    fn markup(&self) -> Markup {
        Markup::ServiceNow
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
        _headers: &http::HeaderMap,
        body: Verified<'_>,
    ) -> Result<Inbound, InboundError> {
        inbound::parse(body.bytes())
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn read_ticket(&self, ticket: &TicketRef, _wants: Wants) -> Result<Ticket> {
        let (table, sys_id) = split(ticket)?;
        let rb = self
            .req(
                reqwest::Method::GET,
                &format!("/api/now/table/{table}/{sys_id}"),
            )
            .query(&[
                ("sysparm_display_value", "all"),
                ("sysparm_fields", FIELDS),
                ("sysparm_exclude_reference_link", "true"),
            ]);
        let v = self.call(rb).await?;
        let rec = v.get("result").filter(|r| r.is_object()).ok_or_else(|| {
            ItsmError::Contract(format!(
                "ServiceNow {}: the record answer has no `result` object",
                self.id
            ))
        })?;
        Ok(Self::normalise(rec))
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn find_note(&self, ticket: &TicketRef, marker: &str) -> Result<bool> {
        let (_, sys_id) = split(ticket)?;
        let q = format!("element_id={sys_id}^valueLIKE{marker}");
        let rb = self
            .req(reqwest::Method::GET, "/api/now/table/sys_journal_field")
            .query(&[
                ("sysparm_query", q.as_str()),
                ("sysparm_fields", "sys_id"),
                ("sysparm_limit", "1"),
            ]);
        let v = self.call(rb).await?;
        let rows = v["result"].as_array().ok_or_else(|| {
            ItsmError::Contract(format!(
                "ServiceNow {}: the journal answer has no `result` list",
                self.id
            ))
        })?;
        Ok(!rows.is_empty())
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn post_note(&self, ticket: &TicketRef, note: &Note) -> Result<()> {
        let (table, sys_id) = split(ticket)?;
        let key = match note.visibility {
            Visibility::Internal => "work_notes",
            Visibility::Public => "comments",
        };
        let rb = self
            .req(
                reqwest::Method::PATCH,
                &format!("/api/now/table/{table}/{sys_id}"),
            )
            .query(&[("sysparm_fields", "sys_id")])
            .json(&serde_json::json!({ key: note.body }));
        self.call(rb).await?;
        Ok(())
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn list_attachments(&self, ticket: &TicketRef) -> Result<Vec<RemoteAttachment>> {
        let (_, sys_id) = split(ticket)?;
        let mut out = vec![];
        loop {
            let offset = out.len().to_string();
            // A stable order, so offset paging cannot skip a file while attachments are added.
            let rb = self
                .req(reqwest::Method::GET, "/api/now/attachment")
                .query(&[
                    (
                        "sysparm_query",
                        format!("table_sys_id={sys_id}^ORDERBYsys_created_on^ORDERBYsys_id")
                            .as_str(),
                    ),
                    ("sysparm_limit", &PAGE.to_string()),
                    ("sysparm_offset", &offset),
                ]);
            let v = self.call(rb).await?;
            let rows = v["result"].as_array().ok_or_else(|| {
                ItsmError::Contract(format!(
                    "ServiceNow {}: the attachment list has no `result` list",
                    self.id
                ))
            })?;
            for r in rows {
                out.push(RemoteAttachment {
                    id: r["sys_id"].as_str().map(String::from),
                    name: r["file_name"].as_str().unwrap_or_default().to_string(),
                    size: r["size_bytes"].as_str().and_then(|s| s.parse().ok()),
                });
            }
            if rows.len() < PAGE {
                return Ok(out);
            }
        }
    }

    #[instrument(skip_all, fields(connection = %self.id, ticket = %ticket))]
    async fn attach(
        &self,
        ticket: &TicketRef,
        files: &[ArtifactFile],
    ) -> Result<Vec<RemoteAttachment>> {
        let (table, sys_id) = split(ticket)?;
        let mut out = vec![];
        for f in files {
            let rb = self
                .req(reqwest::Method::POST, "/api/now/attachment/file")
                .query(&[
                    ("table_name", table),
                    ("table_sys_id", sys_id),
                    ("file_name", f.name.as_str()),
                ])
                .header("Content-Type", f.content_type.as_str())
                .body(f.bytes.clone());
            let v = self.call(rb).await?;
            out.push(RemoteAttachment {
                id: v["result"]["sys_id"].as_str().map(String::from),
                name: f.name.clone(),
                size: Some(f.bytes.len() as u64),
            });
        }
        Ok(out)
    }
}
