//! What the Zendesk simulator holds: tickets with their comments and attachments, the groups,
//! brands and users that ids point at, and uploads waiting for a comment to carry them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::markdown;

/// A ticket to seed. Names of groups, brands and people are turned into ids by the simulator.
#[derive(Debug, Clone)]
pub struct SimTicket {
    pub subject: String,
    pub description: String,
    /// "urgent", "high", "normal", "low", or `None`.
    pub priority: Option<String>,
    pub status: String,
    /// "incident", "problem", "question", "task", or `None`.
    pub ticket_type: Option<String>,
    pub group: Option<String>,
    pub brand: Option<String>,
    pub tags: Vec<String>,
    pub requester_name: String,
    pub requester_email: String,
    /// `None` for an unassigned ticket.
    pub assignee_email: Option<String>,
}

impl Default for SimTicket {
    /// The contract's example ticket, handy with struct-update syntax in tests.
    fn default() -> Self {
        SimTicket {
            subject: "Help, my printer is on fire!".into(),
            description: "The fire is very colorful.".into(),
            priority: Some("high".into()),
            status: "open".into(),
            ticket_type: Some("incident".into()),
            group: Some("Service Desk".into()),
            brand: Some("Acme".into()),
            tags: vec!["enterprise".into()],
            requester_name: "Jane Doe".into(),
            requester_email: "jane@acme.example".into(),
            assignee_email: Some("beth@acme.example".into()),
        }
    }
}

