//! A job: what the store keeps of one "start remote session" click, as pure data.
//!
//! The worker's steps report *what happened* (see [`Outcome`]); the job decides what that does
//! to it: the next state, the attempt counter, the due time and the history line (`life.rs`),
//! and whether the result is a sound job (`check.rs`). The fields that only those transitions
//! may change are private and read through methods. Keeping this free of I/O lets the state
//! machine be table-tested and keeps the store a dumb persister.

mod check;
mod life;
mod state;

pub use check::{Broken, Rule};
pub use life::{next_state, Event, Outcome, TransitionError};
pub use state::{JobState, Phase};

use crate::clock::Millis;
use crate::config::ArtifactKind;
use crate::ids::{ConnectionId, EventId, JobId, TicketRef, VendorId};
use crate::remote::Session;
use crate::ticket::Ticket;
use serde::{Deserialize, Serialize};

/// One line of a job's history: a step taken, retried or failed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct StepRecord {
    pub step: JobState,
    pub at: Millis,
    attempt: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// What the step did, or the state it led to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Who did it, for what a person did (an admin's retry or cancel): `admin`, or the name
    /// given at login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// Who retried or cancelled a job, as its history names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    /// Whoever holds the admin token, through the API or a command.
    pub fn admin() -> Actor {
        Actor("admin".into())
    }

    /// A name given at login (the web console): trimmed, 1 to 64 characters, none of them a
    /// control character; None otherwise.
    pub fn named(name: &str) -> Option<Actor> {
        let name = name.trim();
        let fits = (1..=64).contains(&name.chars().count());
        (fits && !name.chars().any(char::is_control)).then(|| Actor(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an artifact ended up on the ticket.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ArtifactRecord {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached: Option<Attached>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Unavailable {
    pub kind: ArtifactKind,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Lease {
    pub owner: u64,
    pub until: Millis,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Job {
    pub id: JobId,
    state: JobState,
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
    updated_at: Millis,
    /// Attempts made at the current step (0 before the first).
    attempt: u32,
    due_at: Millis,
    #[serde(default)]
    failed_step: Option<JobState>,
    #[serde(default)]
    error: Option<String>,
    /// When the job entered its current phase (or last looked at its running session): the
    /// retry budget of the phase counts from here.
    #[serde(default)]
    phase_since: Option<Millis>,
    /// Create calls made for this job whose answer may not have come back: a retry looks for
    /// the session they may have made before creating another.
    #[serde(default)]
    pub create_calls: u32,
    /// Artifact kinds already fetched from the vendor and kept in the store with the artifacts,
    /// so a retry of the collection fetches only the rest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collected_kinds: Vec<ArtifactKind>,
    /// The ticket system's attachment limits, once read for the collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<crate::itsm::AttachmentLimits>,
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
    steps: Vec<StepRecord>,
    #[serde(default)]
    pub lease: Option<Lease>,
    /// The fencing generation: bumped by every lease, so a write made under an older lease
    /// (a replica that lost it) is told apart from the current holder's.
    #[serde(default)]
    pub fence: u64,
    /// Bumped by every store write; a write carrying a stale `rev` is refused, so a cancel
    /// during a step is not overwritten by the step's result.
    pub rev: u64,
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
        let mut job = Job {
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
            phase_since: Some(now),
            create_calls: 0,
            collected_kinds: vec![],
            limits: None,
            waiting_since: None,
            poll_interval_ms: None,
            polls: 0,
            collected_at: None,
            artifacts: vec![],
            unavailable: vec![],
            steps: vec![],
            lease: None,
            fence: 0,
            rev: 0,
        };
        job.record(now, 0, None, "webhook accepted".into());
        job
    }

    pub fn state(&self) -> JobState {
        self.state
    }

    /// The step a failed job failed in (where an admin retry goes back to).
    pub fn failed_step(&self) -> Option<JobState> {
        self.failed_step
    }

    /// Attempts made at the current step (0 before the first).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// When the job's next step is due.
    pub fn due_at(&self) -> Millis {
        self.due_at
    }

    /// Since when the job has been in its current phase, for the retry budget; a job stored
    /// before phases were recorded starts counting now.
    pub fn phase_since(&mut self, now: Millis) -> Millis {
        *self.phase_since.get_or_insert(now)
    }

    /// The last failure, while the job retries or has failed.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub fn updated_at(&self) -> Millis {
        self.updated_at
    }

    /// Every line of the history, oldest first; lines are added by [`Job::record`] only.
    pub fn history(&self) -> &[StepRecord] {
        &self.steps
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
