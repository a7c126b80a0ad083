//! Table tests of the job state machine: the SPEC §5 diagram pair by pair, what each
//! transition does to state, attempt, due time and history, and the persisted state codes.

mod check;

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

fn session(link: Option<&str>, seat: Option<&str>) -> Session {
    Session {
        id: "s1".into(),
        code: "123456789".into(),
        end_user_link: link.map(String::from),
        technician_link: None,
        seat: seat.map(String::from),
        created_at: Millis(1_000),
        extra: serde_json::Value::Null,
    }
}

fn artifact(name: &str) -> ArtifactRecord {
    ArtifactRecord {
        name: name.into(),
        size: 10,
        sha256: "ab".repeat(32),
        attached: None,
    }
}

/// Fill in what the step in `job`'s state finds, as the real steps do.
fn do_the_work(j: &mut Job, t: i64) {
    match j.state {
        JobState::Queued => {
            j.vendor = Some(VendorId::new("splashtop"));
            j.ticket_read = Some(Ticket::default());
            j.session = Some(session(Some("https://x.example/s"), None));
        }
        JobState::Collecting => {
            j.artifacts = vec![artifact("log.csv"), artifact("manifest.json")];
            j.collected_at = Some(Millis(t));
        }
        JobState::Attaching => {
            for a in &mut j.artifacts {
                a.attached = Some(Attached {
                    connection: j.connection.clone(),
                    ticket: j.ticket.clone(),
                    remote_id: None,
                    at: Millis(t),
                    found_existing: false,
                });
            }
        }
        _ => {}
    }
}

/// A sound job that got to `state` the way the worker and the admin get jobs there.
fn sound(state: JobState) -> Job {
    use JobState::*;
    let mut j = job();
    let mut t = 1_000;
    let walk_to = match state {
        Expired => WaitingForEnd,
        Failed => LinkPosted,
        Skipped | Cancelled => Queued,
        s => s,
    };
    while j.state != walk_to {
        t += 10;
        do_the_work(&mut j, t);
        j.apply(Outcome::Done("ok".into()), Millis(t)).unwrap();
    }
    match state {
        Expired => j.apply(Outcome::TimedOut("1h".into()), Millis(t + 1)),
        Failed => j.fail(Millis(t + 1), "401".into()),
        Skipped => j.apply(Outcome::NoRule("no rule".into()), Millis(t + 1)),
        Cancelled => j.cancel(Millis(t + 1)),
        s => Ok(s),
    }
    .unwrap();
    assert_eq!(j.state, state);
    j
}

#[test]
fn the_happy_path_visits_every_step_in_order() {
    let j = sound(JobState::Done);
    let seen: Vec<JobState> = j.history().iter().map(|l| l.step).collect();
    use JobState::*;
    // the first line is the webhook, then one line per step left
    assert_eq!(
        seen,
        vec![
            Queued,
            Queued,
            SessionCreated,
            LinkPosted,
            WaitingForEnd,
            Collecting,
            Attaching
        ]
    );
    assert!(j.history().iter().all(|s| s.error.is_none()));
    assert!(j.state.is_terminal());
}

#[test]
fn the_state_diagram_allows_exactly_its_arrows() {
    use Event::*;
    use JobState::*;
    let step = Some(LinkPosted);
    let allowed: Vec<(JobState, Event, JobState)> = vec![
        (Queued, StepDone, SessionCreated),
        (SessionCreated, StepDone, LinkPosted),
        (LinkPosted, StepDone, WaitingForEnd),
        (WaitingForEnd, StepDone, Collecting),
        (Collecting, StepDone, Attaching),
        (Attaching, StepDone, Done),
        (WaitingForEnd, NotYet, WaitingForEnd),
        (WaitingForEnd, TimedOut, Expired),
        (Queued, NoRule, Skipped),
        (Failed, AdminRetry, LinkPosted),
        (Failed, Cancel, Cancelled),
    ];
    let events = [
        StepDone, NotYet, NoRule, TimedOut, Retry, Fail, AdminRetry, Cancel,
    ];
    for state in JobState::ALL {
        for event in events {
            let live = !state.is_terminal();
            let expected = match event {
                Retry if live => Some(state),
                Fail if live => Some(Failed),
                Cancel if live => Some(Cancelled),
                _ => allowed
                    .iter()
                    .find(|(s, e, _)| *s == state && *e == event)
                    .map(|(_, _, to)| *to),
            };
            assert_eq!(
                next_state(state, step, event),
                expected,
                "{state} + {event:?}"
            );
        }
    }
}

