//! The product clock: a job's timing follows the clock the app is built with
//! (`App::build_with_clock`), so a test that holds a frozen `ManualClock` sees a one-hour
//! `give_up_after` or a one-hour backoff pass the moment it moves the clock, and nothing
//! happen before. The worker's real-time tick is an hour here, so each test also shows that a
//! jump of the clock wakes the worker. The simulators and webhook signatures stay on real time.

use crate::servicenow::*;
use deskbridge::clock::{ManualClock, Millis};
use deskbridge_sim::{Fault, FaultAction};
use serde_json::Value;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

/// deskbridge on a frozen manual clock, with the standard ServiceNow and Splashtop simulators,
/// and the time it stands at.
async fn spawn_on_a_frozen_clock() -> (SnowApp, Millis) {
    let start = Millis::now();
    // A worker tick of an hour of real time: only the clock's jumps (and new work) wake it.
    let app = spawn_app_on(ManualClock::frozen(start), |c| {
        c.worker.tick = Some("1h".into());
        assert_eq!(
            c.vendor_mut("splashtop")
                .poll
                .as_ref()
                .unwrap()
                .give_up_after
                .as_deref(),
            Some("1h")
        );
    })
    .await;
    assert_eq!(app.clock.now(), start);
    (app, start)
}

/// The time `after` the start, as the API writes it.
fn at(start: Millis, after: Duration) -> Value {
    Value::String(start.plus(after).rfc3339())
}

#[tokio::test]
async fn a_session_that_never_ends_expires_once_the_clock_passes_give_up_after() {
    let (app, start) = spawn_on_a_frozen_clock().await;
    let (sys_id, id) = app.click("Service Desk").await;
    // Its first look at the session is at once; the next one waits for the clock. (Jumping
    // while the first is under way would let it finish with a due time from before the jump.)
    let job = app
        .wait_until(&id, "the first look", 10, |j| {
            j["state"] == "waiting_for_end" && j["polls"].as_u64() >= Some(1)
        })
        .await;
    assert_eq!(
        job["created_at"],
        at(start, Duration::ZERO),
        "ingest reads the clock"
    );
    assert_eq!(job["waiting_since"], at(start, Duration::ZERO));
    let polls = job["polls"].as_u64().unwrap();
    let expiry_marker = marker(&id, "expired");

    app.clock.advance(59 * MINUTE);
    let job = app
        .wait_until(&id, "a look after 59 minutes", 10, |j| {
            j["polls"].as_u64().unwrap() > polls
        })
        .await;
    assert_eq!(
        job["state"], "waiting_for_end",
        "59 minutes is within the hour"
    );
    // as times: RFC 3339 text drops trailing zeros of the fraction, so it does not sort
    let due = Millis::parse_rfc3339(job["due_at"].as_str().unwrap()).unwrap();
    assert!(due > start.plus(59 * MINUTE), "{due:?}");
    assert_eq!(app.notes_with(&sys_id, &expiry_marker), 0);

    app.clock.advance(2 * MINUTE);
    let job = app.wait_for_state(&id, "expired", 10).await;
    let last = job["steps"].as_array().unwrap().last().unwrap();
    assert_eq!(
        last["at"],
        at(start, 61 * MINUTE),
        "the history is on the clock too"
    );
    assert_eq!(app.notes_with(&sys_id, &expiry_marker), 1);
    assert_eq!(app.splashtop.sessions()[0].status, "closed");
}

#[tokio::test]
async fn a_one_hour_retry_after_is_waited_out_by_moving_the_clock() {
    let (app, start) = spawn_on_a_frozen_clock().await;
    app.snow.faults().push(
        Fault::new(
            "/api/now/table/incident/",
            FaultAction::Status {
                status: 429,
                retry_after: Some("3600".into()),
                body: None,
            },
        )
        .method("GET")
        .times(1),
    );
    let (_, id) = app.click("Service Desk").await;
    let job = app
        .wait_until(&id, "the 429 recorded", 10, |j| j["attempt"] == 1)
        .await;
    assert_eq!(job["state"], "queued");
    assert_eq!(
        job["due_at"],
        at(start, 60 * MINUTE),
        "due when Retry-After says"
    );

    app.clock.advance(30 * MINUTE);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let job = app.job(&id).await;
    assert_eq!(
        (job["state"].as_str(), job["attempt"].as_u64()),
        (Some("queued"), Some(1)),
        "half-way through the backoff nothing runs"
    );

    app.clock.advance(30 * MINUTE);
    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    assert_eq!(job["waiting_since"], at(start, 60 * MINUTE));
    assert!(app.splashtop.sessions().len() == 1);
}
