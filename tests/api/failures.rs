//! The ways a flow can go wrong: rate limits, server errors, retries that run out, refused
//! credentials, tickets that no longer match, sessions that never end, cancellation.

use crate::helpers::*;
use deskbridge_sim::{Fault, FaultAction, SessionEnd};
use std::collections::HashMap;

fn attachment_counts(app: &TestApp, sys_id: &str) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for a in app.snow.attachments(sys_id) {
        *m.entry(a.file_name).or_default() += 1;
    }
    m
}

#[tokio::test]
async fn a_429_on_attach_is_retried_after_the_retry_after_it_gave() {
    let app = spawn_app().await;
    let (sys_id, body) = app.new_incident("Service Desk");
    let id = app.start_job(&body).await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    app.snow.faults().push(
        Fault::new(
            "/api/now/attachment/file",
            FaultAction::Status {
                status: 429,
                retry_after: Some("2".into()),
                body: None,
            },
        )
        .method("POST"),
    );
    let code = app.session_code(&id).await;
    app.splashtop
        .end_session(&code, SessionEnd::sample(2, 2, 2));
    let job = app.wait_for_state(&id, "done", 20).await;

    let posts: Vec<_> = app
        .snow
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.contains("/attachment/file"))
        .collect();
    assert_eq!(posts[0].status, Some(429));
    let waited = posts[1].at.duration_since(posts[0].at).unwrap();
    assert!(
        waited >= std::time::Duration::from_millis(1900),
        "Retry-After 2 honoured, waited {waited:?}"
    );
    assert!(attachment_counts(&app, &sys_id).values().all(|n| *n == 1));
    let retried = job["steps"].as_array().unwrap().iter().any(|s| {
        s["step"] == "attaching" && s["error"].as_str().is_some_and(|e| e.contains("429"))
    });
    assert!(retried, "the history shows the 429");
}

#[tokio::test]
async fn server_errors_are_retried_with_the_attempt_counted() {
    let app = spawn_app().await;
    let (_, body) = app.new_incident("Service Desk");
    app.snow.faults().push(
        Fault::new("/api/now/table/incident/", FaultAction::status(503))
            .method("GET")
            .times(2),
    );
    let id = app.start_job(&body).await;
    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    let errors: Vec<&serde_json::Value> = job["steps"]
        .as_array()
        .unwrap()
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
    let (_, body) = app.new_incident("Service Desk");
    app.snow.faults().push(
        Fault::new("/api/now/table/incident/", FaultAction::status(502))
            .method("GET")
            .times(0),
    );
    let id = app.start_job(&body).await;
    let job = app.wait_for_state(&id, "failed", 15).await;
    assert!(
        job["error"]
            .as_str()
            .unwrap()
            .contains("gave up after 4 attempts"),
        "{}",
        job["error"]
    );
    assert_eq!(job["failed_step"], "queued");
}

#[tokio::test]
async fn a_401_fails_at_once_with_servicenows_message_and_an_admin_retry_finishes_it() {
    let app = spawn_app().await;
    let (sys_id, body) = app.new_incident("Service Desk");
    app.snow.set_password("rotated-by-someone");
    let id = app.start_job(&body).await;
    let job = app.wait_for_state(&id, "failed", 10).await;
    let err = job["error"].as_str().unwrap();
    assert!(
        err.contains("401") && err.contains("User Not Authenticated"),
        "{err}"
    );
    assert_eq!(
        job["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["error"].is_string())
            .count(),
        1,
        "no retries on a 401"
    );

    // the credential is fixed; the admin retries
    app.snow.set_password(SNOW_PASSWORD);
    let r = app.admin_post(&format!("/api/v1/jobs/{id}/retry")).await;
    assert_eq!(r.status(), 200);
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    let code = app.session_code(&id).await;
    app.splashtop
        .end_session(&code, SessionEnd::sample(1, 1, 1));
    app.wait_for_state(&id, "done", 15).await;
    assert_eq!(app.notes_with(&sys_id, "/link]"), 1);

    // retrying a done job is refused
    assert_eq!(
        app.admin_post(&format!("/api/v1/jobs/{id}/retry"))
            .await
            .status(),
        409
    );
}

#[tokio::test]
async fn a_ticket_that_no_longer_matches_when_read_is_skipped() {
    let app = spawn_app().await;
    // the body says Service Desk, the record says Network
    let (_, mut body) = app.new_incident("Network");
    body["assignment_group"]["display_value"] = "Service Desk".into();
    let id = app.start_job(&body).await;
    let job = app.wait_for_state(&id, "skipped", 10).await;
    let last = job["steps"].as_array().unwrap().last().unwrap();
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .contains("queue \"Network\" is not one of"),
        "{last}"
    );
    assert!(app.splashtop.sessions().is_empty());
}

#[tokio::test]
async fn a_session_that_never_ends_expires_with_a_note() {
    let app = spawn_app_with("").await;
    // shorten give_up_after for this app by reloading a config that says so
    let text = std::fs::read_to_string(&app.config_path)
        .unwrap()
        .replace("give_up_after = \"1h\"", "give_up_after = \"300ms\"");
    std::fs::write(&app.config_path, text).unwrap();
    assert_eq!(app.admin_post("/api/v1/reload").await.status(), 200);
    let (sys_id, body) = app.new_incident("Service Desk");
    let id = app.start_job(&body).await;
    app.wait_for_state(&id, "expired", 10).await;
    assert_eq!(
        app.notes_with(&sys_id, &format!("[deskbridge:job/{id}/expired]")),
        1
    );
    assert_eq!(
        app.splashtop.sessions()[0].status,
        "closed",
        "the vendor session is closed"
    );
}

#[tokio::test]
async fn cancel_stops_the_job_and_closes_the_vendor_session() {
    let app = spawn_app().await;
    let (_, body) = app.new_incident("Service Desk");
    let id = app.start_job(&body).await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    let r = app.admin_post(&format!("/api/v1/jobs/{id}/cancel")).await;
    assert_eq!(r.status(), 200);
    app.wait_for_state(&id, "cancelled", 5).await;
    for _ in 0..100 {
        if app.splashtop.sessions()[0].status == "closed" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the vendor session was not closed");
}
