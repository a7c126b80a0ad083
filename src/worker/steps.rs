//! One function per step of a job's life (SPEC §5). Each is idempotent: it first looks at what
//! the outside world already has (a note with its marker, a file by name) so that running it
//! again after a crash finishes the step instead of repeating it. Each reports what it found
//! as an [`Outcome`]; the job decides which state that leads to. Times come from the shared
//! clock, so tests can move them.

use super::notes;
use crate::artifacts;
use crate::itsm::{ItsmError, RemoteAttachment};
use crate::job::{Attached, Job, JobState, Outcome};
use crate::outbound::Retry;
use crate::remote::{SessionState, VendorError};
use crate::runtime::{Runtime, Shared};
use crate::store::Hold;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct StepError {
    pub retry: Retry,
    pub message: String,
}

impl StepError {
    pub(super) fn permanent(message: impl Into<String>) -> Self {
        StepError {
            retry: Retry::Permanent,
            message: message.into(),
        }
    }
}

impl From<ItsmError> for StepError {
    fn from(e: ItsmError) -> Self {
        StepError {
            retry: e.retry(),
            message: e.to_string(),
        }
    }
}

impl From<VendorError> for StepError {
    fn from(e: VendorError) -> Self {
        StepError {
            retry: e.retry(),
            message: e.to_string(),
        }
    }
}

pub(super) type Result<T> = std::result::Result<T, StepError>;

pub(super) async fn run(rt: &Runtime, shared: &Shared, job: &mut Job) -> Result<Outcome> {
    let itsm = rt.itsm.get(&job.connection).cloned().ok_or_else(|| {
        StepError::permanent(format!(
            "connection {} is no longer configured",
            job.connection
        ))
    })?;
    match job.state() {
        JobState::Queued => super::start::start(rt, shared, &*itsm, job).await,
        JobState::SessionCreated => post_link(rt, &*itsm, job).await,
        // Nothing to do in the world: the wait (and its clock) starts with the next state.
        JobState::LinkPosted => Ok(Outcome::Done("waiting for the session to end".into())),
        JobState::WaitingForEnd => wait_for_end(rt, shared, &*itsm, job).await,
        JobState::Collecting => super::collect::collect(rt, shared, &*itsm, job).await,
        JobState::Attaching => attach(rt, shared, &*itsm, job).await,
        s => Err(StepError::permanent(format!(
            "a {} job has no step to run",
            s.as_str()
        ))),
    }
}

pub(super) fn vendor(rt: &Runtime, job: &Job) -> Result<Arc<dyn crate::remote::Vendor>> {
    let id = job
        .vendor
        .as_ref()
        .ok_or_else(|| StepError::permanent("the job has no vendor"))?;
    rt.vendors
        .get(id)
        .cloned()
        .ok_or_else(|| StepError::permanent(format!("vendor {id} is no longer configured")))
}

async fn post_link(rt: &Runtime, itsm: &dyn crate::itsm::Itsm, job: &mut Job) -> Result<Outcome> {
    let vendor = vendor(rt, job)?;
    let plan = rt.plan(job.rule.as_deref());
    let spec = if vendor.gives_link() {
        &plan.link_note
    } else {
        &plan.instructions_note
    };
    let posted = notes::ensure_note(rt, itsm, job, spec, "link").await?;
    Ok(Outcome::Done(posted))
}

async fn wait_for_end(
    rt: &Runtime,
    shared: &Shared,
    itsm: &dyn crate::itsm::Itsm,
    job: &mut Job,
) -> Result<Outcome> {
    let vendor = vendor(rt, job)?;
    let poll = vendor.poll().clone();
    let session = job
        .session
        .clone()
        .ok_or_else(|| StepError::permanent("the job has no session"))?;
    let now = shared.clock.now();
    // Set when the job started waiting; a job stored without it starts its wait now.
    let since = *job.waiting_since.get_or_insert(now);
    // Look first, even past the deadline: a session that ended during an outage near the
    // deadline still gets its artifacts.
    match vendor.session_state(&session).await? {
        SessionState::Over { status, session } => {
            job.session = Some(session);
            Ok(Outcome::Done(format!(
                "session over ({status}) after {} polls",
                job.polls + 1
            )))
        }
        SessionState::Open { .. } if now.since(since) > poll.give_up_after.0 => {
            let plan = rt.plan(job.rule.as_deref());
            notes::ensure_note(rt, itsm, job, &plan.expiry_note, "expired").await?;
            if let Err(e) = vendor.close_session(&session).await {
                tracing::warn!(error = %e, "the expired session could not be closed at the vendor");
            }
            Ok(Outcome::TimedOut(format!(
                "the session did not end within {:?}; expiry note posted",
                poll.give_up_after
            )))
        }
        SessionState::Open { .. } => {
            job.polls += 1;
            let every = poll.every.0.as_millis() as u64;
            let grown = job.poll_interval_ms.map(|p| p + p / 2).unwrap_or(every);
            let interval = grown.clamp(every, poll.max_every.0.as_millis() as u64);
            job.poll_interval_ms = Some(interval);
            Ok(Outcome::NotYet(now.plus(Duration::from_millis(interval))))
        }
    }
}

