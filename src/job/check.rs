//! What must hold of a job in each state, in one place.
//!
//! The steps, the notes and the admin API rely on these ("the job has no session" would
//! otherwise be an error deep inside a step, hours after the bug that caused it). Every
//! transition checks them before it changes the job, and the store refuses to persist a job
//! that breaks one, so a bug shows where it happens and never reaches the disk.

use super::{Job, JobState};
use crate::ids::JobId;

/// One rule of [`Job::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    FailedStepIffFailed,
    FailedStepHasWork,
    FailedSaysWhy,
    VendorFromSessionCreated,
    TicketReadFromSessionCreated,
    SessionFromSessionCreated,
    WaitStartFromWaitingForEnd,
    CollectionFromAttaching,
    DoneMeansAttached,
    SkippedOpenedNoSession,
}

impl Rule {
    pub const ALL: [Rule; 10] = [
        Rule::FailedStepIffFailed,
        Rule::FailedStepHasWork,
        Rule::FailedSaysWhy,
        Rule::VendorFromSessionCreated,
        Rule::TicketReadFromSessionCreated,
        Rule::SessionFromSessionCreated,
        Rule::WaitStartFromWaitingForEnd,
        Rule::CollectionFromAttaching,
        Rule::DoneMeansAttached,
        Rule::SkippedOpenedNoSession,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Rule::FailedStepIffFailed => {
                "a failed job, and only a failed job, names the step it failed in"
            }
            Rule::FailedStepHasWork => "the step a job failed in is one with work to do",
            Rule::FailedSaysWhy => "a failed job says why",
            Rule::VendorFromSessionCreated => "from session_created on, a job has its vendor",
            Rule::TicketReadFromSessionCreated => {
                "from session_created on, a job has the ticket as read from the ticket system"
            }
            Rule::SessionFromSessionCreated => "from session_created on, a job has its session",
            Rule::WaitStartFromWaitingForEnd => {
                "from waiting_for_end on, a job knows since when it waits for the session's end"
            }
            Rule::CollectionFromAttaching => {
                "from attaching on, a job records its collection time and artifacts (the signed \
                 manifest at least)"
            }
            Rule::DoneMeansAttached => "a done job has every artifact attached",
            Rule::SkippedOpenedNoSession => "a skipped job opened no session",
        }
    }

    fn holds(self, job: &Job) -> bool {
        let reached =
            |s: JobState| matches!((stage_rank(job), rank(s)), (Some(a), Some(b)) if a >= b);
        match self {
            Rule::FailedStepIffFailed => {
                job.failed_step.is_some() == (job.state == JobState::Failed)
            }
            Rule::FailedStepHasWork => job.failed_step.is_none_or(|s| !s.is_terminal()),
            Rule::FailedSaysWhy => job.state != JobState::Failed || job.error.is_some(),
            Rule::VendorFromSessionCreated => {
                !reached(JobState::SessionCreated) || job.vendor.is_some()
            }
            Rule::TicketReadFromSessionCreated => {
                !reached(JobState::SessionCreated) || job.ticket_read.is_some()
            }
            // A session, not a link: vendors that cannot create sessions (Sunlogin) give one
            // with no link, a seat to watch, and the job posts instructions instead.
            Rule::SessionFromSessionCreated => {
                !reached(JobState::SessionCreated) || job.session.is_some()
            }
            Rule::WaitStartFromWaitingForEnd => {
                !reached(JobState::WaitingForEnd) || job.waiting_since.is_some()
            }
            Rule::CollectionFromAttaching => {
                !reached(JobState::Attaching)
                    || (job.collected_at.is_some() && !job.artifacts.is_empty())
            }
            Rule::DoneMeansAttached => {
                job.state != JobState::Done || job.artifacts.iter().all(|a| a.attached.is_some())
            }
            Rule::SkippedOpenedNoSession => job.state != JobState::Skipped || job.session.is_none(),
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// A job that breaks a rule of [`Job::check`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job {job} ({state}) breaks a rule: {rule}")]
pub struct Broken {
    pub job: JobId,
    pub state: JobState,
    pub rule: Rule,
}

/// How far along the happy path a state is; an expired job got as far as waiting.
fn rank(s: JobState) -> Option<u8> {
    use JobState::*;
    Some(match s {
        Queued | Skipped => 0,
        SessionCreated => 1,
        LinkPosted => 2,
        WaitingForEnd | Expired => 3,
        Collecting => 4,
        Attaching => 5,
        Done => 6,
        Failed | Cancelled => return None,
    })
}

/// How far the job got: its state's rank, or for a failed job the rank of the step it failed
/// in. None for a cancelled job: a cancel can come at any point, so only the general rules hold.
fn stage_rank(job: &Job) -> Option<u8> {
    match job.state {
        JobState::Failed => job.failed_step.and_then(rank),
        s => rank(s),
    }
}

impl Job {
    /// Every rule that must hold of this job in its state; the first one broken, if any.
    pub fn check(&self) -> Result<(), Broken> {
        match Rule::ALL.into_iter().find(|r| !r.holds(self)) {
            None => Ok(()),
            Some(rule) => Err(Broken {
                job: self.id,
                state: self.state,
                rule,
            }),
        }
    }
}
