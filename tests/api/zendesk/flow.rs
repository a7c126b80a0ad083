//! The whole Zendesk flow against the simulators, and what can go wrong on the way: rate
//! limits, a full ticket, an update whose answer is lost, hostile ticket text.

use super::*;
use deskbridge_sim::{Fault, FaultAction, SessionEnd};
use std::collections::HashMap;
use std::time::Duration;

fn attachment_counts(app: &ZdApp, ticket: u64) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for a in app.zd.attachments(ticket) {
        *m.entry(a.file_name).or_default() += 1;
    }
    m
}

#[tokio::test]
async fn a_click_in_zendesk_ends_with_the_link_and_every_artifact_on_the_ticket_once() {
    let app = spawn_zendesk_app().await;
    let ticket = app.new_ticket(SimTicket::default());
    let id = app.start(ticket).await;

    app.wait_for_state(&id, "waiting_for_end", 10).await;
    let session = &app.splashtop.sessions()[0];
    assert_eq!(
        session.customer_name, "Jane Doe",
        "the requester, read through the Users API"
    );
    let links: Vec<_> = app
        .zd
        .comments(ticket)
        .into_iter()
        .filter(|c| c.body.contains("/link]"))
        .collect();
    assert_eq!(links.len(), 1, "exactly one link note");
    assert!(!links[0].public, "internal by default");
    assert!(
        links[0].body.contains(&session.support_portal_link),
        "the vendor's link exactly: {}",
        links[0].body
    );
    assert!(links[0]
        .body
        .contains(&format!("[deskbridge:job/{id}/link]")));

    assert!(app
        .splashtop
        .end_session(&session.code, SessionEnd::sample(3, 2, 40)));
    let job = app.wait_for_state(&id, "done", 15).await;

    let code = &session.code;
    let counts = attachment_counts(&app, ticket);
    for name in ["log.csv", "file-transfers.csv", "chat.txt", "manifest.json"] {
        assert_eq!(
            counts.get(&format!("session-{code}-{name}")),
            Some(&1),
            "{name} attached once: {counts:?}"
        );
    }
    assert_eq!(counts.len(), 4);
    let carriers: Vec<_> = app
        .zd
        .comments(ticket)
        .into_iter()
        .filter(|c| !c.attachments.is_empty())
        .collect();
    assert_eq!(carriers.len(), 1, "one comment carries every file");
    assert!(!carriers[0].public);
    assert_eq!(app.zd.pending_uploads(), 0, "no upload is left to expire");

    let dl = tempfile::tempdir().unwrap();
    for a in app.zd.attachments(ticket) {
        let rec = job["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == a.file_name.as_str())
            .unwrap();
        assert_eq!(rec["sha256"], deskbridge::artifacts::sha256_hex(&a.bytes));
        assert_eq!(rec["attached"]["remote_id"], a.id.to_string().as_str());
        std::fs::write(dl.path().join(&a.file_name), &a.bytes).unwrap();
    }
    let report = deskbridge::artifacts::verify_paths(
        &[dl.path().to_path_buf()],
        std::slice::from_ref(&app.public_key),
    );
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(
        app.comments_with(ticket, &format!("[deskbridge:job/{id}/summary]")),
        1
    );
}

#[tokio::test]
async fn a_rule_can_make_the_link_note_public() {
    let app = spawn_zendesk_app().await;
    let ticket = app.new_ticket(SimTicket {
        group: Some("Customer Care".into()),
        brand: Some("Customer Portal".into()),
        ..SimTicket::default()
    });
    let id = app.start(ticket).await;
    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    assert_eq!(
        job["rule"], "Customer brand: public link",
        "the brand's name, read through the Brands API"
    );
    let link = app
        .zd
        .comments(ticket)
        .into_iter()
        .find(|c| c.body.contains("/link]"))
        .unwrap();
    assert!(link.public);
}

#[tokio::test]
async fn hostile_ticket_text_comes_out_inert_on_the_ticket() {
    let app = spawn_zendesk_app().await;
    let hostile = "<script>alert(1)</script> [x](javascript:alert(1)) **bold**";
    let ticket = app.new_ticket(SimTicket {
        subject: hostile.into(),
        requester_name: "<img src=x onerror=alert(2)>".into(),
        ..SimTicket::default()
    });
    let id = app.start(ticket).await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    let link = app
        .zd
        .comments(ticket)
        .into_iter()
        .find(|c| c.body.contains("/link]"))
        .unwrap();
    for bad in ["<script", "<img", "href=\"javascript:", "<strong"] {
        assert!(
            !link.html_body.contains(bad),
            "{bad} came through: {}",
            link.html_body
        );
    }
    assert!(
        link.plain_body.contains(hostile),
        "the reader still sees the words: {}",
        link.plain_body
    );
    assert!(link.plain_body.contains("<img src=x onerror=alert(2)>"));
}

#[tokio::test]
async fn a_429_on_upload_is_retried_after_the_retry_after_it_gave() {
    let app = spawn_zendesk_app().await;
    let ticket = app.new_ticket(SimTicket::default());
    let id = app.start(ticket).await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    let limited = FaultAction::Status {
        status: 429,
        retry_after: Some("1".into()),
        body: None,
    };
    app.zd
        .faults()
        .push(Fault::new("/api/v2/uploads", limited).method("POST"));
    let code = app.session_code(&id).await;
    app.splashtop
        .end_session(&code, SessionEnd::sample(2, 2, 2));
    let job = app.wait_for_state(&id, "done", 20).await;
    let posts: Vec<_> = app
        .zd
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v2/uploads")
        .collect();
    assert_eq!(posts[0].status, Some(429));
    let waited = posts[1].at.duration_since(posts[0].at).unwrap();
    assert!(
        waited >= Duration::from_millis(900),
        "Retry-After 1 honoured, waited {waited:?}"
    );
    assert!(attachment_counts(&app, ticket).values().all(|n| *n == 1));
    let step = job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["error"].as_str().is_some_and(|e| e.contains("429")))
        .unwrap();
    assert!(
        step["error"]
            .as_str()
            .unwrap()
            .contains("APIRateLimitExceeded"),
        "{step}"
    );
}

