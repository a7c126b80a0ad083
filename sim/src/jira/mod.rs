//! Jira Service Management simulator (Cloud by default, Data Center on request): the
//! servicedeskapi customer request, comments (paged, public or internal), request types,
//! service desks and the two-step attachment flow (temporary files that expire, then attach
//! to the request), and the platform issue read and attachment settings, behind basic
//! `email:api_token` or a bearer personal access token. Errors come in Jira's envelopes, rate
//! limits with `Retry-After`, `X-RateLimit-Reset` (ISO 8601) and `RateLimit-Reason`, including
//! the per-issue write limit (see `shared/contracts/jira.md`).
//!
//! It also plays Jira's outbound side: [`JiraSim::automation_body`] is what the "Start remote
//! session" rule sends, [`JiraSim::add_label`] and [`JiraSim::comment_webhook`] the signed admin
//! webhooks, so tests and the demo send exactly what a site would.

mod errors;
mod hooks;
mod model;
mod platform;
mod routes;
mod upload;

pub use hooks::{hub_signature, verify_hub_signature, SimWebhook, HUB_SIGNATURE_HEADER};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::fault::Faults;
use super::{Bound, Server};
use model::{Account, Desk, Issue, Person, RequestType};

/// An issue (customer request) to seed.
#[derive(Debug, Clone)]
pub struct SimIssue {
    pub project_key: String,
    pub project_name: String,
    /// The request type's name; the simulator invents one id per (service desk, name).
    pub request_type: String,
    pub summary: String,
    pub priority: String,
    pub labels: Vec<String>,
    pub reporter_name: String,
    pub reporter_email: String,
    /// Empty for an unassigned issue.
    pub assignee_name: String,
    pub assignee_email: String,
}

impl Default for SimIssue {
    fn default() -> Self {
        SimIssue {
            project_key: "ITS".into(),
            project_name: "IT Help".into(),
            request_type: "Get IT help".into(),
            summary: "Outlook crashes".into(),
            priority: "Medium".into(),
            labels: vec![],
            reporter_name: "Jane Doe".into(),
            reporter_email: "jane@acme.example".into(),
            assignee_name: "Beth Anglin".into(),
            assignee_email: "beth@acme.example".into(),
        }
    }
}

/// A comment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimJiraComment {
    pub id: String,
    pub body: String,
    pub public: bool,
}

/// An attachment as stored, with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimJiraAttachment {
    pub id: String,
    pub file_name: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
    pub public: bool,
}

#[derive(Clone)]
pub struct JiraSim {
    inner: Arc<Handle>,
}

struct Handle {
    state: Arc<JiraState>,
    faults: Faults,
    server: Server,
}

struct JiraState {
    base_url: String,
    account: Account,
    data: Mutex<JiraData>,
}

struct JiraData {
    api_token: String,
    pat: Option<String>,
    desks: Vec<Desk>,
    request_types: Vec<RequestType>,
    issues: Vec<Issue>,
    comments: Vec<model::Comment>,
    temps: HashMap<String, model::TempFile>,
    attachments: Vec<model::Attachment>,
    next_id: u64,
    upload_limit: u64,
    attachments_enabled: bool,
    data_center: bool,
    expand: bool,
    temp_ttl: Duration,
    webhook_secret: Option<String>,
    per_issue: Option<(u32, Duration)>,
    writes: HashMap<String, (Instant, u32)>,
}

impl JiraState {
    fn data(&self) -> MutexGuard<'_, JiraData> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl JiraData {
    fn next(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// By key (any case) or numeric id, as `{issueIdOrKey}` allows.
    fn issue(&self, id_or_key: &str) -> Option<&Issue> {
        self.issues
            .iter()
            .find(|i| i.id == id_or_key || i.key.eq_ignore_ascii_case(id_or_key))
    }

    /// By id, or (documented for `serviceDeskId` path parameters) by project id or key.
    fn desk(&self, id: &str) -> Option<&Desk> {
        self.desks
            .iter()
            .find(|d| d.id == id || d.project_id == id || d.project_key.eq_ignore_ascii_case(id))
    }

    fn desk_of(&self, i: &Issue) -> Desk {
        self.desks
            .iter()
            .find(|d| d.id == i.desk_id)
            .cloned()
            .expect("every issue has its desk")
    }

    /// Count one write to `issue_id` against the per-issue limit; `Err` = how long to wait.
    fn count_write(&mut self, issue_id: &str) -> Result<(), Duration> {
        let Some((limit, per)) = self.per_issue else {
            return Ok(());
        };
        let now = Instant::now();
        let w = self.writes.entry(issue_id.to_string()).or_insert((now, 0));
        if now.duration_since(w.0) >= per {
            *w = (now, 0);
        }
        if w.1 >= limit {
            return Err(per.saturating_sub(now.duration_since(w.0)));
        }
        w.1 += 1;
        Ok(())
    }
}

impl JiraSim {
    /// A Cloud site accepting basic `email:api_token`.
    pub async fn start(email: &str, api_token: &str) -> Self {
        let bound = Bound::loopback().await;
        let state = Arc::new(JiraState {
            base_url: bound.base_url(),
            account: Account {
                account_id: "5b10ac8d82e05b22cc7d4ef5".into(),
                display_name: "deskbridge".into(),
                email: email.into(),
            },
            data: Mutex::new(JiraData {
                api_token: api_token.into(),
                pat: None,
                desks: vec![],
                request_types: vec![],
                issues: vec![],
                comments: vec![],
                temps: HashMap::new(),
                attachments: vec![],
                next_id: 10000,
                upload_limit: 10 * 1024 * 1024,
                attachments_enabled: true,
                data_center: false,
                expand: true,
                temp_ttl: Duration::from_secs(3600),
                webhook_secret: None,
                per_issue: None,
                writes: HashMap::new(),
            }),
        });
        let faults = Faults::new();
        let router = routes::router(state.clone(), &faults);
        let server = bound.serve(router, faults.halt_token());
        JiraSim {
            inner: Arc::new(Handle {
                state,
                faults,
                server,
            }),
        }
    }

