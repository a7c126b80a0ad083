//! Table tests of the job state machine: every transition the worker and the admin API can ask
//! for, and what each does to state, attempt, due time and history.

use super::*;

fn job() -> Job {
    Job::new(
        NewJob {
            connection: ConnectionId::new("snow"),
            ticket: TicketRef::new("incident/abc"),
            ticket_number: Some("INC1".into()),
            event_id: None,
            vendor: None,
            rule: None,
            hint: Ticket::default(),
        },
        Millis(1_000),
    )
}

#[test]
fn the_happy_path_visits_every_step_in_order() {
    let mut j = job();
    let mut seen = vec![j.state];
    let mut t = 1_000;
    while let Some(next) = j.state.next() {
        t += 10;
        j.advance(next, Millis(t), "ok");
        seen.push(j.state);
    }
    use JobState::*;
    assert_eq!(
        seen,
        vec![
            Queued,
            SessionCreated,
            LinkPosted,
            WaitingForEnd,
            Collecting,
            Attaching,
            Done
        ]
    );
    assert!(j.state.is_terminal());
    // the first line is the webhook, then one line per step left
    assert_eq!(j.steps.len(), 7);
    assert!(j.steps.iter().all(|s| s.error.is_none()));
}

#[test]
fn a_transient_error_counts_the_attempt_and_sets_the_due_time() {
    let mut j = job();
    j.retry_at(Millis(5_000), Millis(1_100), "503 from ServiceNow".into());
    assert_eq!(j.state, JobState::Queued);
    assert_eq!(j.attempt, 1);
    assert_eq!(j.due_at, Millis(5_000));
    let last = j.steps.last().unwrap();
    assert_eq!(last.error.as_deref(), Some("503 from ServiceNow"));
    assert_eq!(last.attempt, 1);
    // success resets the counter
    j.advance(JobState::SessionCreated, Millis(6_000), "created");
    assert_eq!(j.attempt, 0);
    assert_eq!(j.error, None);
}

#[test]
fn a_failed_job_remembers_its_step_and_an_admin_retry_returns_to_it() {
    let mut j = job();
    j.advance(JobState::SessionCreated, Millis(2_000), "created");
    j.fail(Millis(3_000), "401: User Not Authenticated".into());
    assert_eq!(j.state, JobState::Failed);
    assert_eq!(j.failed_step, Some(JobState::SessionCreated));
    assert_eq!(j.error.as_deref(), Some("401: User Not Authenticated"));
    assert_eq!(j.resume(Millis(4_000)), Ok(JobState::SessionCreated));
    assert_eq!(j.state, JobState::SessionCreated);
    assert_eq!(j.attempt, 0);
    assert_eq!(j.due_at, Millis(4_000));
    assert_eq!(j.failed_step, None);
}

#[test]
fn only_a_failed_job_can_be_retried() {
    let mut j = job();
    assert_eq!(
        j.resume(Millis(2)),
        Err(TransitionError::NotFailed("queued"))
    );
    j.finish(JobState::Skipped, Millis(3), "no rule");
    assert_eq!(
        j.resume(Millis(4)),
        Err(TransitionError::NotFailed("skipped"))
    );
}

#[test]
fn cancel_works_from_any_live_or_failed_state_but_not_twice() {
    for st in [
        JobState::Queued,
        JobState::WaitingForEnd,
        JobState::Attaching,
    ] {
        let mut j = job();
        j.state = st;
        assert!(j.cancel(Millis(5)).is_ok());
        assert_eq!(j.state, JobState::Cancelled);
    }
    let mut j = job();
    j.fail(Millis(2), "x".into());
    assert!(j.cancel(Millis(3)).is_ok());
    assert_eq!(
        j.cancel(Millis(4)),
        Err(TransitionError::AlreadyFinished("cancelled"))
    );
}

#[test]
fn state_names_and_codes_round_trip() {
    for (i, s) in JobState::ALL.iter().enumerate() {
        assert_eq!(JobState::parse(s.as_str()), Some(*s));
        assert_eq!(s.code() as usize, i);
        let json = serde_json::to_string(s).unwrap();
        assert_eq!(json, format!("\"{}\"", s.as_str()));
    }
}

#[test]
fn a_successful_look_at_a_running_session_resets_the_attempt_count() {
    let mut j = job();
    j.state = JobState::WaitingForEnd;
    j.retry_at(Millis(2_000), Millis(1_500), "502".into());
    j.retry_at(Millis(3_000), Millis(2_500), "502".into());
    assert_eq!(j.attempt, 2);
    j.wait_until(Millis(9_000), Millis(3_100));
    assert_eq!(j.attempt, 0);
    assert_eq!(j.error, None);
}

#[test]
fn an_admin_retry_of_a_failed_wait_restarts_the_wait() {
    let mut j = job();
    j.state = JobState::WaitingForEnd;
    j.waiting_since = Some(Millis(10));
    j.fail(Millis(20), "x".into());
    j.resume(Millis(5_000)).unwrap();
    assert_eq!(j.waiting_since, Some(Millis(5_000)));
}

#[test]
fn only_states_whose_session_may_be_open_hold_the_ticket() {
    use JobState::*;
    let holding: Vec<JobState> = JobState::ALL
        .into_iter()
        .filter(|s| s.holds_ticket())
        .collect();
    assert_eq!(
        holding,
        vec![Queued, SessionCreated, LinkPosted, WaitingForEnd]
    );
}
