//! Freshservice simulator: the v2 REST API deskbridge uses (contracts/freshservice.md) behind
//! basic auth with the API key as user: view a ticket (`include=tags|requester`), groups,
//! requesters, agents, notes as JSON or as `multipart/form-data` with `attachments[]` parts,
//! paged conversations with a `Link` header, the per-ticket attachment size limit, the
//! validation error envelope, and `X-RateLimit-*` headers on every answer. Tests seed tickets
//! with [`FreshserviceSim::add_ticket`] and read back what the product wrote through
//! [`FreshserviceSim::notes`] and [`FreshserviceSim::attachments`].

mod errors;
mod html;
mod notes;
mod render;
mod routes;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use super::fault::Faults;
use super::{Bound, Server};
use errors::{errors, validation, FsErrors};

/// A ticket to seed. Priority is the API's number (1 Low, 2 Medium, 3 High, 4 Urgent).
#[derive(Debug, Clone)]
pub struct SimTicket {
    pub subject: String,
    pub priority: u8,
    /// Group name; the simulator invents one id per distinct name. `None`: unassigned.
    pub group: Option<String>,
    pub workspace_id: Option<u64>,
    pub requester_name: String,
    pub requester_email: String,
    /// The requester is an agent (found under /agents, not /requesters).
    pub requester_is_agent: bool,
    /// The responder's e-mail; `None` for an unassigned ticket.
    pub agent_email: Option<String>,
    pub category: Option<String>,
    pub tags: Vec<String>,
    /// "Incident" or "Service Request".
    pub ticket_type: String,
    /// Files attached to the ticket itself (they count against the size limit); moved into
    /// the simulator when the ticket is added.
    pub attachments: Vec<(String, Vec<u8>)>,
}

impl Default for SimTicket {
    fn default() -> Self {
        SimTicket {
            subject: "Outlook crashes".into(),
            priority: 2,
            group: Some("Service Desk".into()),
            workspace_id: Some(2),
            requester_name: "Jane Doe".into(),
            requester_email: "jane@acme.example".into(),
            requester_is_agent: false,
            agent_email: Some("beth.anglin@acme.example".into()),
            category: Some("Software".into()),
            tags: vec![],
            ticket_type: "Incident".into(),
            attachments: vec![],
        }
    }
}

/// A stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimFile {
    pub id: u64,
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A conversation: a note (or a seeded reply) on a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimNote {
    pub id: u64,
    /// As posted: HTML.
    pub body: String,
    /// As Freshservice derives it: the text of the HTML.
    pub body_text: String,
    pub private: bool,
    pub attachments: Vec<SimFile>,
}

struct TicketRec {
    id: u64,
    t: SimTicket,
    group_id: Option<u64>,
    requester_id: u64,
    responder_id: Option<u64>,
    files: Vec<SimFile>,
    created_at: String,
    updated_at: String,
}

struct NoteRec {
    ticket_id: u64,
    note: SimNote,
    incoming: bool,
    created_at: String,
}

/// A person record under /requesters or /agents.
#[derive(Clone)]
struct PersonRec {
    id: u64,
    first_name: String,
    last_name: String,
    email: String,
}

struct FsData {
    api_key: String,
    next_id: u64,
    tickets: BTreeMap<u64, TicketRec>,
    notes: Vec<NoteRec>,
    groups: BTreeMap<u64, String>,
    requesters: BTreeMap<u64, PersonRec>,
    agents: BTreeMap<u64, PersonRec>,
    /// The total size of a ticket's attachments, all notes together.
    attachment_limit: u64,
}

impl FsData {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The id of the group called `name`, invented on first use.
    fn group_id(&mut self, name: &str) -> u64 {
        if let Some((id, _)) = self.groups.iter().find(|(_, n)| *n == name) {
            return *id;
        }
        let id = self.id();
        self.groups.insert(id, name.to_string());
        id
    }

    /// The id of the person with `email` in `book`, added if new.
    fn person(book: &mut BTreeMap<u64, PersonRec>, id: u64, name: &str, email: &str) -> u64 {
        if let Some(p) = book.values().find(|p| p.email == email) {
            return p.id;
        }
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        let rec = PersonRec {
            id,
            first_name: first.into(),
            last_name: last.into(),
            email: email.into(),
        };
        book.insert(id, rec);
        id
    }

    /// Bytes attached to the ticket: its own files and every note's.
    fn used(&self, ticket_id: u64) -> u64 {
        let own: usize = self
            .tickets
            .get(&ticket_id)
            .map_or(0, |t| t.files.iter().map(|f| f.bytes.len()).sum());
        let notes: usize = self
            .notes
            .iter()
            .filter(|n| n.ticket_id == ticket_id)
            .flat_map(|n| n.note.attachments.iter())
            .map(|f| f.bytes.len())
            .sum();
        (own + notes) as u64
    }
}

struct FsState {
    base_url: String,
    data: Mutex<FsData>,
    /// Requests in the current minute, for the `X-RateLimit-*` headers (the plan's budget).
    minute: Mutex<(std::time::Instant, u32)>,
}

