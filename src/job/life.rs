//! A job's life (SPEC §5): what can happen to a job, the state each event leads to (one match,
//! [`next_state`]), and the methods of [`Job`] that make it happen.
//!
//! Steps report what they found in the world as an [`Outcome`]; failures and the admin's
//! retry and cancel are methods of their own. Every one of them goes through
//! `Job::transition`, which asks `next_state`, writes the history line, applies the event's
//! field changes and checks the job's invariants before the job changes at all: a transition
//! that is not allowed, or would leave the job broken, leaves it as it was.

use super::check::Broken;
use super::{Actor, Job, JobState, StepRecord};
use crate::clock::Millis;

/// What a step found in the world. The job, not the step, decides which state that leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The step's work is done (what it did, for the history).
    Done(String),
    /// Not over yet (the session still runs): look again at this time.
    NotYet(Millis),
    /// The ticket as read matches no rule (why not).
    NoRule(String),
    /// The session did not end in time (what was done about it).
    TimedOut(String),
}

/// Everything that can happen to a job: the steps' outcomes, failures, the admin's hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    StepDone,
    NotYet,
    NoRule,
    TimedOut,
    /// A transient failure: the same step, later.
    Retry,
    /// A permanent failure, or retries exhausted.
    Fail,
    AdminRetry,
    Cancel,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::StepDone => "step done",
            Event::NotYet => "not over yet",
            Event::NoRule => "no rule matches",
            Event::TimedOut => "timed out",
            Event::Retry => "transient failure",
            Event::Fail => "failure",
            Event::AdminRetry => "admin retry",
            Event::Cancel => "cancel",
        }
    }
}

/// SPEC §5 in one match: the state `event` leads to from `state` (a failed job remembers
/// `failed_step`), or None when it cannot happen there.
pub fn next_state(
    state: JobState,
    failed_step: Option<JobState>,
    event: Event,
) -> Option<JobState> {
    use Event::*;
    use JobState::*;
    let live = !state.is_terminal();
    match (state, event) {
        // queued → session_created → link_posted → waiting_for_end → collecting → attaching → done
        (Queued, StepDone) => Some(SessionCreated),
        (SessionCreated, StepDone) => Some(LinkPosted),
        (LinkPosted, StepDone) => Some(WaitingForEnd),
        (WaitingForEnd, StepDone) => Some(Collecting),
        (Collecting, StepDone) => Some(Attaching),
        (Attaching, StepDone) => Some(Done),
        // the session still runs: look again later
        (WaitingForEnd, NotYet) => Some(WaitingForEnd),
        // waiting_for_end ─(give_up_after)→ expired
        (WaitingForEnd, TimedOut) => Some(Expired),
        // queued ─(ticket as read no longer matches a rule)→ skipped
        (Queued, NoRule) => Some(Skipped),
        // any step ─(transient failure)→ the same step, later
        (s, Retry) if live => Some(s),
        // any step ─(retries exhausted / permanent error)→ failed
        (_, Fail) if live => Some(Failed),
        // failed ─(retry)→ back to that step
        (Failed, AdminRetry) => failed_step.filter(|s| !s.is_terminal()),
        // any state ─(cancel)→ cancelled; a job that ended otherwise than failed stays as it ended
        (_, Cancel) if live || state == Failed => Some(Cancelled),
        _ => None,
    }
}