#[tokio::test]
async fn a_plain_text_429_without_retry_after_backs_off_and_posts_once() {
    let app = spawn_zendesk_app().await;
    let ticket = app.new_ticket(SimTicket::default());
    let text = "You have exceeded the rate limit for updating a single unique ticket";
    let limited = FaultAction::Status {
        status: 429,
        retry_after: None,
        body: Some(text.into()),
    };
    app.zd.faults().push(
        Fault::new("/api/v2/tickets/", limited)
            .method("PUT")
            .times(2),
    );
    let id = app.start(ticket).await;
    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    let errors: Vec<&str> = job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["error"].as_str())
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains(text) && errors[0].contains("no Retry-After"),
        "{}",
        errors[0]
    );
    assert_eq!(app.comments_with(ticket, "/link]"), 1);
}

#[tokio::test]
async fn a_ticket_with_5000_comments_fails_the_job_at_once_with_zendesks_words() {
    let app = spawn_zendesk_app().await;
    let ticket = app.new_ticket(SimTicket::default());
    app.zd.set_comment_limit(1); // the description is comment 1: the ticket is full
    let id = app.start(ticket).await;
    let job = app.wait_for_state(&id, "failed", 10).await;
    let err = job["error"].as_str().unwrap();
    assert!(
        err.contains("422")
            && err.contains("RecordInvalid")
            && err.contains("maximum of 1 comments"),
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
        "not retried"
    );
}

#[tokio::test]
async fn an_attach_whose_answer_is_lost_is_not_attached_twice() {
    let app = spawn_zendesk_app().await;
    let ticket = app.new_ticket(SimTicket::default());
    let id = app.start(ticket).await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    // the comment carrying the uploads is applied, but the answer never comes (timeout 2 s)
    app.zd.faults().push(
        Fault::new(
            &format!("/api/v2/tickets/{ticket}"),
            FaultAction::ApplyThenHang,
        )
        .method("PUT"),
    );
    let code = app.session_code(&id).await;
    app.splashtop
        .end_session(&code, SessionEnd::sample(1, 1, 1));
    let job = app.wait_for_state(&id, "done", 20).await;
    assert!(
        attachment_counts(&app, ticket).values().all(|n| *n == 1),
        "{:?}",
        attachment_counts(&app, ticket)
    );
    let found: Vec<bool> = job["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attached"]["found_existing"] == true)
        .collect();
    assert!(
        found.iter().all(|f| *f),
        "found on the ticket after the lost answer: {found:?}"
    );
    assert_eq!(app.comments_with(ticket, "/summary]"), 1);
}