/// One stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimFile {
    pub id: u64,
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimComment {
    pub id: u64,
    pub author_id: u64,
    /// As sent (Markdown).
    pub body: String,
    pub html_body: String,
    pub plain_body: String,
    pub public: bool,
    pub attachments: Vec<SimFile>,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub(super) struct TicketRec {
    pub id: u64,
    pub subject: String,
    pub description: String,
    pub priority: Option<String>,
    pub status: String,
    pub ticket_type: Option<String>,
    pub group_id: Option<u64>,
    pub brand_id: Option<u64>,
    pub requester_id: u64,
    pub assignee_id: Option<u64>,
    pub tags: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub comments: Vec<SimComment>,
}

#[derive(Debug, Clone)]
pub(super) struct UserRec {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub role: &'static str,
}

pub(super) struct Upload {
    pub created: Instant,
    pub files: Vec<SimFile>,
}

/// An upload token is valid this long (contract: 60 minutes).
pub(super) const UPLOAD_TTL: Duration = Duration::from_secs(3600);

/// A ticket holds at most this many comments; one more is refused with 422 (contract:
/// "A ticket holds at most 5000 comments"). Tests lower it with `set_comment_limit`.
pub const MAX_COMMENTS: usize = 5000;

pub(super) struct ZdState {
    pub base_url: String,
    pub account_id: u64,
    data: Mutex<ZdData>,
}

pub(super) struct ZdData {
    pub email: String,
    pub api_token: String,
    pub bearer: Option<String>,
    /// The API user's id: the author of what the product writes.
    pub agent_id: u64,
    next_id: u64,
    pub tickets: BTreeMap<u64, TicketRec>,
    pub groups: Vec<(u64, String)>,
    pub brands: Vec<(u64, String)>,
    pub users: Vec<UserRec>,
    pub uploads: HashMap<String, Upload>,
    pub comment_limit: usize,
    pub refused_ext: Vec<String>,
    /// The webhook's signing secret and id, once connected.
    pub webhook: Option<(String, String)>,
    pub invocations: u64,
}

impl ZdState {
    pub fn new(base_url: String, email: &str, api_token: &str) -> Self {
        let mut data = ZdData {
            email: email.to_string(),
            api_token: api_token.to_string(),
            bearer: None,
            agent_id: 0,
            next_id: 360_000_000_000,
            tickets: BTreeMap::new(),
            groups: vec![],
            brands: vec![],
            users: vec![],
            uploads: HashMap::new(),
            comment_limit: MAX_COMMENTS,
            refused_ext: vec![],
            webhook: None,
            invocations: 8_350_205_582,
        };
        data.agent_id = data.user_id("deskbridge integration", email, "agent");
        ZdState {
            base_url,
            account_id: 12_514_403,
            data: Mutex::new(data),
        }
    }

    pub fn data(&self) -> MutexGuard<'_, ZdData> {
        // A panicking test thread must not wedge the simulator for the others.
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Zendesk's timestamp format (`2021-03-25T05:09:27Z`), UTC.
pub(super) fn zd_time(t: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

pub(super) fn zd_now() -> String {
    zd_time(crate::now_utc())
}

impl ZdData {
    pub fn new_id(&mut self) -> u64 {
        self.next_id += 1 + u64::from(rand::random::<u8>());
        self.next_id
    }

    fn named(list: &mut Vec<(u64, String)>, id: u64, name: &str) -> u64 {
        match list.iter().find(|(_, n)| n == name) {
            Some((id, _)) => *id,
            None => {
                list.push((id, name.to_string()));
                id
            }
        }
    }

    pub fn user_id(&mut self, name: &str, email: &str, role: &'static str) -> u64 {
        if let Some(u) = self.users.iter().find(|u| u.email == email) {
            return u.id;
        }
        let id = self.new_id();
        self.users.push(UserRec {
            id,
            name: name.to_string(),
            email: email.to_string(),
            role,
        });
        id
    }

    pub fn add_ticket(&mut self, t: SimTicket) -> u64 {
        // Ticket ids are small and sequential in Zendesk; other ids are large.
        let id = 35_436 + self.tickets.len() as u64;
        let group_id = t.group.as_deref().map(|g| {
            let gid = self.new_id();
            Self::named(&mut self.groups, gid, g)
        });
        let brand_id = t.brand.as_deref().map(|b| {
            let bid = self.new_id();
            Self::named(&mut self.brands, bid, b)
        });
        let requester_id = self.user_id(&t.requester_name, &t.requester_email, "end-user");
        let assignee_id = t.assignee_email.as_deref().map(|e| {
            let name = e.split('@').next().unwrap_or(e).to_string();
            self.user_id(&name, e, "agent")
        });
        let now = zd_now();
        let rec = TicketRec {
            id,
            subject: t.subject,
            description: t.description.clone(),
            priority: t.priority,
            status: t.status,
            ticket_type: t.ticket_type,
            group_id,
            brand_id,
            requester_id,
            assignee_id,
            tags: t.tags,
            created_at: now.clone(),
            updated_at: now,
            comments: vec![],
        };
        self.tickets.insert(id, rec);
        self.push_comment(id, requester_id, &t.description, true, vec![]);
        id
    }

    /// Appends a comment; returns its id (`None` for an unknown ticket).
    pub fn push_comment(
        &mut self,
        ticket: u64,
        author_id: u64,
        body: &str,
        public: bool,
        files: Vec<SimFile>,
    ) -> Option<u64> {
        let id = self.new_id();
        let t = self.tickets.get_mut(&ticket)?;
        t.comments.push(SimComment {
            id,
            author_id,
            body: body.to_string(),
            html_body: markdown::to_html(body),
            plain_body: markdown::to_plain(body),
            public,
            attachments: files,
            created_at: zd_now(),
        });
        t.updated_at = zd_now();
        Some(id)
    }

    pub fn group_name(&self, id: Option<u64>) -> String {
        id.and_then(|id| self.groups.iter().find(|(g, _)| *g == id))
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    }

    pub fn user(&self, id: u64) -> Option<&UserRec> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The upload behind `token`, dropping it (and any other) once expired.
    pub fn live_upload(&mut self, token: &str) -> Option<&mut Upload> {
        self.uploads.retain(|_, u| u.created.elapsed() < UPLOAD_TTL);
        self.uploads.get_mut(token)
    }
}
