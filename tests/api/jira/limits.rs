//! Jira's limits in the full flow: 429 with `Retry-After` waited out, the per-issue write limit
//! spacing deskbridge's writes without losing or doubling any, the site's upload limit applied
//! before anything is posted, and a 413 failing the job at once with Jira's words.

use super::*;
use deskbridge_sim::{Fault, FaultAction, SessionEnd};
use std::time::Duration;

const READ: &str = "/rest/servicedeskapi/request/";

#[tokio::test]
async fn a_429_on_the_link_comment_is_retried_after_the_retry_after_it_gave() {
    let app = spawn_jira_app().await;
    let key = app.new_issue(|_| {});
    let limited = Fault::new("/comment", answer_later(429, "2")).method("POST");
    app.jira.faults().push(limited);
    let id = app.start(&key).await;
    app.skip_retry_wait(&id, "429", 0).await;
    let job = app.wait_for_state(&id, "waiting_for_end", 15).await;
    let wait = Duration::from_secs(2);
    assert_retried_after(app.jira.faults(), ("POST", "/comment"), 429, &job, wait);
    assert_eq!(app.jira.comments(&key).len(), 1);
    let err = step_errors(&job)[0];
    assert!(
        err.contains("429") && err.contains("limit jira-burst-based"),
        "the history names the limit: {err}"
    );
}

#[tokio::test]
async fn the_per_issue_write_limit_spaces_the_writes_and_loses_or_doubles_nothing() {
    let app = spawn_jira_app().await;
    let key = app.new_issue(|_| {});
    // one write per issue per second: link comment, attach and summary comment collide
    app.jira
        .set_per_issue_write_limit(1, Duration::from_secs(1));
    let id = app.start(&key).await;
    app.wait_for_state(&id, "waiting_for_end", 15).await;
    app.end_session(&id, SessionEnd::sample(2, 2, 2)).await;
    let job = app.wait_for_state(&id, "done", 20).await;
    let limited = app
        .jira
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.status == Some(429))
        .count();
    assert!(limited >= 1, "the limit was hit at least once");
    let errors = step_errors(&job);
    assert!(
        errors.iter().any(|e| e.contains("jira-per-issue-on-write")),
        "{errors:?}"
    );
    assert_eq!(app.comments_with(&key, "/link]"), 1);
    assert_eq!(app.comments_with(&key, "/summary]"), 1);
    let counts = counts(app.attachment_names(&key));
    assert_eq!(counts.len(), 4, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[tokio::test]
async fn the_sites_upload_limit_is_applied_before_anything_is_posted() {
    let app = spawn_jira_app().await;
    app.jira.set_upload_limit(4096);
    let (key, id) = app.waiting(|_| {}).await;
    app.splashtop.set_transcripts_enabled(true);
    // a long log compresses under the limit; a huge chat cannot
    let code = app.end_session(&id, SessionEnd::sample(60, 1, 5000)).await;
    let job = app.wait_for_state(&id, "done", 30).await;
    let names = app.attachment_names(&key);
    assert!(
        names.contains(&format!("session-{code}-log.csv.gz")),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("chat")), "{names:?}");
    assert!(app
        .jira
        .attachments(&key)
        .iter()
        .all(|a| a.bytes.len() <= 4096));
    assert!(
        app.jira
            .faults()
            .requests()
            .iter()
            .all(|r| r.status != Some(413)),
        "Jira never had to refuse a file"
    );
    assert_eq!(
        job["unavailable"][0]["kind"], "chat_transcript",
        "{}",
        job["unavailable"]
    );
    let summary = app.comment_with(&key, "/summary]");
    assert!(
        summary.contains("chat transcript: not available"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_413_from_jira_fails_the_job_at_once_with_jiras_words() {
    let app = spawn_jira_app().await;
    let (key, id) = app.waiting(|_| {}).await;
    // the settings said more than the site accepts on this upload
    app.jira.faults().push(Fault::new("/attachTemporaryFile", FaultAction::Status {
        status: 413,
        retry_after: None,
        body: Some(r#"{"errorMessage":"The attachments exceed the maximum attachment size for issues.","i18nErrorMessage":{"i18nKey":"x","parameters":[]}}"#.into()),
    }));
    app.end_session(&id, SessionEnd::sample(1, 1, 1)).await;
    let job = app.wait_for_state(&id, "failed", 15).await;
    let err = error_of_job(&job);
    assert!(
        err.contains("413") && err.contains("exceed the maximum attachment size"),
        "{err}"
    );
    assert_eq!(job["failed_step"], "attaching");
    let uploads = app
        .jira
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/attachTemporaryFile"))
        .count();
    assert_eq!(uploads, 1, "not retried");
    assert!(app.jira.attachments(&key).is_empty());
}

#[tokio::test]
async fn a_503_with_retry_after_on_the_read_is_waited_out() {
    let app = spawn_jira_app().await;
    let key = app.new_issue(|_| {});
    let unavailable = Fault::new(READ, answer_later(503, "1")).method("GET");
    app.jira.faults().push(unavailable);
    let id = app.start(&key).await;
    app.skip_retry_wait(&id, "503", 0).await;
    let job = app.wait_for_state(&id, "waiting_for_end", 15).await;
    // the history shows the 503, and the wait it asked for on the service's clock
    let wait = Duration::from_secs(1);
    assert_retried_after(app.jira.faults(), ("GET", READ), 503, &job, wait);
}
