//! A job and its life (SPEC §5), as pure data and pure transitions.
//!
//! The worker decides *what* happened (a step succeeded, failed for good, should be retried);
//! the methods here decide what that does to the job: the next state, the attempt counter, the
//! due time and the history line. Keeping this free of I/O lets the state machine be table-tested
//! and keeps the store a dumb persister.

use crate::clock::Millis;
use crate::config::ArtifactKind;
use crate::ids::{ConnectionId, EventId, JobId, TicketRef, VendorId};
use crate::remote::Session;
use crate::ticket::Ticket;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    SessionCreated,
    LinkPosted,
    WaitingForEnd,
    Collecting,
    Attaching,
    Done,
    Failed,
    Expired,
    Cancelled,
    Skipped,
}

impl JobState {
    pub const ALL: [JobState; 11] = [
        JobState::Queued,
        JobState::SessionCreated,
        JobState::LinkPosted,
        JobState::WaitingForEnd,
        JobState::Collecting,
        JobState::Attaching,
        JobState::Done,
        JobState::Failed,
        JobState::Expired,
        JobState::Cancelled,
        JobState::Skipped,
    ];

    /// Whether a job in this state holds its ticket: a second click then answers "existing".
    /// Only while the session may still be open; once collecting starts, a new click may
    /// start a new session.
    pub fn holds_ticket(self) -> bool {
        matches!(
            self,
            JobState::Queued
                | JobState::SessionCreated
                | JobState::LinkPosted
                | JobState::WaitingForEnd
        )
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Done
                | JobState::Failed
                | JobState::Expired
                | JobState::Cancelled
                | JobState::Skipped
        )
    }

    /// The state a successful step in `self` leads to, on the happy path.
    pub fn next(self) -> Option<JobState> {
        use JobState::*;
        Some(match self {
            Queued => SessionCreated,
            SessionCreated => LinkPosted,
            LinkPosted => WaitingForEnd,
            WaitingForEnd => Collecting,
            Collecting => Attaching,
            Attaching => Done,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        use JobState::*;
        match self {
            Queued => "queued",
            SessionCreated => "session_created",
            LinkPosted => "link_posted",
            WaitingForEnd => "waiting_for_end",
            Collecting => "collecting",
            Attaching => "attaching",
            Done => "done",
            Failed => "failed",
            Expired => "expired",
            Cancelled => "cancelled",
            Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// One byte for index keys; the order of `ALL`.
    pub fn code(self) -> u8 {
        JobState::ALL.iter().position(|s| *s == self).unwrap_or(0) as u8
    }
}

/// One line of a job's history: a step taken, retried or failed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepRecord {
    pub step: JobState,
    pub at: Millis,
    pub attempt: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the step did, or the state it led to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Where an artifact ended up on the ticket.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attached {
    pub connection: ConnectionId,
    pub ticket: TicketRef,
    /// The ticket system's id for the attachment, when it gives one.
    pub remote_id: Option<String>,
    pub at: Millis,
    /// True when the file was found already on the ticket (attached before a crash).
    #[serde(default)]
    pub found_existing: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ArtifactRecord {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached: Option<Attached>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Unavailable {
    pub kind: ArtifactKind,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Lease {
    pub owner: u64,
    pub until: Millis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub state: JobState,
    pub connection: ConnectionId,
    pub ticket: TicketRef,
    #[serde(default)]
    pub ticket_number: Option<String>,
    #[serde(default)]
    pub event_id: Option<EventId>,
    /// Decided on the hint at ingest, confirmed on the authoritative read.
    pub vendor: Option<VendorId>,
    pub rule: Option<String>,
    /// The webhook body, normalised; only a hint.
    pub hint: Ticket,
    /// The ticket as read from the ticket system's API: the one that counts.
    #[serde(default)]
    pub ticket_read: Option<Ticket>,
    #[serde(default)]
    pub session: Option<Session>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Attempts made at the current step (0 before the first).
    pub attempt: u32,
    pub due_at: Millis,
    #[serde(default)]
    pub failed_step: Option<JobState>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub waiting_since: Option<Millis>,
    #[serde(default)]
    pub poll_interval_ms: Option<u64>,
    #[serde(default)]
    pub polls: u32,
    #[serde(default)]
    pub collected_at: Option<Millis>,
    #[serde(default)]
    pub artifacts: Vec<ArtifactRecord>,
    #[serde(default)]
    pub unavailable: Vec<Unavailable>,
    pub steps: Vec<StepRecord>,
    #[serde(default)]
    pub lease: Option<Lease>,
    /// Bumped by every store write; a write carrying a stale `rev` is refused, so a cancel
    /// during a step is not overwritten by the step's result.
    pub rev: u64,
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("job is {0}, only a failed job can be retried")]
    NotFailed(&'static str),
    #[error("job is already {0}")]
    AlreadyFinished(&'static str),
}

pub struct NewJob {
    pub connection: ConnectionId,
    pub ticket: TicketRef,
    pub ticket_number: Option<String>,
    pub event_id: Option<EventId>,
    pub vendor: Option<VendorId>,
    pub rule: Option<String>,
    pub hint: Ticket,
}

impl Job {
    pub fn new(n: NewJob, now: Millis) -> Job {
        Job {
            id: JobId::new(),
            state: JobState::Queued,
            connection: n.connection,
            ticket: n.ticket,
            ticket_number: n.ticket_number,
            event_id: n.event_id,
            vendor: n.vendor,
            rule: n.rule,
            hint: n.hint,
            ticket_read: None,
            session: None,
            created_at: now,
            updated_at: now,
            attempt: 0,
            due_at: now,
            failed_step: None,
            error: None,
            waiting_since: None,
            poll_interval_ms: None,
            polls: 0,
            collected_at: None,
            artifacts: vec![],
            unavailable: vec![],
            steps: vec![StepRecord {
                step: JobState::Queued,
                at: now,
                attempt: 0,
                error: None,
                detail: Some("webhook accepted".into()),
            }],
            lease: None,
            rev: 0,
        }
    }

    fn record(&mut self, now: Millis, error: Option<String>, detail: Option<String>) {
        self.steps.push(StepRecord {
            step: self.state,
            at: now,
            attempt: self.attempt,
            error,
            detail,
        });
        self.updated_at = now;
    }

    /// The step in the current state succeeded: move to `to`, due at once.
    pub fn advance(&mut self, to: JobState, now: Millis, detail: impl Into<String>) {
        let attempt = self.attempt.max(1);
        self.steps.push(StepRecord {
            step: self.state,
            at: now,
            attempt,
            error: None,
            detail: Some(detail.into()),
        });
        self.state = to;
        self.attempt = 0;
        self.error = None;
        self.due_at = now;
        self.updated_at = now;
    }

    /// Stay in this state and look again at `due` without counting it as a failed attempt
    /// (a session still running).
    pub fn wait_until(&mut self, due: Millis, now: Millis) {
        // A successful look resets the count: only consecutive failures may fail a job that
        // waits for hours (scattered vendor hiccups over a long session must not add up).
        self.attempt = 0;
        self.error = None;
        self.due_at = due;
        self.updated_at = now;
    }

    /// A transient failure: count the attempt and come back at `due`.
    pub fn retry_at(&mut self, due: Millis, now: Millis, error: String) {
        self.attempt += 1;
        self.record(now, Some(error.clone()), Some(format!("retry at {due}")));
        self.error = Some(error);
        self.due_at = due;
    }

    /// A permanent failure, or retries exhausted: the job stops here until an admin retries it.
    pub fn fail(&mut self, now: Millis, error: String) {
        self.attempt = self.attempt.max(1);
        self.record(now, Some(error.clone()), Some("failed".into()));
        self.failed_step = Some(self.state);
        self.state = JobState::Failed;
        self.error = Some(error);
    }

    /// End in a terminal state other than done or failed (skipped, expired).
    pub fn finish(&mut self, to: JobState, now: Millis, detail: impl Into<String>) {
        self.record(now, None, Some(detail.into()));
        self.state = to;
    }

    /// Admin retry: back to the step that failed, with a fresh attempt count.
    pub fn resume(&mut self, now: Millis) -> Result<JobState, TransitionError> {
        let step = match (self.state, self.failed_step) {
            (JobState::Failed, Some(step)) => step,
            (s, _) => return Err(TransitionError::NotFailed(s.as_str())),
        };
        self.record(
            now,
            None,
            Some(format!("retried by admin, back to {}", step.as_str())),
        );
        self.state = step;
        self.failed_step = None;
        self.attempt = 0;
        self.error = None;
        self.due_at = now;
        if step == JobState::WaitingForEnd {
            // The wait starts over: an admin retry of a long-failed wait would otherwise expire
            // at once, without one look at the session.
            self.waiting_since = Some(now);
        }
        Ok(step)
    }

    pub fn cancel(&mut self, now: Millis) -> Result<(), TransitionError> {
        if self.state.is_terminal() && self.state != JobState::Failed {
            return Err(TransitionError::AlreadyFinished(self.state.as_str()));
        }
        self.record(now, None, Some("cancelled by admin".into()));
        self.state = JobState::Cancelled;
        Ok(())
    }

    /// Whether the vendor session this job opened may still be open.
    pub fn session_may_be_open(&self) -> bool {
        self.session.is_some()
            && matches!(
                self.failed_step.unwrap_or(self.state),
                JobState::Queued
                    | JobState::SessionCreated
                    | JobState::LinkPosted
                    | JobState::WaitingForEnd
            )
    }
}

#[cfg(test)]
mod tests;
