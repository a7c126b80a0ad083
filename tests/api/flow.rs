//! The whole flow against the simulators: webhook → session → link note → session ends →
//! artifacts attached exactly once → summary note; and the ways it can go wrong.

use crate::helpers::*;
use deskbridge_sim::SessionEnd;
use std::collections::HashMap;

fn attachment_counts(app: &TestApp, sys_id: &str) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for a in app.snow.attachments(sys_id) {
        *m.entry(a.file_name).or_default() += 1;
    }
    m
}

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
    assert!(journal[0]
        .value
        .contains(&format!("[deskbridge:job/{id}/link]")));

    app.splashtop.set_transcripts_enabled(true);
    assert!(app
        .splashtop
        .end_session(&session.code, SessionEnd::sample(3, 2, 250)));
    let job = app.wait_for_state(&id, "done", 15).await;

    let counts = attachment_counts(&app, &sys_id);
    let code = &session.code;
    for name in [
        format!("session-{code}-log.csv"),
        format!("session-{code}-file-transfers.csv"),
        format!("session-{code}-chat.txt"),
        format!("session-{code}-manifest.json"),
    ] {
        assert_eq!(
            counts.get(&name),
            Some(&1),
            "{name} attached once: {counts:?}"
        );
    }
    assert_eq!(counts.len(), 4);

    // every line of the 250-line chat came through the pages
    let chat = app
        .snow
        .attachments(&sys_id)
        .into_iter()
        .find(|a| a.file_name.ends_with("chat.txt"))
        .unwrap();
    assert_eq!(String::from_utf8(chat.bytes).unwrap().lines().count(), 250);

    // the job reports each artifact's hash and where it went, and they match the ticket's bytes
    let dl = tempfile::tempdir().unwrap();
    for a in app.snow.attachments(&sys_id) {
        let rec = job["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == a.file_name.as_str())
            .unwrap();
        assert_eq!(rec["sha256"], deskbridge::artifacts::sha256_hex(&a.bytes));
        assert_eq!(rec["attached"]["remote_id"], a.sys_id.as_str());
        std::fs::write(dl.path().join(&a.file_name), &a.bytes).unwrap();
    }
    let report = deskbridge::artifacts::verify_paths(
        &[dl.path().to_path_buf()],
        std::slice::from_ref(&app.public_key),
    );
    assert!(report.is_ok(), "{:?}", report.problems);

    let summary = app.notes_with(&sys_id, &format!("[deskbridge:job/{id}/summary]"));
    assert_eq!(summary, 1);
    let steps: Vec<&str> = job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
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
    let (sys_id, body) = app.new_incident("Service Desk");
    let id = app.start_job(&body).await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    app.splashtop.set_transcripts_enabled(false);
    let code = app.session_code(&id).await;
    app.splashtop
        .end_session(&code, SessionEnd::sample(2, 0, 5));
    let job = app.wait_for_state(&id, "done", 15).await;
    let names: Vec<String> = app
        .snow
        .attachments(&sys_id)
        .into_iter()
        .map(|a| a.file_name)
        .collect();
    assert_eq!(names.len(), 2, "log and manifest only: {names:?}");
    let summary = app
        .snow
        .journal(&sys_id)
        .into_iter()
        .find(|e| e.value.contains("/summary]"))
        .unwrap();
    assert!(
        summary.value.contains("chat transcript: not available"),
        "{}",
        summary.value
    );
    assert!(
        summary.value.contains("file-transfer log: not available"),
        "{}",
        summary.value
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
    let jobs = app.admin_get("/api/v1/jobs?connection=snow").await;
    assert_eq!(jobs["jobs"].as_array().unwrap().len(), 1);
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
    let code = app.session_code(id).await;
    app.splashtop
        .end_session(&code, SessionEnd::sample(1, 1, 1));
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
