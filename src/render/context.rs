//! What a note template can refer to. Every field is a plain string (empty when unknown), so
//! templates never trip over a missing value, while a misspelt name is still an error.

use super::{markup_name, safe, Markup};
use minijinja::Value;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize)]
pub struct NoteTicket {
    pub number: String,
    pub subject: String,
    pub queue: String,
    pub priority: String,
    pub requester_name: String,
    pub requester_email: String,
    pub agent_email: String,
    pub device: String,
}

#[derive(Debug, Clone, Default)]
pub struct NoteSession {
    pub code: String,
    pub end_user_link: String,
    pub technician_link: String,
    pub seat: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct NoteArtifact {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct NoteUnavailable {
    pub label: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct NoteContext {
    pub ticket: NoteTicket,
    pub session: NoteSession,
    pub vendor_id: String,
    pub vendor_kind: String,
    pub job_id: String,
    pub artifacts: Vec<NoteArtifact>,
    pub unavailable: Vec<NoteUnavailable>,
    pub error: String,
    pub give_up_after: String,
    /// Who cancelled the job (`admin` or a name), for the cancellation note.
    pub cancelled_by: String,
}

impl NoteContext {
    pub fn sample() -> Self {
        NoteContext {
            ticket: NoteTicket {
                number: "INC0000046".into(),
                subject: "Outlook crashes <b>[code]".into(),
                queue: "Service Desk".into(),
                priority: "3".into(),
                requester_name: "Jane Doe".into(),
                requester_email: "jane@acme.example".into(),
                agent_email: "beth@acme.example".into(),
                device: "LAPTOP-42".into(),
            },
            session: NoteSession {
                code: "123456789".into(),
                end_user_link: "https://my.splashtop.com/service_desk/psa/123456789".into(),
                technician_link: "st-business://com.splashtop.business/?sos=123456789&category=40"
                    .into(),
                seat: "beth@acme.example".into(),
            },
            vendor_id: "splashtop-us".into(),
            vendor_kind: "splashtop".into(),
            job_id: "0190f5c2-0000-7000-8000-000000000000".into(),
            artifacts: vec![NoteArtifact {
                name: "session-123456789-log.csv".into(),
                size: 1234,
                sha256: "ab".repeat(32),
            }],
            unavailable: vec![NoteUnavailable {
                label: "chat transcript".into(),
                reason: "transcript saving is switched off for this team".into(),
            }],
            error: "ServiceNow answered 401 Unauthorized: User Not Authenticated".into(),
            give_up_after: "24h".into(),
            cancelled_by: "admin".into(),
        }
    }

    pub(super) fn to_value(&self, markup: Markup) -> Value {
        let mut session = BTreeMap::new();
        session.insert("code", Value::from(self.session.code.clone()));
        // Vendor links are printed exactly as the vendor gave them (SPEC §5).
        session.insert("end_user_link", safe(&self.session.end_user_link));
        session.insert("technician_link", safe(&self.session.technician_link));
        session.insert("seat", Value::from(self.session.seat.clone()));
        let mut vendor = BTreeMap::new();
        vendor.insert("id", self.vendor_id.clone());
        vendor.insert("kind", self.vendor_kind.clone());
        let mut job = BTreeMap::new();
        job.insert("id", self.job_id.clone());
        minijinja::context! {
            __markup => markup_name(markup),
            markup => markup_name(markup),
            ticket => Value::from_serialize(&self.ticket),
            session => Value::from_object(session),
            vendor => Value::from_serialize(&vendor),
            job => Value::from_serialize(&job),
            artifacts => Value::from_serialize(&self.artifacts),
            unavailable => Value::from_serialize(&self.unavailable),
            error => self.error.clone(),
            give_up_after => self.give_up_after.clone(),
            cancelled_by => self.cancelled_by.clone(),
        }
    }
}
