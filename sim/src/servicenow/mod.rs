//! ServiceNow simulator: the Table API (read a record, PATCH work notes/comments, list
//! `sys_journal_field`) and the Attachment API (upload raw file, list, download), behind HTTP
//! basic auth, answering with ServiceNow's `{"result": ...}` / `{"error": {...}, "status":
//! "failure"}` shapes, its paging headers and its rate-limit headers
//! (see `shared/contracts/servicenow.md`). Tests seed incidents with
//! [`ServiceNowSim::add_incident`] and read back what the product wrote through
//! [`ServiceNowSim::journal`] and [`ServiceNowSim::attachments`].
//!
//! The sending side is deskbridge's own UI Action, so there is no sender to simulate beyond its
//! signature: [`sign_ui_action`] signs a body as the installed script does.

mod query;
mod record;
mod routes;
mod ui_action;

pub use ui_action::{sign_ui_action, verify_ui_action, SIGNATURE_HEADER, TIMESTAMP_HEADER};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};

use super::fault::{Faults, RateLimitInfo, SystemErrors};
use super::{random_hex, unix_secs, Bound, Server};
use record::{DisplayMode, Record, Related, Render};

/// An incident (or other task record) to seed into the simulator.
#[derive(Debug, Clone)]
pub struct SimIncident {
    pub number: String,
    pub short_description: String,
    pub priority: String,
    pub category: String,
    /// Display name; the simulator invents one sys_id per distinct group name.
    pub assignment_group: String,
    pub caller_name: String,
    pub caller_email: String,
    /// Empty for an unassigned record.
    pub assigned_to_email: String,
    /// Usually "incident".
    pub table: String,
}

impl Default for SimIncident {
    /// The contract's example incident, handy with struct-update syntax in tests.
    fn default() -> Self {
        SimIncident {
            number: "INC0000046".into(),
            short_description: "Outlook crashes".into(),
            priority: "3".into(),
            category: "software".into(),
            assignment_group: "Service Desk".into(),
            caller_name: "Jane Doe".into(),
            caller_email: "jane@acme.example".into(),
            assigned_to_email: "beth.anglin@acme.example".into(),
            table: "incident".into(),
        }
    }
}

/// One `sys_journal_field` row: a work note or an additional comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub sys_id: String,
    /// "work_notes" or "comments".
    pub element: String,
    pub value: String,
    /// `YYYY-MM-DD HH:MM:SS` (UTC), as `sys_created_on`.
    pub created_on: String,
}

/// One stored attachment with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimAttachment {
    pub sys_id: String,
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Handle to a running ServiceNow simulator. Clones share the server; it stops when the last
/// clone is dropped or on [`ServiceNowSim::shutdown`].
#[derive(Clone)]
pub struct ServiceNowSim {
    inner: Arc<Handle>,
}

struct Handle {
    state: Arc<SnState>,
    faults: Faults,
    server: Server,
}

/// What the routes share. `base_url` is fixed before the router exists so that links and
/// `Location` headers can name the simulator's own address.
struct SnState {
    base_url: String,
    username: String,
    data: Mutex<SnData>,
}

#[derive(Default)]
struct SnData {
    password: String,
    records: Vec<Record>,
    journal: Vec<Record>,
    attachments: Vec<Record>,
    /// Attachment sys_id -> (content type, bytes).
    blobs: HashMap<String, (String, Bytes)>,
    /// Group display name -> invented sys_id, so one queue keeps one id.
    groups: HashMap<String, String>,
    /// User e-mail (or name) -> invented sys_id.
    users: HashMap<String, String>,
    /// Lower-case extensions refused like `glide.attachment.extensions` would.
    refused_ext: Vec<String>,
}

impl SnState {
    fn data(&self) -> MutexGuard<'_, SnData> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn render<'a>(&'a self, mode: DisplayMode, exclude_links: bool) -> Render<'a> {
        Render {
            mode,
            exclude_links,
            fields: None,
            base_url: &self.base_url,
        }
    }
}

impl SnData {
    fn id_for(map: &mut HashMap<String, String>, key: &str) -> String {
        map.entry(key.to_string())
            .or_insert_with(|| random_hex(32))
            .clone()
    }