#[test]
fn an_outcome_the_state_has_no_arrow_for_is_refused_and_changes_nothing() {
    let mut j = sound(JobState::SessionCreated);
    let before = serde_json::to_value(&j).unwrap();
    assert_eq!(
        j.apply(Outcome::NotYet(Millis(9_000)), Millis(5_000)),
        Err(TransitionError::NotAllowed {
            state: "session_created",
            event: "not over yet"
        })
    );
    assert!(j.apply(Outcome::NoRule("x".into()), Millis(5_000)).is_err());
    assert_eq!(serde_json::to_value(&j).unwrap(), before);
}

#[test]
fn a_step_that_would_leave_the_job_broken_is_refused_and_changes_nothing() {
    let mut j = job();
    j.vendor = Some(VendorId::new("splashtop"));
    j.ticket_read = Some(Ticket::default());
    let err = j.apply(Outcome::Done("created".into()), Millis(2_000));
    assert!(
        matches!(&err, Err(TransitionError::Broken(b)) if b.rule == Rule::SessionFromSessionCreated),
        "{err:?}"
    );
    assert_eq!(j.state, JobState::Queued);
    assert_eq!(j.history().len(), 1);
}

#[test]
fn a_transient_error_counts_the_attempt_and_sets_the_due_time() {
    let mut j = job();
    j.retry_at(Millis(5_000), Millis(1_100), "503 from ServiceNow".into())
        .unwrap();
    assert_eq!(j.state, JobState::Queued);
    assert_eq!(j.attempt(), 1);
    assert_eq!(j.due_at(), Millis(5_000));
    let last = j.history().last().unwrap();
    assert_eq!(last.error.as_deref(), Some("503 from ServiceNow"));
    assert_eq!(last.attempt, 1);
    // success resets the counter
    do_the_work(&mut j, 6_000);
    j.apply(Outcome::Done("created".into()), Millis(6_000))
        .unwrap();
    assert_eq!(j.attempt(), 0);
    assert_eq!(j.error(), None);
    assert_eq!(j.due_at(), Millis(6_000));
}

#[test]
fn a_failed_job_remembers_its_step_and_an_admin_retry_returns_to_it() {
    let mut j = sound(JobState::SessionCreated);
    j.fail(Millis(3_000), "401: User Not Authenticated".into())
        .unwrap();
    assert_eq!(j.state, JobState::Failed);
    assert_eq!(j.failed_step(), Some(JobState::SessionCreated));
    assert_eq!(j.error(), Some("401: User Not Authenticated"));
    assert_eq!(j.resume(Millis(4_000)), Ok(JobState::SessionCreated));
    assert_eq!(j.state, JobState::SessionCreated);
    assert_eq!(j.attempt(), 0);
    assert_eq!(j.due_at(), Millis(4_000));
    assert_eq!(j.failed_step(), None);
    assert_eq!(j.error(), None);
}

#[test]
fn only_a_failed_job_can_be_retried() {
    let mut j = job();
    assert_eq!(
        j.resume(Millis(2)),
        Err(TransitionError::NotFailed("queued"))
    );
    let mut j = sound(JobState::Skipped);
    assert_eq!(
        j.resume(Millis(4)),
        Err(TransitionError::NotFailed("skipped"))
    );
}

#[test]
fn cancel_works_from_any_live_or_failed_state_but_not_twice() {
    use JobState::*;
    for st in [
        Queued,
        SessionCreated,
        LinkPosted,
        WaitingForEnd,
        Collecting,
        Attaching,
        Failed,
    ] {
        let mut j = sound(st);
        assert_eq!(j.cancel(Millis(5_000)), Ok(Cancelled), "from {st}");
        assert_eq!(
            j.failed_step(),
            None,
            "a cancelled job no longer waits to go back"
        );
        assert_eq!(
            j.cancel(Millis(5_001)),
            Err(TransitionError::AlreadyFinished("cancelled"))
        );
    }
    for st in [Done, Expired, Skipped] {
        assert_eq!(
            sound(st).cancel(Millis(5_000)),
            Err(TransitionError::AlreadyFinished(st.as_str()))
        );
    }
}