/// Why a transition was refused; the job is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("job is {0}, only a failed job can be retried")]
    NotFailed(&'static str),
    #[error("job is already {0}")]
    AlreadyFinished(&'static str),
    #[error("a job in {state} cannot move on \"{event}\"")]
    NotAllowed {
        state: &'static str,
        event: &'static str,
    },
    #[error(transparent)]
    Broken(#[from] Broken),
}

/// A history line before the job stamps it with its state and the time.
struct Line {
    attempt: u32,
    error: Option<String>,
    detail: String,
    by: Option<String>,
}

impl Line {
    fn new(attempt: u32, error: Option<String>, detail: String) -> Line {
        Line {
            attempt,
            error,
            detail,
            by: None,
        }
    }
    fn by(mut self, actor: &Actor) -> Line {
        self.by = Some(actor.to_string());
        self
    }
}

impl Job {
    /// Add one line to the history, about the state the job is in now. The only way a line is
    /// added.
    pub fn record(&mut self, now: Millis, attempt: u32, error: Option<String>, detail: String) {
        self.steps.push(StepRecord {
            step: self.state,
            at: now,
            attempt,
            error,
            detail: Some(detail),
            by: None,
        });
        self.updated_at = now;
    }

    /// What a step found; returns the state it led to.
    pub fn apply(&mut self, outcome: Outcome, now: Millis) -> Result<JobState, TransitionError> {
        match outcome {
            Outcome::Done(detail) => {
                let line = Line::new(self.attempt.max(1), None, detail);
                self.transition(Event::StepDone, now, Some(line), |j| {
                    j.attempt = 0;
                    j.error = None;
                    j.due_at = now;
                })
            }
            Outcome::NotYet(due) => self.transition(Event::NotYet, now, None, |j| {
                // A successful look resets the count and the wait's retry budget: only a run of
                // failures may fail a job that waits for hours (scattered vendor hiccups over a
                // long session must not add up).
                j.attempt = 0;
                j.error = None;
                j.due_at = due;
                j.updated_at = now;
                j.phase_since = Some(now);
            }),
            Outcome::NoRule(why) => {
                let line = Line::new(self.attempt, None, why);
                self.transition(Event::NoRule, now, Some(line), |_| {})
            }
            Outcome::TimedOut(detail) => {
                let line = Line::new(self.attempt, None, detail);
                self.transition(Event::TimedOut, now, Some(line), |_| {})
            }
        }
    }

    /// A transient failure: count the attempt and come back at `due`.
    pub fn retry_at(
        &mut self,
        due: Millis,
        now: Millis,
        error: String,
    ) -> Result<JobState, TransitionError> {
        let line = Line::new(
            self.attempt + 1,
            Some(error.clone()),
            format!("retry at {due}"),
        );
        self.transition(Event::Retry, now, Some(line), |j| {
            j.attempt += 1;
            j.error = Some(error);
            j.due_at = due;
        })
    }

    /// A permanent failure, or retries exhausted: the job stops here until an admin retries it.
    pub fn fail(&mut self, now: Millis, error: String) -> Result<JobState, TransitionError> {
        let step = self.state;
        let line = Line::new(self.attempt.max(1), Some(error.clone()), "failed".into());
        self.transition(Event::Fail, now, Some(line), |j| {
            j.attempt = j.attempt.max(1);
            j.failed_step = Some(step);
            j.error = Some(error);
        })
    }

    /// Admin retry: back to the step that failed, with a fresh attempt count.
    pub fn resume(&mut self, now: Millis) -> Result<JobState, TransitionError> {
        self.resume_by(now, &Actor::admin())
    }

    /// [`Job::resume`], the history naming who asked.
    pub fn resume_by(&mut self, now: Millis, by: &Actor) -> Result<JobState, TransitionError> {
        let step = match (self.state, self.failed_step) {
            (JobState::Failed, Some(step)) => step,
            (s, _) => return Err(TransitionError::NotFailed(s.as_str())),
        };
        let detail = format!("retried by {by}, back to {}", step.as_str());
        let line = Line::new(self.attempt, None, detail).by(by);
        self.transition(Event::AdminRetry, now, Some(line), |j| {
            j.failed_step = None;
            j.attempt = 0;
            j.error = None;
            j.due_at = now;
            if step == JobState::Queued && j.session.is_none() {
                // The admin may have fixed the ticket: read it again.
                j.ticket_read = None;
            }
        })
    }

    /// Admin cancel, from any state but one the job ended in otherwise than failed.
    pub fn cancel(&mut self, now: Millis) -> Result<JobState, TransitionError> {
        self.cancel_by(now, &Actor::admin())
    }

    /// [`Job::cancel`], the history naming who asked.
    pub fn cancel_by(&mut self, now: Millis, by: &Actor) -> Result<JobState, TransitionError> {
        if self.state.is_terminal() && self.state != JobState::Failed {
            return Err(TransitionError::AlreadyFinished(self.state.as_str()));
        }
        let line = Line::new(self.attempt, None, format!("cancelled by {by}")).by(by);
        self.transition(Event::Cancel, now, Some(line), |j| {
            // The failed step is in the history; the job is no longer waiting to go back to it.
            j.failed_step = None;
        })
    }

    /// The one way the state changes: ask [`next_state`], write the line about the state being
    /// left, move, apply the event's changes, and keep the result only if it is a sound job.
    fn transition(
        &mut self,
        event: Event,
        now: Millis,
        line: Option<Line>,
        changes: impl FnOnce(&mut Job),
    ) -> Result<JobState, TransitionError> {
        let to =
            next_state(self.state, self.failed_step, event).ok_or(TransitionError::NotAllowed {
                state: self.state.as_str(),
                event: event.as_str(),
            })?;
        let mut next = self.clone();
        if let Some(l) = line {
            next.record(now, l.attempt, l.error, l.detail);
            if let Some(last) = next.steps.last_mut() {
                last.by = l.by;
            }
        }
        next.state = to;
        changes(&mut next);
        // A new phase, or an admin's retry, starts the phase's retry budget afresh.
        if to.phase() != self.state.phase() || event == Event::AdminRetry {
            next.phase_since = Some(now);
        }
        if to == JobState::WaitingForEnd && self.state != JobState::WaitingForEnd {
            // The wait (and its give_up_after) starts when the job starts waiting, an admin
            // retry of a failed wait included: a long-failed wait would otherwise expire at once,
            // without one look at the session.
            next.waiting_since = Some(now);
        }
        next.check()?;
        *self = next;
        Ok(to)
    }
}
