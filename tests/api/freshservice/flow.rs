//! The whole Freshservice flow against the simulators: a click → the link as a private HTML
//! note → session ends → the artifacts in one private multipart note, each once → the summary
//! note; and what a lost answer, a 429 or a validation error does to it.

use super::*;
use deskbridge_sim::{Fault, FaultAction, SessionEnd};
use std::time::{Duration, SystemTime};

#[tokio::test]
async fn a_click_in_freshservice_ends_with_the_link_and_every_artifact_on_the_ticket_once() {
    let app = spawn_fs().await;
    let (ticket, id) = app.waiting(SimTicket::default()).await;
    let job = app.job(&id).await;
    assert_eq!(
        job["ticket"],
        ticket.to_string(),
        "the ticket reference is the numeric id"
    );
    let read = &job["ticket_read"];
    assert_eq!(
        read["queue"], "Service Desk",
        "the group's name, read through /groups"
    );
    assert_eq!(read["priority"], "2", "Freshservice's number, as a string");
    assert_eq!(read["workspace"], "2");
    assert_eq!(read["requester"]["email"], "jane@acme.example");
    let session = app.splashtop.sessions()[0].clone();
    assert_eq!(session.customer_name, "Jane Doe");
    let notes = app.fs.notes(ticket);
    assert_eq!(notes.len(), 1, "exactly one link note");
    assert!(notes[0].private, "private by default");
    assert!(
        notes[0].body.contains("<br>"),
        "HTML: the template's lines are kept: {}",
        notes[0].body
    );
    assert!(
        notes[0].body_text.contains(&session.support_portal_link),
        "the vendor's link exactly: {}",
        notes[0].body_text
    );
    assert!(
        notes[0]
            .body_text
            .ends_with(&format!("\n{}", marker(&id, "link"))),
        "{}",
        notes[0].body_text
    );

    app.splashtop.set_transcripts_enabled(true);
    assert!(app
        .splashtop
        .end_session(&session.code, SessionEnd::sample(3, 2, 40)));
    let job = app.wait_for_state(&id, "done", 15).await;

    assert_each_artifact_once(app.file_names(ticket), &session.code);
    let notes = app.fs.notes(ticket);
    assert_eq!(notes.len(), 3, "link, files, summary");
    assert_eq!(notes[1].attachments.len(), 4, "all files on one note");
    assert!(notes[1].private, "artifacts are internal");
    assert!(notes[2].body_text.contains(&marker(&id, "summary")));

    app.assert_artifacts_match(&job, &app.files(ticket));
}

#[tokio::test]
async fn the_same_update_delivered_twice_makes_one_job_and_a_later_update_a_new_one() {
    let app = spawn_fs().await;
    let (ticket, body) = app.new_ticket(SimTicket::default());
    let first = app.start_job(&body).await;
    let again: Value = app.post_hook(&body).await.json().await.unwrap();
    assert_eq!(again["job_id"], first.as_str());
    assert_eq!(
        again["duplicate"], true,
        "same {{{{ticket.id}}}}-{{{{ticket.updated_at}}}}"
    );
    app.wait_for_state(&first, "waiting_for_end", 10).await;
    app.end_session(&first, SessionEnd::sample(1, 1, 1)).await;
    app.wait_for_state(&first, "done", 15).await;

    // the agent chooses "Start remote session" again: a new update, a new delivery, a new job
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.fs.update_ticket(ticket, |_| {});
    let later = app.fs.workflow_body(ticket).unwrap();
    assert_ne!(later, body);
    let second = app.start_job(&later).await;
    assert_ne!(second, first);
    app.wait_for_state(&second, "waiting_for_end", 10).await;
    assert_eq!(app.splashtop.sessions().len(), 2);
}

#[tokio::test]
async fn a_rule_can_make_the_link_note_public() {
    let rule = Rule::new("public link", "fs", "splashtop")
        .priority(&["3"])
        .public_link();
    let app = spawn_fs_with(|c| c.rules.insert(0, rule)).await;
    let t = SimTicket {
        priority: 3,
        ..SimTicket::default()
    };
    let (ticket, _) = app.waiting(t).await;
    let notes = app.fs.notes(ticket);
    assert_eq!(notes.len(), 1);
    assert!(!notes[0].private, "the rule says public");
}

#[tokio::test]
async fn a_script_in_the_subject_comes_out_inert_in_the_stored_html() {
    let app = spawn_fs().await;
    let subject = "<script>alert('x')</script> & <img src=x onerror=alert(1)>";
    let t = SimTicket {
        subject: subject.into(),
        ..SimTicket::default()
    };
    let (ticket, _) = app.waiting(t).await;
    let note = &app.fs.notes(ticket)[0];
    assert!(
        !note.body.contains("<script") && !note.body.contains("<img"),
        "{}",
        note.body
    );
    assert!(
        note.body
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;img"),
        "{}",
        note.body
    );
    assert!(
        note.body_text.contains(subject),
        "a reader sees the subject as written: {}",
        note.body_text
    );
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after_in_seconds_or_as_an_http_date() {
    let app = spawn_fs().await;
    let (ticket, body) = app.new_ticket(SimTicket::default());
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3));
    let faults = app.fs.faults();
    faults.push(Fault::new("/conversations", answer_later(429, &date)).method("GET"));
    faults.push(Fault::new("/notes", answer_later(429, "2")).method("POST"));
    let id = app.start_job(&body).await;
    app.skip_retry_wait(&id, "429", 0).await;
    app.skip_retry_wait(&id, "429", 1).await;
    let job = app.wait_for_state(&id, "waiting_for_end", 20).await;

    // each call was answered 429 and made again; how long each waited is read below
    for call in [("GET", "/conversations"), ("POST", "/notes")] {
        assert_retried_after(faults, call, 429, &job, Duration::ZERO);
    }
    // The waits on the service's clock, in the order of the calls: the conversations, then the
    // note. An HTTP date has one-second resolution: "3 s from now" is at least 2 s away.
    let waits = retry_waits(&job, "429");
    assert!(
        waits[0] >= Duration::from_millis(1900),
        "HTTP-date Retry-After honoured: {waits:?}"
    );
    assert!(
        waits[1] >= Duration::from_millis(1900),
        "Retry-After 2 honoured: {waits:?}"
    );
    assert_eq!(app.notes_with(ticket, "/link]"), 1);
    let errors = step_errors(&job);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .all(|e| e.contains("429") && e.contains("requests per minute")),
        "{errors:?}"
    );
}