    pub fn base_url(&self) -> String {
        self.inner.server.base_url()
    }
    pub fn shutdown(&self) {
        self.inner.server.shutdown();
    }
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }
    fn data(&self) -> MutexGuard<'_, JiraData> {
        self.inner.state.data()
    }

    pub fn set_api_token(&self, token: &str) {
        self.data().api_token = token.into();
    }
    /// Also accept `Authorization: Bearer <pat>` (Data Center personal access token).
    pub fn set_personal_access_token(&self, pat: &str) {
        self.data().pat = Some(pat.into());
    }
    /// Data Center: no `/rest/api/3`.
    pub fn set_data_center(&self, on: bool) {
        self.data().data_center = on;
    }
    /// `uploadLimit` of the attachment settings, enforced on temporary files (413).
    pub fn set_upload_limit(&self, bytes: u64) {
        self.data().upload_limit = bytes;
    }
    pub fn set_attachments_enabled(&self, on: bool) {
        self.data().attachments_enabled = on;
    }
    /// Whether the request read honours `expand=requestType,serviceDesk` (older servers: no).
    pub fn set_expand_supported(&self, on: bool) {
        self.data().expand = on;
    }
    /// How long a temporary file lives before attaching it fails.
    pub fn set_temporary_file_ttl(&self, ttl: Duration) {
        self.data().temp_ttl = ttl;
    }
    /// The secret admin webhooks are signed with (`X-Hub-Signature`).
    pub fn set_webhook_secret(&self, secret: &str) {
        self.data().webhook_secret = Some(secret.into());
    }
    /// The per-issue write limit (`jira-per-issue-on-write`): `writes` per `per` on one issue.
    pub fn set_per_issue_write_limit(&self, writes: u32, per: Duration) {
        self.data().per_issue = Some((writes, per));
    }

    /// Seeds an issue (and its service desk and request type on first use); returns its key.
    pub fn add_issue(&self, s: SimIssue) -> String {
        let mut d = self.data();
        let desk = match d.desks.iter().find(|x| x.project_key == s.project_key) {
            Some(x) => x.clone(),
            None => {
                let n = d.desks.len() + 1;
                let desk = Desk {
                    id: n.to_string(),
                    project_id: (10000 + n).to_string(),
                    project_key: s.project_key.clone(),
                    project_name: s.project_name.clone(),
                };
                d.desks.push(desk.clone());
                desk
            }
        };
        if !d
            .request_types
            .iter()
            .any(|r| r.desk_id == desk.id && r.name == s.request_type)
        {
            let id = (d.request_types.len() + 10).to_string();
            d.request_types.push(RequestType {
                id,
                name: s.request_type.clone(),
                desk_id: desk.id.clone(),
            });
        }
        let rt = d
            .request_types
            .iter()
            .find(|r| r.desk_id == desk.id && r.name == s.request_type)
            .map(|r| r.id.clone())
            .unwrap_or_default();
        let n = d.issues.iter().filter(|i| i.desk_id == desk.id).count() + 1;
        let id = d.next();
        let key = format!("{}-{n}", desk.project_key);
        let person = |name: &str, email: &str, d: &mut JiraData| Person {
            account_id: format!("qm:{}", d.next()),
            name: name.into(),
            email: email.into(),
        };
        let reporter = person(&s.reporter_name, &s.reporter_email, &mut d);
        let assignee = (!s.assignee_email.is_empty())
            .then(|| person(&s.assignee_name, &s.assignee_email, &mut d));
        d.issues.push(Issue {
            id,
            key: key.clone(),
            desk_id: desk.id,
            request_type_id: rt,
            summary: s.summary,
            priority: s.priority,
            labels: s.labels,
            reporter,
            assignee,
            status: "Waiting for support".into(),
            created_ms: model::now_ms(),
        });
        key
    }

    /// The issue's numeric id.
    pub fn issue_id(&self, key: &str) -> Option<String> {
        self.data().issue(key).map(|i| i.id.clone())
    }
    pub fn labels(&self, key: &str) -> Vec<String> {
        self.data()
            .issue(key)
            .map(|i| i.labels.clone())
            .unwrap_or_default()
    }
    /// Comments on the issue, oldest first.
    pub fn comments(&self, key: &str) -> Vec<SimJiraComment> {
        let d = self.data();
        let Some(id) = d.issue(key).map(|i| i.id.clone()) else {
            return vec![];
        };
        d.comments
            .iter()
            .filter(|c| c.issue_id == id)
            .map(|c| SimJiraComment {
                id: c.id.clone(),
                body: c.body.clone(),
                public: c.public,
            })
            .collect()
    }
    /// Attachments on the issue, in upload order.
    pub fn attachments(&self, key: &str) -> Vec<SimJiraAttachment> {
        let d = self.data();
        let Some(id) = d.issue(key).map(|i| i.id.clone()) else {
            return vec![];
        };
        d.attachments
            .iter()
            .filter(|a| a.issue_id == id)
            .map(|a| SimJiraAttachment {
                id: a.id.clone(),
                file_name: a.file_name.clone(),
                mime_type: a.mime_type.clone(),
                bytes: a.bytes.to_vec(),
                public: a.public,
            })
            .collect()
    }
    /// Temporary files uploaded and not (yet) attached.
    pub fn pending_temporary_files(&self) -> usize {
        self.data().temps.len()
    }
}

#[cfg(test)]
mod tests;
