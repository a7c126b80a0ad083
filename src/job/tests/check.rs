//! Table tests of the job invariants: every job the state machine makes is sound, and each
//! rule, broken on its own, is the one `check` names.

use super::*;

#[test]
fn every_state_reached_the_way_the_worker_and_the_admin_reach_it_is_sound() {
    for state in JobState::ALL {
        assert_eq!(sound(state).check(), Ok(()), "{state}");
    }
}

#[test]
fn each_rule_broken_alone_is_named() {
    use JobState::*;
    type Break = fn(&mut Job);
    let table: Vec<(Rule, JobState, Break)> = vec![
        (Rule::FailedStepIffFailed, Failed, |j| j.failed_step = None),
        (Rule::FailedStepIffFailed, Attaching, |j| {
            j.failed_step = Some(Attaching)
        }),
        (Rule::FailedStepIffFailed, Cancelled, |j| {
            j.failed_step = Some(Queued)
        }),
        (Rule::FailedStepHasWork, Failed, |j| {
            j.failed_step = Some(Done)
        }),
        (Rule::FailedSaysWhy, Failed, |j| j.error = None),
        (Rule::VendorFromSessionCreated, SessionCreated, |j| {
            j.vendor = None
        }),
        (Rule::VendorFromSessionCreated, Failed, |j| j.vendor = None),
        (Rule::TicketReadFromSessionCreated, Done, |j| {
            j.ticket_read = None
        }),
        (Rule::SessionFromSessionCreated, LinkPosted, |j| {
            j.session = None
        }),
        (Rule::SessionFromSessionCreated, Expired, |j| {
            j.session = None
        }),
        (Rule::WaitStartFromWaitingForEnd, WaitingForEnd, |j| {
            j.waiting_since = None
        }),
        (Rule::WaitStartFromWaitingForEnd, Expired, |j| {
            j.waiting_since = None
        }),
        (Rule::CollectionFromAttaching, Attaching, |j| {
            j.collected_at = None
        }),
        (Rule::CollectionFromAttaching, Done, |j| j.artifacts.clear()),
        (Rule::DoneMeansAttached, Done, |j| {
            j.artifacts[1].attached = None
        }),
        (Rule::SkippedOpenedNoSession, Skipped, |j| {
            j.session = Some(session(None, Some("agent@acme.example")))
        }),
    ];
    let mut covered = vec![];
    for (rule, state, breaks) in table {
        let mut j = sound(state);
        breaks(&mut j);
        let err = j.check().unwrap_err();
        assert_eq!(
            (err.rule, err.state),
            (rule, j.state),
            "{rule:?} in {state}"
        );
        assert!(err.to_string().contains(rule.describe()), "{err}");
        covered.push(rule);
    }
    for rule in Rule::ALL {
        assert!(covered.contains(&rule), "{rule:?} has no case");
    }
}

#[test]
fn an_instructions_only_session_without_a_link_is_a_session() {
    // Sunlogin cannot create sessions: the job gets a session with no link, only the seat to
    // watch, and posts instructions instead of a link.
    let mut j = sound(JobState::LinkPosted);
    j.session = Some(session(None, Some("agent@acme.example")));
    assert_eq!(j.check(), Ok(()));
}

#[test]
fn what_a_state_does_not_need_yet_may_be_missing() {
    // A queued job may hold the session it created before a crash, or none.
    let mut j = job();
    assert_eq!(j.check(), Ok(()));
    j.session = Some(session(Some("https://x.example/s"), None));
    assert_eq!(j.check(), Ok(()));
    // A job failed before it had a session is sound.
    let mut f = job();
    f.fail(Millis(2_000), "404".into()).unwrap();
    assert_eq!(f.check(), Ok(()));
}

#[test]
fn an_admin_can_cancel_even_a_broken_job() {
    // A cancel can come at any point, so a cancelled job keeps only the general rules: an admin
    // can stop a job that an older build left broken.
    let mut c = sound(JobState::LinkPosted);
    c.session = None;
    assert!(c.check().is_err());
    assert_eq!(c.cancel(Millis(3_000)), Ok(JobState::Cancelled));
    assert_eq!(c.check(), Ok(()));
}
