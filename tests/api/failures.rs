//! The ways a flow can go wrong: rate limits, server errors, retries that run out, refused
//! credentials, tickets that no longer match, sessions that never end, cancellation.

use crate::servicenow::*;
use deskbridge_sim::{Fault, FaultAction, SessionEnd};
use std::time::Duration;

/// The incident read answers `status` the first `times` times (0: always).
fn read_fails(app: &SnowApp, status: u16, times: u32) {
    let fault = Fault::new(INCIDENT, FaultAction::status(status)).method("GET");
    app.snow.faults().push(fault.times(times));
}

#[tokio::test]
async fn a_429_on_attach_is_retried_after_the_retry_after_it_gave() {
    let app = spawn_app().await;
    let (sys_id, id) = app.waiting("Service Desk").await;
    app.snow
        .faults()
        .push(Fault::new(ATTACHMENT, answer_later(429, "2")).method("POST"));
    app.end_session(&id, SessionEnd::sample(2, 2, 2)).await;
    app.skip_retry_wait(&id, "429", 0).await;
    let job = app.wait_for_state(&id, "done", 20).await;

    let wait = Duration::from_secs(2);
    assert_retried_after(app.snow.faults(), ("POST", ATTACHMENT), 429, &job, wait);
    assert!(counts(app.attachment_names(&sys_id))
        .values()
        .all(|n| *n == 1));
    let retried = steps(&job).iter().any(|s| {
        s["step"] == "attaching" && s["error"].as_str().is_some_and(|e| e.contains("429"))
    });
    assert!(retried, "the history shows the 429");
}

#[tokio::test]
async fn server_errors_are_retried_with_the_attempt_counted() {
    let app = spawn_app().await;
    read_fails(&app, 503, 2);
    let (_, id) = app.click("Service Desk").await;
    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    let errors: Vec<&serde_json::Value> = steps(&job)
        .iter()
        .filter(|s| s["error"].is_string())
        .collect();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["attempt"], 1);
    assert_eq!(errors[1]["attempt"], 2);
    assert!(errors[0]["error"].as_str().unwrap().contains("503"));
}

#[tokio::test]
async fn retries_that_run_out_fail_the_job_with_the_reason() {
    let app = spawn_app().await;
    read_fails(&app, 502, 0);
    let (_, id) = app.click("Service Desk").await;
    let job = app.wait_for_state(&id, "failed", 15).await;
    let err = error_of_job(&job);
    assert!(
        err.contains("gave up after") && err.contains("worker.retry.link_budget = 8s"),
        "{err}"
    );
    assert_eq!(job["failed_step"], "queued");
}

#[tokio::test]
async fn a_401_fails_at_once_with_servicenows_message_and_an_admin_retry_finishes_it() {
    let app = spawn_app().await;
    app.snow.set_password("rotated-by-someone");
    let (sys_id, id) = app.click("Service Desk").await;
    let job = app.wait_for_state(&id, "failed", 10).await;
    let err = error_of_job(&job);
    assert!(
        err.contains("401") && err.contains("User Not Authenticated"),
        "{err}"
    );
    assert_eq!(step_errors(&job).len(), 1, "no retries on a 401");

    // the credential is fixed; the admin retries
    app.snow.set_password(SNOW_PASSWORD);
    let r = app.admin_post(&format!("/api/v1/jobs/{id}/retry")).await;
    assert_eq!(r.status(), 200);
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    app.end_session(&id, SessionEnd::sample(1, 1, 1)).await;
    app.wait_for_state(&id, "done", 15).await;
    assert_eq!(app.notes_with(&sys_id, "/link]"), 1);

    // retrying a done job is refused
    let again = app.admin_post(&format!("/api/v1/jobs/{id}/retry")).await;
    assert_eq!(again.status(), 409);
}

#[tokio::test]
async fn a_ticket_that_no_longer_matches_when_read_is_skipped() {
    let app = spawn_app().await;
    // the body says Service Desk, the record says Network
    let (_, mut body) = app.new_incident("Network");
    body["assignment_group"]["display_value"] = "Service Desk".into();
    let id = app.start_job(&body).await;
    let job = app.wait_for_state(&id, "skipped", 10).await;
    let why = last_detail(&job);
    assert!(why.contains("queue \"Network\" is not one of"), "{why}");
    assert!(app.splashtop.sessions().is_empty());
}

#[tokio::test]
async fn a_session_that_never_ends_expires_with_a_note() {
    let app = spawn_app().await;
    // shorten give_up_after for this app by reloading a config that says so
    let mut cfg = app.config.clone();
    cfg.vendor_mut("splashtop").poll = Some(Poll {
        give_up_after: Some("300ms".into()),
        ..Poll::fast()
    });
    app.reload(&cfg).await;
    let (sys_id, id) = app.click("Service Desk").await;
    app.wait_for_state(&id, "expired", 10).await;
    assert_eq!(app.notes_with(&sys_id, &marker(&id, "expired")), 1);
    assert_eq!(
        app.splashtop.sessions()[0].status,
        "closed",
        "the vendor session is closed"
    );
}

#[tokio::test]
async fn cancel_stops_the_job_and_closes_the_vendor_session() {
    let app = spawn_app().await;
    let (_, id) = app.waiting("Service Desk").await;
    let r = app.admin_post(&format!("/api/v1/jobs/{id}/cancel")).await;
    assert_eq!(r.status(), 200);
    app.wait_for_state(&id, "cancelled", 5).await;
    for _ in 0..100 {
        if app.splashtop.sessions()[0].status == "closed" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the vendor session was not closed");
}

#[tokio::test]
async fn a_lost_create_answer_is_named_in_the_history_and_counted_since_splashtop_cannot_list_sessions(
) {
    let app = spawn_app().await;
    app.splashtop.faults().push(
        Fault::new("/psa/support_sessions", FaultAction::status(503))
            .method("POST")
            .times(1),
    );
    let (_, id) = app.click("Service Desk").await;
    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    let lines: Vec<String> = steps(&job)
        .iter()
        .filter_map(|s| s["detail"].as_str().map(String::from))
        .collect();
    let orphan = lines
        .iter()
        .find(|l| l.contains("cannot list its recent sessions"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(orphan.contains(&format!("[deskbridge {id}]")), "{orphan}");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("deskbridge_sessions_maybe_orphaned_total{vendor=\"splashtop\"} 1"),
        "{metrics}"
    );
    // A create whose answer came back leaves no such line.
    let (_, id) = app.click("Service Desk").await;
    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    assert!(!job["steps"].to_string().contains("cannot list"), "{job}");
}
