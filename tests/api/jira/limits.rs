//! Jira's limits in the full flow: 429 with `Retry-After` waited out, the per-issue write limit
//! spacing deskbridge's writes without losing or doubling any, the site's upload limit applied
//! before anything is posted, and a 413 failing the job at once with Jira's words.

use super::*;
use deskbridge_sim::{Fault, FaultAction, SessionEnd};
use std::time::Duration;

#[tokio::test]
async fn a_429_on_the_link_comment_is_retried_after_the_retry_after_it_gave() {
    let app = spawn_jira_app().await;
    let key = app.new_issue(|_| {});
    app.jira.faults().push(
        Fault::new(
            "/comment",
            FaultAction::Status {
                status: 429,
                retry_after: Some("2".into()),
                body: None,
            },
        )
        .method("POST"),
    );
    let id = app.start(&key).await;
    let job = app.wait_for_state(&id, "waiting_for_end", 15).await;
    let posts: Vec<_> = app
        .jira
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/comment"))
        .collect();
    assert_eq!(posts[0].status, Some(429));
    let waited = posts[1].at.duration_since(posts[0].at).unwrap();
    assert!(
        waited >= Duration::from_millis(1900),
        "Retry-After 2 honoured, waited {waited:?}"
    );
    assert_eq!(app.jira.comments(&key).len(), 1);
    let err = job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|s| s["error"].as_str())
        .unwrap()
        .to_string();
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
    let code = app.session_code(&id).await;
    app.splashtop
        .end_session(&code, SessionEnd::sample(2, 2, 2));
    let job = app.wait_for_state(&id, "done", 20).await;
    let limited = app
        .jira
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.status == Some(429))
        .count();
    assert!(limited >= 1, "the limit was hit at least once");
    let steps = job["steps"].as_array().unwrap();
    assert!(
        steps.iter().any(|s| s["error"]
            .as_str()
            .is_some_and(|e| e.contains("jira-per-issue-on-write"))),
        "{steps:?}"
    );
    assert_eq!(app.comments_with(&key, "/link]"), 1);
    assert_eq!(app.comments_with(&key, "/summary]"), 1);
    let counts = app.attachment_counts(&key);
    assert_eq!(counts.len(), 4, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[tokio::test]
async fn the_sites_upload_limit_is_applied_before_anything_is_posted() {
    let app = spawn_jira_app().await;
    let key = app.new_issue(|_| {});
    app.jira.set_upload_limit(4096);
    let id = app.start(&key).await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    app.splashtop.set_transcripts_enabled(true);
    let code = app.session_code(&id).await;
    // a long log compresses under the limit; a huge chat cannot
    app.splashtop
        .end_session(&code, SessionEnd::sample(60, 1, 5000));
    let job = app.wait_for_state(&id, "done", 30).await;
    let names: Vec<String> = app
        .jira
        .attachments(&key)
        .iter()
        .map(|a| a.file_name.clone())
        .collect();
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
    let summary = app
        .jira
        .comments(&key)
        .into_iter()
        .find(|c| c.body.contains("/summary]"))
        .unwrap();
    assert!(
        summary.body.contains("chat transcript: not available"),
        "{}",
        summary.body
    );
}

#[tokio::test]
async fn a_413_from_jira_fails_the_job_at_once_with_jiras_words() {
    let app = spawn_jira_app().await;
    let key = app.new_issue(|_| {});
    let id = app.start(&key).await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    // the settings said more than the site accepts on this upload
    app.jira.faults().push(Fault::new("/attachTemporaryFile", FaultAction::Status {
        status: 413,
        retry_after: None,
        body: Some(r#"{"errorMessage":"The attachments exceed the maximum attachment size for issues.","i18nErrorMessage":{"i18nKey":"x","parameters":[]}}"#.into()),
    }));
    let code = app.session_code(&id).await;
    app.splashtop
        .end_session(&code, SessionEnd::sample(1, 1, 1));
    let job = app.wait_for_state(&id, "failed", 15).await;
    let err = job["error"].as_str().unwrap();
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
    app.jira.faults().push(
        Fault::new(
            "/rest/servicedeskapi/request/",
            FaultAction::Status {
                status: 503,
                retry_after: Some("1".into()),
                body: None,
            },
        )
        .method("GET"),
    );
    let id = app.start(&key).await;
    let job = app.wait_for_state(&id, "waiting_for_end", 15).await;
    let reads: Vec<_> = app
        .jira
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/rest/servicedeskapi/request/"))
        .collect();
    assert_eq!(reads[0].status, Some(503));
    assert!(reads[1].at.duration_since(reads[0].at).unwrap() >= Duration::from_millis(900));
    assert!(job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["error"].as_str().is_some_and(|e| e.contains("503"))));
}
