//! The states of a job (SPEC §5) and their two persisted forms: the snake_case name in job
//! records and the API, and a one-byte code in the store's `states` index. Both are written to
//! disk, so both are spelled out here and never derived from an order: a store written by an
//! older build stays readable.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum JobState {
    Queued = 0,
    SessionCreated = 1,
    LinkPosted = 2,
    WaitingForEnd = 3,
    Collecting = 4,
    Attaching = 5,
    Done = 6,
    Failed = 7,
    Expired = 8,
    Cancelled = 9,
    Skipped = 10,
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

    /// Whether the job has ended: no step runs in this state (a failed job waits for an admin).
    /// The phase of a job's life a live state belongs to: retries are budgeted per phase.
    pub fn phase(self) -> Phase {
        match self {
            JobState::Queued | JobState::SessionCreated | JobState::LinkPosted => Phase::Link,
            JobState::WaitingForEnd => Phase::Wait,
            JobState::Collecting | JobState::Attaching => Phase::Artifacts,
            _ => Phase::Ended,
        }
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

    /// The byte that stands for the state in the store's index keys: the explicit discriminant.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<JobState> {
        JobState::ALL.into_iter().find(|s| s.code() == code)
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The phases of a job's life, each with its own retry budget (`worker.retry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The agent waits for the link: short budget, then a failure note.
    Link,
    /// The session runs; its budget counts from the last successful look.
    Wait,
    /// Collecting and attaching: long budget, auditors need the files.
    Artifacts,
    Ended,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Link => "link",
            Phase::Wait => "wait",
            Phase::Artifacts => "artifacts",
            Phase::Ended => "ended",
        }
    }
}