    /// Rows of `table`, or `None` when the instance has no such table. `task` is the parent of
    /// incident and the other task tables, so it lists them all, as on a real instance.
    fn rows_of(&self, table: &str) -> Option<Vec<&Record>> {
        const KNOWN: &[&str] = &[
            "incident",
            "sc_task",
            "sc_req_item",
            "problem",
            "change_request",
        ];
        match table {
            "sys_journal_field" => Some(self.journal.iter().collect()),
            "sys_attachment" => Some(self.attachments.iter().collect()),
            "task" => Some(self.records.iter().collect()),
            t => {
                let rows: Vec<&Record> = self.records.iter().filter(|r| r.table == t).collect();
                (!rows.is_empty() || KNOWN.contains(&t)).then_some(rows)
            }
        }
    }
}

impl ServiceNowSim {
    /// Starts a simulator on a random loopback port that accepts `username`/`password`.
    pub async fn start(username: &str, password: &str) -> Self {
        let bound = Bound::loopback().await;
        let state = Arc::new(SnState {
            base_url: bound.base_url(),
            username: username.to_string(),
            data: Mutex::new(SnData {
                password: password.to_string(),
                ..SnData::default()
            }),
        });
        let faults = Faults::new();
        let router = routes::router(state.clone(), &faults);
        let server = bound.serve(router, faults.halt_token());
        ServiceNowSim {
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

    /// Stops the server now (hung requests are dropped without an answer).
    pub fn shutdown(&self) {
        self.inner.server.shutdown();
    }

    /// Changes the accepted password (a rotated or fixed credential).
    pub fn set_password(&self, password: &str) {
        self.inner.state.data().password = password.to_string();
    }

    /// Seeds a record and returns its new random sys_id.
    pub fn add_incident(&self, inc: SimIncident) -> String {
        let sys_id = random_hex(32);
        let mut data = self.inner.state.data();
        let caller_key = if inc.caller_email.is_empty() {
            &inc.caller_name
        } else {
            &inc.caller_email
        };
        let rel = Related {
            group_sys_id: SnData::id_for(&mut data.groups, &inc.assignment_group),
            caller_sys_id: SnData::id_for(&mut data.users, caller_key),
            assignee_sys_id: (!inc.assigned_to_email.is_empty())
                .then(|| SnData::id_for(&mut data.users, &inc.assigned_to_email)),
        };
        let rec = record::incident_record(&inc, &sys_id, &rel, &sn_now());
        data.records.push(rec);
        sys_id
    }

    /// The sys_id invented for an assignment group name (for routing rules keyed on it).
    pub fn group_sys_id(&self, group_name: &str) -> Option<String> {
        self.inner.state.data().groups.get(group_name).cloned()
    }

    /// The stored record as database values (references as sys_ids), or `None`.
    pub fn incident(&self, sys_id: &str) -> Option<Value> {
        let data = self.inner.state.data();
        let rec = data.records.iter().find(|r| r.sys_id == sys_id)?;
        Some(rec.render(&self.inner.state.render(DisplayMode::Value, true)))
    }

    /// Work notes and comments written on the record, oldest first.
    pub fn journal(&self, sys_id: &str) -> Vec<JournalEntry> {
        let data = self.inner.state.data();
        data.journal
            .iter()
            .filter(|j| j.plain_value("element_id") == sys_id)
            .map(|j| JournalEntry {
                sys_id: j.sys_id.clone(),
                element: j.plain_value("element"),
                value: j.plain_value("value"),
                created_on: j.plain_value("sys_created_on"),
            })
            .collect()
    }

    /// Attachments on the record, in upload order.
    pub fn attachments(&self, sys_id: &str) -> Vec<SimAttachment> {
        let data = self.inner.state.data();
        data.attachments
            .iter()
            .filter(|a| a.plain_value("table_sys_id") == sys_id)
            .map(|a| {
                let (content_type, bytes) = data.blobs.get(&a.sys_id).cloned().unwrap_or_default();
                SimAttachment {
                    sys_id: a.sys_id.clone(),
                    file_name: a.plain_value("file_name"),
                    content_type,
                    bytes: bytes.to_vec(),
                }
            })
            .collect()
    }

    /// Refuses uploads whose file name ends in `.ext` (case-insensitive), like an instance
    /// whose `glide.attachment.extensions` allow-list leaves it out.
    pub fn refuse_extension(&self, ext: &str) {
        let ext = ext.trim_start_matches('.').to_ascii_lowercase();
        self.inner.state.data().refused_ext.push(ext);
    }

    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }
}

/// ServiceNow's timestamp format (`sys_created_on`), UTC.
fn sn_now() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    super::now_utc().format(&fmt).unwrap_or_default()
}

/// The error envelope every ServiceNow REST API uses.
fn envelope(status: StatusCode, message: &str, detail: Option<&str>) -> Response {
    let body = json!({"error": {"message": message, "detail": detail}, "status": "failure"});
    (status, Json(body)).into_response()
}

/// Sys_id of the simulated inbound rate-limit rule (`X-RateLimit-Rule`).
const RATE_RULE_SYS_ID: &str = "8b2f1c3e1b0a2010a3f2d9e5cc4bcb7d";

/// Injected failures and rate limits, phrased as ServiceNow phrases them.
struct SnErrors;

fn api_name(path: &str) -> &'static str {
    if path.starts_with("/api/now/attachment") {
        "Attachment API"
    } else {
        "Table API"
    }
}

impl SystemErrors for SnErrors {
    fn error(&self, status: StatusCode, path: &str) -> Response {
        match status.as_u16() {
            401 => routes::not_authenticated(),
            404 => envelope(
                status,
                "No Record found",
                Some("Record doesn't exist or ACL restricts the record retrieval"),
            ),
            429 => {
                // A scripted 429 should look like a real rule firing: hourly rule of 100.
                let reset = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
                let info = RateLimitInfo {
                    limit: 100,
                    per: std::time::Duration::from_secs(3600),
                    remaining: 0,
                    reset_at: reset,
                    retry_after_secs: 3600,
                };
                let mut resp = self.rate_limited(&info, path);
                self.rate_limit_headers(&info, resp.headers_mut());
                resp
            }
            _ => {
                let reason = status.canonical_reason().unwrap_or("Error");
                envelope(status, reason, None)
            }
        }
    }

    fn rate_limited(&self, info: &RateLimitInfo, path: &str) -> Response {
        // Instance rules are always per hour; a test's shorter window is time compression.
        let detail = format!(
            "Rate limit of {} requests per hour for {} exceeded",
            info.limit,
            api_name(path)
        );
        envelope(
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limit exceeded",
            Some(&detail),
        )
    }

    fn rate_limit_headers(&self, info: &RateLimitInfo, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(info.limit));
        headers.insert(
            "x-ratelimit-reset",
            HeaderValue::from(unix_secs(info.reset_at)),
        );
        headers.insert(
            "x-ratelimit-rule",
            HeaderValue::from_static(RATE_RULE_SYS_ID),
        );
    }
}

#[cfg(test)]
mod tests;