impl FsState {
    fn data(&self) -> MutexGuard<'_, FsData> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Handle to a running Freshservice simulator; clones share it; it stops with the last one.
#[derive(Clone)]
pub struct FreshserviceSim {
    inner: Arc<Handle>,
}

struct Handle {
    state: Arc<FsState>,
    faults: Faults,
    server: Server,
}

/// The account's API budget per minute reported in headers (Enterprise plan, 3p table).
const PLAN_PER_MINUTE: u32 = 500;

impl FreshserviceSim {
    /// Starts a simulator on a random loopback port that accepts `api_key` (any password).
    pub async fn start(api_key: &str) -> Self {
        let bound = Bound::loopback().await;
        let state = Arc::new(FsState {
            base_url: bound.base_url(),
            data: Mutex::new(FsData {
                api_key: api_key.into(),
                next_id: 1000,
                tickets: BTreeMap::new(),
                notes: vec![],
                groups: BTreeMap::new(),
                requesters: BTreeMap::new(),
                agents: BTreeMap::new(),
                attachment_limit: 15 * 1024 * 1024,
            }),
            minute: Mutex::new((std::time::Instant::now(), 0)),
        });
        let faults = Faults::new();
        let router = routes::router(state.clone(), &faults);
        let server = bound.serve(router, faults.halt_token());
        FreshserviceSim {
            inner: Arc::new(Handle {
                state,
                faults,
                server,
            }),
        }
    }

    /// `http://127.0.0.1:PORT`, the `base_url` to configure.
    pub fn base_url(&self) -> String {
        self.inner.server.base_url()
    }

    pub fn shutdown(&self) {
        self.inner.server.shutdown();
    }

    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// Changes the accepted API key (a rotated key).
    pub fn set_api_key(&self, key: &str) {
        self.inner.state.data().api_key = key.into();
    }

    /// Changes the per-ticket attachment limit (the contract's 15 MB by default).
    pub fn set_attachment_limit(&self, bytes: u64) {
        self.inner.state.data().attachment_limit = bytes;
    }

    /// Seeds a ticket and returns its id.
    pub fn add_ticket(&self, mut t: SimTicket) -> u64 {
        let mut d = self.inner.state.data();
        let group_id = t.group.as_ref().map(|name| d.group_id(name));
        let rid = d.id();
        let requester_id = if t.requester_is_agent {
            FsData::person(&mut d.agents, rid, &t.requester_name, &t.requester_email)
        } else {
            FsData::person(
                &mut d.requesters,
                rid,
                &t.requester_name,
                &t.requester_email,
            )
        };
        let responder_id = t.agent_email.as_ref().map(|e| {
            let id = d.id();
            FsData::person(&mut d.agents, id, &render::name_from_email(e), e)
        });
        let files = std::mem::take(&mut t.attachments)
            .into_iter()
            .map(|(name, bytes)| SimFile {
                id: d.id(),
                content_type: render::content_type(&name),
                name,
                bytes,
            })
            .collect();
        let id = d.id();
        let now = render::now();
        let rec = TicketRec {
            id,
            t,
            group_id,
            requester_id,
            responder_id,
            files,
            created_at: now.clone(),
            updated_at: now,
        };
        d.tickets.insert(id, rec);
        id
    }

    /// Changes a ticket as an agent would in the UI (which bumps `updated_at`), e.g. choosing
    /// "Start remote session" again, or moving it to another group.
    pub fn update_ticket(&self, id: u64, change: impl FnOnce(&mut SimTicket)) -> bool {
        let mut d = self.inner.state.data();
        let Some(rec) = d.tickets.get_mut(&id) else {
            return false;
        };
        change(&mut rec.t);
        rec.updated_at = render::now();
        let group = rec.t.group.clone();
        let group_id = group.map(|name| d.group_id(&name));
        if let Some(rec) = d.tickets.get_mut(&id) {
            rec.group_id = group_id;
        }
        true
    }

    /// A file someone attached to the ticket itself (it counts against the size limit).
    pub fn add_ticket_attachment(&self, id: u64, name: &str, bytes: Vec<u8>) {
        let mut d = self.inner.state.data();
        let file = SimFile {
            id: d.id(),
            name: name.into(),
            content_type: render::content_type(name),
            bytes,
        };
        if let Some(rec) = d.tickets.get_mut(&id) {
            rec.files.push(file);
        }
    }

    /// Seeds a public reply from the requester (to fill conversation pages).
    pub fn add_reply(&self, ticket_id: u64, text: &str) {
        let mut d = self.inner.state.data();
        let note = SimNote {
            id: d.id(),
            body: format!("<div>{}</div>", html::escape(text)),
            body_text: text.into(),
            private: false,
            attachments: vec![],
        };
        d.notes.push(NoteRec {
            ticket_id,
            note,
            incoming: true,
            created_at: render::now(),
        });
    }

    /// The body the Workflow Automator's "Trigger Webhook" action sends for ticket `id` with
    /// deskbridge's template (`integrations/freshservice/webhook-body.json`): each placeholder
    /// filled from the ticket as it is now, JSON-escaped, the priority as its label.
    pub fn workflow_body(&self, id: u64) -> Option<String> {
        let d = self.inner.state.data();
        d.tickets.get(&id).map(render::workflow_body)
    }

    /// The ticket as `GET /api/v2/tickets/{id}?include=tags` renders it.
    pub fn ticket(&self, id: u64) -> Option<Value> {
        let d = self.inner.state.data();
        d.tickets
            .get(&id)
            .map(|t| render::ticket(t, &self.inner.state.base_url, true))
    }

    /// The ticket's conversations, oldest first.
    pub fn notes(&self, ticket_id: u64) -> Vec<SimNote> {
        self.inner
            .state
            .data()
            .notes
            .iter()
            .filter(|n| n.ticket_id == ticket_id)
            .map(|n| n.note.clone())
            .collect()
    }

    /// Every file on the ticket: its own, then each note's, in upload order.
    pub fn attachments(&self, ticket_id: u64) -> Vec<SimFile> {
        let d = self.inner.state.data();
        let own = d
            .tickets
            .get(&ticket_id)
            .map(|t| t.files.clone())
            .unwrap_or_default();
        let notes = d
            .notes
            .iter()
            .filter(|n| n.ticket_id == ticket_id)
            .flat_map(|n| n.note.attachments.clone());
        own.into_iter().chain(notes).collect()
    }
}

#[cfg(test)]
mod tests;
