//! The whole Zendesk flow against the simulators, and what can go wrong on the way: rate
//! limits, a full ticket, an update whose answer is lost, hostile ticket text.

use super::*;
use deskbridge_sim::{Fault, FaultAction, SessionEnd};
use std::time::Duration;

#[tokio::test]
async fn a_click_in_zendesk_ends_with_the_link_and_every_artifact_on_the_ticket_once() {
    let app = spawn_zendesk_app().await;
    let (ticket, id) = app.waiting(SimTicket::default()).await;
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
    assert!(links[0].body.contains(&marker(&id, "link")));

    assert!(app
        .splashtop
        .end_session(&session.code, SessionEnd::sample(3, 2, 40)));
    let job = app.wait_for_state(&id, "done", 15).await;

    assert_each_artifact_once(app.attachment_names(ticket), &session.code);
    let carriers: Vec<_> = app
        .zd
        .comments(ticket)
        .into_iter()
        .filter(|c| !c.attachments.is_empty())
        .collect();
    assert_eq!(carriers.len(), 1, "one comment carries every file");
    assert!(!carriers[0].public);
    assert_eq!(app.zd.pending_uploads(), 0, "no upload is left to expire");

    app.assert_artifacts_match(&job, &app.files(ticket));
    assert_eq!(app.comments_with(ticket, &marker(&id, "summary")), 1);
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
    assert!(app.comment_with(ticket, "/link]").public);
}

#[tokio::test]
async fn hostile_ticket_text_comes_out_inert_on_the_ticket() {
    let app = spawn_zendesk_app().await;
    let hostile = "<script>alert(1)</script> [x](javascript:alert(1)) **bold**";
    let t = SimTicket {
        subject: hostile.into(),
        requester_name: "<img src=x onerror=alert(2)>".into(),
        ..SimTicket::default()
    };
    let (ticket, _) = app.waiting(t).await;
    let link = app.comment_with(ticket, "/link]");
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

const UPLOADS: &str = "/api/v2/uploads";

#[tokio::test]
async fn a_429_on_upload_is_retried_after_the_retry_after_it_gave() {
    let app = spawn_zendesk_app().await;
    let (ticket, id) = app.waiting(SimTicket::default()).await;
    let limited = Fault::new(UPLOADS, answer_later(429, "1")).method("POST");
    app.zd.faults().push(limited);
    app.end_session(&id, SessionEnd::sample(2, 2, 2)).await;
    app.skip_retry_wait(&id, "429", 0).await;
    let job = app.wait_for_state(&id, "done", 20).await;
    let wait = Duration::from_secs(1);
    assert_retried_after(app.zd.faults(), ("POST", UPLOADS), 429, &job, wait);
    assert!(counts(app.attachment_names(ticket))
        .values()
        .all(|n| *n == 1));
    let error = step_errors(&job).into_iter().find(|e| e.contains("429"));
    let error = error.unwrap();
    assert!(error.contains("APIRateLimitExceeded"), "{error}");
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
    let errors = step_errors(&job);
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
    let err = error_of_job(&job);
    assert!(
        err.contains("422")
            && err.contains("RecordInvalid")
            && err.contains("maximum of 1 comments"),
        "{err}"
    );
    assert_eq!(step_errors(&job).len(), 1, "not retried");
}

#[tokio::test]
async fn an_attach_whose_answer_is_lost_is_not_attached_twice() {
    let app = spawn_zendesk_app_with(|c| c.worker.request_timeout = Some(LOST_ANSWER.into())).await;
    let (ticket, id) = app.waiting(SimTicket::default()).await;
    // the comment carrying the uploads is applied, but the answer never comes
    let lost = Fault::new(
        &format!("/api/v2/tickets/{ticket}"),
        FaultAction::ApplyThenHang,
    );
    app.zd.faults().push(lost.method("PUT"));
    app.end_session(&id, SessionEnd::sample(1, 1, 1)).await;
    let job = app.wait_for_state(&id, "done", 20).await;
    let counts = counts(app.attachment_names(ticket));
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    let artifacts = job["artifacts"].as_array().unwrap();
    assert_eq!(
        found_existing(&job),
        artifacts.len(),
        "found on the ticket after the lost answer: {artifacts:?}"
    );
    assert_eq!(app.comments_with(ticket, "/summary]"), 1);
}