#[tokio::test]
async fn a_validation_error_fails_the_job_at_once_naming_the_field() {
    let app = spawn_fs().await;
    let (_, body) = app.new_ticket(SimTicket::default());
    let fixture =
        include_str!("../../fixtures/freshservice/freshservice-error-400-validation.json");
    let fault = FaultAction::Status {
        status: 400,
        retry_after: None,
        body: Some(fixture.into()),
    };
    app.fs
        .faults()
        .push(Fault::new("/api/v2/tickets/", fault).method("GET"));
    let id = app.start_job(&body).await;
    let job = app.wait_for_state(&id, "failed", 10).await;
    let err = error_of_job(&job);
    assert!(
        err.contains("400")
            && err.contains("Validation failed: field `include`: It should be one of"),
        "{err}"
    );
    assert!(err.contains("reading ticket"), "says which call: {err}");
    assert_eq!(step_errors(&job).len(), 1, "not retried");
}

#[tokio::test]
async fn a_lost_answer_to_a_note_or_an_upload_never_makes_a_second_copy_even_on_page_two() {
    let app = spawn_fs_with(|c| c.worker.request_timeout = Some(LOST_ANSWER.into())).await;
    let (ticket, body) = app.new_ticket(SimTicket::default());
    for i in 0..120 {
        app.fs.add_reply(ticket, &format!("earlier reply {i}"));
    }
    let faults = app.fs.faults();
    faults.push(Fault::new("/notes", FaultAction::ApplyThenHang).method("POST"));
    let id = app.start_job(&body).await;
    app.wait_for_state(&id, "waiting_for_end", 15).await;
    assert_eq!(
        app.notes_with(ticket, &marker(&id, "link")),
        1,
        "found on page 2, not posted again"
    );

    faults.push(Fault::new("/notes", FaultAction::ApplyThenHang).method("POST"));
    app.end_session(&id, SessionEnd::sample(2, 1, 3)).await;
    let job = app.wait_for_state(&id, "done", 20).await;
    let counts = counts(app.file_names(ticket));
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    assert_eq!(counts.len(), 4);
    assert_eq!(
        found_existing(&job),
        job["artifacts"].as_array().unwrap().len()
    );
    assert_eq!(app.notes_with(ticket, "/summary]"), 1);
    let pages = faults
        .requests()
        .iter()
        .filter(|r| r.query.as_deref().is_some_and(|q| q.contains("page=2")))
        .count();
    assert!(pages >= 2, "the conversations were read past page one");
}

#[tokio::test]
async fn the_ticket_as_read_decides_not_the_body() {
    let app = spawn_fs().await;
    // the body says Service Desk; the ticket was moved to Network since
    let (_, body) = app.new_ticket(SimTicket {
        group: Some("Network".into()),
        ..SimTicket::default()
    });
    let body = body.replace("\"group\": \"Network\"", "\"group\": \"Service Desk\"");
    // a gateway hiccup first: its HTML page is tolerated and the read retried
    app.fs
        .faults()
        .push(Fault::new("/api/v2/tickets/", FaultAction::status(503)).method("GET"));
    let id = app.start_job(&body).await;
    let job = app.wait_for_state(&id, "skipped", 10).await;
    let errors = step_errors(&job);
    assert!(errors.iter().any(|e| e.contains("503")), "{errors:?}");
    let why = last_detail(&job);
    assert!(why.contains("queue \"Network\" is not one of"), "{why}");
    assert!(app.splashtop.sessions().is_empty());
}

#[tokio::test]
async fn a_requester_who_is_an_agent_and_an_unassigned_ticket_are_read_without_failing() {
    // A rule on the requester's domain, first: the requester is looked up.
    let app = spawn_fs_with(|c| {
        let rule =
            Rule::new("Acme requesters", "fs", "splashtop").requester_domain(&["acme.example"]);
        c.rules.insert(0, rule);
    })
    .await;
    let t = SimTicket {
        requester_name: "Rita Agent".into(),
        requester_email: "rita@acme.example".into(),
        requester_is_agent: true,
        agent_email: None,
        tags: vec!["remote".into(), "vip".into()],
        ..SimTicket::default()
    };
    let (_, body) = app.new_ticket(t);
    let id = app.start_job(&body).await;
    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    let read = &job["ticket_read"];
    assert_eq!(
        read["requester"]["email"], "rita@acme.example",
        "found under /agents"
    );
    assert_eq!(read["requester"]["name"], "Rita Agent");
    assert_eq!(read["tags"], serde_json::json!(["remote", "vip"]));
    assert_eq!(read["request_type"], "Incident");
    assert!(
        read.get("agent").is_none() || read["agent"].is_null(),
        "no responder: {read}"
    );
    let gets = app
        .fs
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v2/agents/"))
        .count();
    assert_eq!(
        gets, 1,
        "the requester's fallback only; no responder to read"
    );
}