/// Attach what is not on the ticket yet (looking first), then the summary note.
async fn attach(
    rt: &Runtime,
    shared: &Shared,
    itsm: &dyn crate::itsm::Itsm,
    job: &mut Job,
) -> Result<Outcome> {
    let pending: Vec<usize> = (0..job.artifacts.len())
        .filter(|i| job.artifacts[*i].attached.is_none())
        .collect();
    if !pending.is_empty() {
        let on_ticket: HashMap<String, RemoteAttachment> = itsm
            .list_attachments(&job.ticket)
            .await?
            .into_iter()
            .map(|a| (a.name.clone(), a))
            .collect();
        let mut files = vec![];
        for &i in &pending {
            let rec = &job.artifacts[i];
            if let Some(found) = on_ticket.get(&rec.name) {
                job.artifacts[i].attached = Some(attached(shared, job, found.id.clone(), true));
                continue;
            }
            let read =
                artifacts::read(&shared.store, &rt.config.server.data_dir, &job.id, rec).await;
            files.push(read.map_err(|e| match e {
                artifacts::ReadError::Store(e) if e.retry_helps() => StepError {
                    retry: Retry::Transient { after: None },
                    message: format!("artifact {}: {e}", rec.name),
                },
                e => StepError::permanent(format!("artifact {}: {e}", rec.name)),
            })?);
        }
        if !files.is_empty() {
            let done = itsm.attach(&job.ticket, &files).await?;
            for a in done {
                if let Some(i) = job.artifacts.iter().position(|r| r.name == a.name) {
                    job.artifacts[i].attached = Some(attached(shared, job, a.id, false));
                }
            }
        }
        checkpoint(shared, job).await?;
    }
    if let Some(missing) = job.artifacts.iter().find(|a| a.attached.is_none()) {
        // A done job has every file on the ticket: look again rather than finish without it.
        return Err(StepError {
            retry: Retry::Transient { after: None },
            message: format!("the ticket system did not confirm {}", missing.name),
        });
    }
    let plan = rt.plan(job.rule.as_deref());
    let posted = notes::ensure_note(rt, itsm, job, &plan.summary_note, "summary").await?;
    Ok(Outcome::Done(format!(
        "{} artifacts attached; {posted}",
        job.artifacts.len()
    )))
}

/// Record progress inside a step (what was attached where) before going on, so a crash later
/// in the step does not lose the record, only the rest of the step. The job keeps its lease.
pub(super) async fn checkpoint(shared: &Shared, job: &mut Job) -> Result<()> {
    let now = shared.clock.now();
    match shared.store.save_held(job, now, Hold::Keep).await {
        Ok(()) => Ok(()),
        Err(crate::store::SaveError::Conflict) => Err(StepError::permanent(
            "the job was changed by an admin during the step",
        )),
        Err(crate::store::SaveError::LeaseLost) => Err(StepError::permanent(
            "the job's lease was lost during the step; another worker has it",
        )),
        Err(crate::store::SaveError::Store(e)) => Err(StepError {
            retry: Retry::Transient { after: None },
            message: e.to_string(),
        }),
    }
}

fn attached(
    shared: &Shared,
    job: &Job,
    remote_id: Option<String>,
    found_existing: bool,
) -> Attached {
    Attached {
        connection: job.connection.clone(),
        ticket: job.ticket.clone(),
        remote_id,
        at: shared.clock.now(),
        found_existing,
    }
}