#[test]
fn persisted_state_codes_and_names_are_pinned() {
    use JobState::*;
    let pinned = [
        (Queued, 0, "queued"),
        (SessionCreated, 1, "session_created"),
        (LinkPosted, 2, "link_posted"),
        (WaitingForEnd, 3, "waiting_for_end"),
        (Collecting, 4, "collecting"),
        (Attaching, 5, "attaching"),
        (Done, 6, "done"),
        (Failed, 7, "failed"),
        (Expired, 8, "expired"),
        (Cancelled, 9, "cancelled"),
        (Skipped, 10, "skipped"),
    ];
    assert_eq!(pinned.len(), JobState::ALL.len());
    for (state, code, name) in pinned {
        assert_eq!(state.code(), code, "{name}");
        assert_eq!(JobState::from_code(code), Some(state));
        assert_eq!(state.as_str(), name);
        assert_eq!(JobState::parse(name), Some(state));
        assert_eq!(
            serde_json::to_string(&state).unwrap(),
            format!("\"{name}\"")
        );
    }
    assert_eq!(JobState::from_code(11), None);
}

#[test]
fn a_successful_look_at_a_running_session_resets_the_attempt_count() {
    let mut j = sound(JobState::WaitingForEnd);
    j.retry_at(Millis(2_000), Millis(1_500), "502".into())
        .unwrap();
    j.retry_at(Millis(3_000), Millis(2_500), "502".into())
        .unwrap();
    assert_eq!(j.attempt(), 2);
    let lines = j.history().len();
    j.apply(Outcome::NotYet(Millis(9_000)), Millis(3_100))
        .unwrap();
    assert_eq!(j.state, JobState::WaitingForEnd);
    assert_eq!(j.attempt(), 0);
    assert_eq!(j.error(), None);
    assert_eq!(j.due_at(), Millis(9_000));
    assert_eq!(j.history().len(), lines, "a look adds no history line");
}

#[test]
fn entering_the_wait_starts_its_clock_and_an_admin_retry_of_a_failed_wait_restarts_it() {
    let mut j = sound(JobState::LinkPosted);
    j.apply(Outcome::Done("waiting".into()), Millis(7_000))
        .unwrap();
    assert_eq!(j.waiting_since, Some(Millis(7_000)));
    j.apply(Outcome::NotYet(Millis(9_000)), Millis(8_000))
        .unwrap();
    assert_eq!(
        j.waiting_since,
        Some(Millis(7_000)),
        "a look does not restart it"
    );
    j.fail(Millis(9_000), "x".into()).unwrap();
    j.resume(Millis(50_000)).unwrap();
    assert_eq!(j.waiting_since, Some(Millis(50_000)));
}

#[test]
fn every_history_line_names_the_state_it_was_written_in() {
    let mut j = sound(JobState::WaitingForEnd);
    j.record(Millis(60_000), 1, None, "vendor session closed".into());
    let last = j.history().last().unwrap();
    assert_eq!(last.step, JobState::WaitingForEnd);
    assert_eq!(last.at, Millis(60_000));
    assert_eq!(j.updated_at(), Millis(60_000));
    let mut f = sound(JobState::Failed);
    let failed = f.history().last().unwrap().clone();
    assert_eq!(
        (failed.step, failed.detail.as_deref()),
        (JobState::LinkPosted, Some("failed"))
    );
    f.resume(Millis(70_000)).unwrap();
    assert_eq!(f.history().last().unwrap().step, JobState::Failed);
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

#[test]
fn the_retry_budget_counts_from_the_start_of_the_phase_and_a_look_restarts_the_waits() {
    let mut j = job();
    let start = j.created_at;
    assert_eq!(
        j.phase_since(Millis(99_000_000)),
        start,
        "the link phase began with the click"
    );
    // Within the link phase (queued → session_created) the count goes on.
    do_the_work(&mut j, 2_000);
    j.apply(Outcome::Done("created".into()), Millis(2_000))
        .unwrap();
    assert_eq!(j.state(), JobState::SessionCreated);
    assert_eq!(j.phase_since(Millis(99_000_000)), start);
    let mut w = sound(JobState::LinkPosted);
    w.apply(Outcome::Done("waiting".into()), Millis(7_000))
        .unwrap();
    assert_eq!(w.phase_since(Millis(0)), Millis(7_000), "a new phase");
    w.apply(Outcome::NotYet(Millis(9_000)), Millis(8_000))
        .unwrap();
    assert_eq!(w.phase_since(Millis(0)), Millis(8_000), "a successful look");
    w.retry_at(Millis(10_000), Millis(9_000), "503".into())
        .unwrap();
    assert_eq!(
        w.phase_since(Millis(0)),
        Millis(8_000),
        "a failure does not"
    );
    w.fail(Millis(9_500), "x".into()).unwrap();
    w.resume(Millis(50_000)).unwrap();
    assert_eq!(w.phase_since(Millis(0)), Millis(50_000), "an admin's retry");
}
