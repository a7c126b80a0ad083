//! The whole flow against the simulators: webhook → session → link note → session ends →
//! artifacts attached exactly once → summary note; and the ways it can go wrong.

use crate::servicenow::*;
use deskbridge_sim::SessionEnd;

#[tokio::test]
async fn a_click_ends_with_the_link_and_every_artifact_on_the_ticket_once() {
    let app = spawn_app().await;
    let (sys_id, body) = app.new_incident("Service Desk");

    let r = app.post_hook(&body).await;
    assert_eq!(r.status(), 202);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["status"], "queued");
    let id = v["job_id"].as_str().unwrap().to_string();

    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    let session = &app.splashtop.sessions()[0];
    assert_eq!(job["session"]["code"], session.code.as_str());
    assert_eq!(session.customer_name, "Jane Doe");
    assert!(
        session
            .customer_issue
            .contains(body["number"].as_str().unwrap()),
        "{}",
        session.customer_issue
    );
    let journal = app.snow.journal(&sys_id);
    assert_eq!(journal.len(), 1, "exactly one link note");
    assert_eq!(journal[0].element, "work_notes", "internal by default");
    assert!(
        journal[0].value.contains(&session.support_portal_link),
        "the vendor's link exactly: {}",
        journal[0].value
    );
    assert!(
        journal[0].value.contains(&format!("sos={}", session.code)),
        "the technician deep link"
    );
    assert!(journal[0].value.contains(&marker(&id, "link")));

    app.splashtop.set_transcripts_enabled(true);
    assert!(app
        .splashtop
        .end_session(&session.code, SessionEnd::sample(3, 2, 250)));
    let job = app.wait_for_state(&id, "done", 15).await;

    assert_each_artifact_once(app.attachment_names(&sys_id), &session.code);

    // every line of the 250-line chat came through the pages
    let chat = app
        .snow
        .attachments(&sys_id)
        .into_iter()
        .find(|a| a.file_name.ends_with("chat.txt"))
        .unwrap();
    assert_eq!(String::from_utf8(chat.bytes).unwrap().lines().count(), 250);

    // the job reports each artifact's hash and where it went, and they match the ticket's bytes
    app.assert_artifacts_match(&job, &app.files(&sys_id));

    let summary = app.notes_with(&sys_id, &marker(&id, "summary"));
    assert_eq!(summary, 1);
    let names: Vec<&str> = steps(&job)
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "queued",
            "queued",
            "session_created",
            "link_posted",
            "waiting_for_end",
            "collecting",
            "attaching"
        ]
    );
}

#[tokio::test]
async fn an_artifact_the_vendor_does_not_have_is_named_in_the_summary_not_retried() {
    let app = spawn_app().await;
    let (sys_id, id) = app.waiting("Service Desk").await;
    app.splashtop.set_transcripts_enabled(false);
    app.end_session(&id, SessionEnd::sample(2, 0, 5)).await;
    let job = app.wait_for_state(&id, "done", 15).await;
    let names = app.attachment_names(&sys_id);
    assert_eq!(names.len(), 2, "log and manifest only: {names:?}");
    let summary = app.note_with(&sys_id, "/summary]");
    assert!(
        summary.contains("chat transcript: not available"),
        "{summary}"
    );
    assert!(
        summary.contains("file-transfer log: not available"),
        "{summary}"
    );
    assert_eq!(job["unavailable"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_same_delivery_twice_makes_one_job() {
    let app = spawn_app().await;
    let (sys_id, body) = app.new_incident("Service Desk");
    let a: serde_json::Value = app.post_hook(&body).await.json().await.unwrap();
    let r = app.post_hook(&body).await;
    assert_eq!(r.status(), 202);
    let b: serde_json::Value = r.json().await.unwrap();
    assert_eq!(a["job_id"], b["job_id"]);
    assert_eq!(b["duplicate"], true);
    app.wait_for_state(a["job_id"].as_str().unwrap(), "waiting_for_end", 10)
        .await;
    assert_eq!(app.jobs("?connection=snow").await.len(), 1);
    assert_eq!(app.snow.journal(&sys_id).len(), 1);
    assert_eq!(app.splashtop.sessions().len(), 1);
}

#[tokio::test]
async fn a_second_click_while_the_session_is_open_returns_the_open_job() {
    let app = spawn_app().await;
    let (sys_id, body) = app.new_incident("Service Desk");
    let first: serde_json::Value = app.post_hook(&body).await.json().await.unwrap();
    let id = first["job_id"].as_str().unwrap();
    app.wait_for_state(id, "waiting_for_end", 10).await;
    let again = hook_body(&sys_id, body["number"].as_str().unwrap(), "Service Desk");
    let r = app.post_hook(&again).await;
    assert_eq!(r.status(), 202);
    let second: serde_json::Value = r.json().await.unwrap();
    assert_eq!(second["status"], "existing");
    assert_eq!(second["job_id"], id);
    assert_eq!(app.splashtop.sessions().len(), 1);

    // once it is over, a click starts a new session
    app.end_session(id, SessionEnd::sample(1, 1, 1)).await;
    app.wait_for_state(id, "done", 15).await;
    let third: serde_json::Value = app
        .post_hook(&hook_body(&sys_id, "INC1", "Service Desk"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(third["status"], "queued");
    assert_ne!(third["job_id"], id);
}
