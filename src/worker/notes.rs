//! Notes on tickets: render the rule's template for the system's markup, stamp it with a marker
//! unique to the job and purpose, and post it unless a note with that marker is already there.

use super::StepError;
use crate::artifacts::label;
use crate::config::NoteSpec;
use crate::itsm::{Itsm, Note};
use crate::job::Job;
use crate::outbound::Retry;
use crate::render::{NoteArtifact, NoteContext, NoteSession, NoteTicket, NoteUnavailable};
use crate::runtime::Runtime;

pub fn marker(job: &Job, purpose: &str) -> String {
    format!("[deskbridge:job/{}/{purpose}]", job.id)
}

pub fn context(job: &Job, rt: &Runtime) -> NoteContext {
    let t = job.ticket_read.as_ref().unwrap_or(&job.hint);
    let s = job
        .session
        .clone()
        .unwrap_or_else(|| crate::remote::Session {
            id: String::new(),
            code: String::new(),
            end_user_link: None,
            technician_link: None,
            seat: None,
            created_at: job.created_at,
            extra: serde_json::Value::Null,
        });
    let vendor = job
        .vendor
        .as_ref()
        .and_then(|v| rt.config.vendor(v.as_str()));
    NoteContext {
        ticket: NoteTicket {
            number: job
                .ticket_number
                .clone()
                .unwrap_or_else(|| job.ticket.to_string()),
            subject: t.subject.clone().unwrap_or_default(),
            queue: t.queue.clone().unwrap_or_default(),
            priority: t.priority.clone().unwrap_or_default(),
            requester_name: t.requester_name().unwrap_or_default().into(),
            requester_email: t.requester_email().unwrap_or_default().into(),
            agent_email: t.agent_email().unwrap_or_default().into(),
            device: t.device.clone().unwrap_or_default(),
        },
        session: NoteSession {
            code: s.code,
            end_user_link: s.end_user_link.unwrap_or_default(),
            technician_link: s.technician_link.unwrap_or_default(),
            seat: s.seat.unwrap_or_default(),
        },
        vendor_id: job
            .vendor
            .as_ref()
            .map(|v| v.to_string())
            .unwrap_or_default(),
        vendor_kind: vendor
            .map(|v| format!("{:?}", v.kind).to_lowercase())
            .unwrap_or_default(),
        job_id: job.id.to_string(),
        artifacts: job
            .artifacts
            .iter()
            .map(|a| NoteArtifact {
                name: a.name.clone(),
                size: a.size,
                sha256: a.sha256.clone(),
            })
            .collect(),
        unavailable: job
            .unavailable
            .iter()
            .map(|u| NoteUnavailable {
                label: label(u.kind).into(),
                reason: u.reason.clone(),
            })
            .collect(),
        error: job.error().unwrap_or_default().to_string(),
        give_up_after: vendor
            .map(|v| format!("{:?}", v.poll.give_up_after))
            .unwrap_or_default(),
        // The last person named in the history: right after a cancel, who cancelled.
        cancelled_by: job
            .history()
            .iter()
            .rev()
            .find_map(|l| l.by.clone())
            .unwrap_or_default(),
    }
}

pub fn render(
    rt: &Runtime,
    itsm: &dyn Itsm,
    job: &Job,
    spec: &NoteSpec,
    purpose: &str,
) -> Result<Note, StepError> {
    let body = rt
        .templates
        .render(&spec.template, itsm.markup(), &context(job, rt))
        .map_err(|e| StepError {
            retry: Retry::Permanent,
            message: e.to_string(),
        })?;
    let marker = marker(job, purpose);
    Ok(Note {
        body: format!("{body}\n\n{marker}"),
        visibility: spec.visibility,
        marker,
    })
}

/// Post the note unless the ticket already has it. Returns what happened, for the history.
pub async fn ensure_note(
    rt: &Runtime,
    itsm: &dyn Itsm,
    job: &Job,
    spec: &NoteSpec,
    purpose: &str,
) -> Result<String, StepError> {
    let note = render(rt, itsm, job, spec, purpose)?;
    if itsm.find_note(&job.ticket, &note.marker).await? {
        return Ok(format!(
            "{purpose} note already on the ticket (posted before a restart)"
        ));
    }
    itsm.post_note(&job.ticket, &note).await?;
    Ok(format!("{purpose} note posted"))
}

/// Tell the ticket a job failed: once per failure, best effort (the failure may be the ticket
/// system itself, in which case the job list is where the admin finds it).
pub async fn post_failure_note(rt: &Runtime, job: &Job) {
    let Some(itsm) = rt.itsm.get(&job.connection) else {
        return;
    };
    let plan = rt.plan(job.rule.as_deref());
    let purpose = format!("failed/{}", job.history().len());
    if let Err(e) = ensure_note(rt, &**itsm, job, &plan.failure_note, &purpose).await {
        tracing::warn!(error = %e.message, "the failure note could not be posted");
    }
}

/// Tell the ticket that the session link posted on it no longer works (an admin cancelled the
/// job): once, best effort. Returns the error and what happened, for the job's history.
pub async fn post_cancel_note(rt: &Runtime, job: &Job) -> (Option<String>, String) {
    let Some(itsm) = rt.itsm.get(&job.connection) else {
        return (
            None,
            "the connection is no longer configured: no note".into(),
        );
    };
    let plan = rt.plan(job.rule.as_deref());
    match ensure_note(rt, &**itsm, job, &plan.cancel_note, "cancelled").await {
        Ok(done) => (None, done),
        Err(e) => (
            Some(e.message),
            "the cancellation note could not be posted".into(),
        ),
    }
}
