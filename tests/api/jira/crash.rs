//! The Jira flow under SIGKILL, with the harness of `crash.rs`: the real binary is killed while
//! each Jira call of a job is in flight (after Jira applied it, for writes), then restarted on
//! the same data. The request must end with one link comment, one summary comment and each
//! artifact once: comments are found again by marker over the comment pages, files by name in
//! the issue's `attachment` field, before anything is posted again.

use super::*;
use crate::crash::{arm, crash_inside, free_port, kill_when_called, Child};
use deskbridge_sim::{FaultAction, SessionEnd};

#[tokio::test]
async fn a_sigkill_in_every_jira_call_loses_nothing_and_duplicates_nothing() {
    let jira = JiraSim::start(EMAIL, API_TOKEN).await;
    let st = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    st.set_transcripts_enabled(true);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let text = jira_config(
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &jira.base_url(),
        &st.base_url(),
        "",
    );
    let mut child = Child::start(dir.path(), port, &text).await;
    let client = reqwest::Client::new();
    let key = jira.add_issue(SimIssue::default());
    let body = jira.automation_body(&key).unwrap();

    // 1. queued: the ticket read hangs
    arm(
        jira.faults(),
        "GET",
        "/rest/servicedeskapi/request/",
        FaultAction::Hang,
    );
    let r = client
        .post(format!("{}/hooks/jira", child.base))
        .header("x-deskbridge-token", AUTOMATION_SECRET)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    kill_when_called(
        &mut child,
        jira.faults(),
        "GET",
        "/rest/servicedeskapi/request/",
    )
    .await;

    // 2. session_created: Jira stored the link comment, the answer never came
    crash_inside(
        &mut child,
        jira.faults(),
        "POST",
        "/comment",
        FaultAction::ApplyThenHang,
    )
    .await;
    assert_eq!(jira.comments(&key).len(), 1);

    // 3. collecting: the session ended while deskbridge was down; reading the size limit hangs
    let code = st.sessions().last().unwrap().code.clone();
    assert!(st.end_session(&code, SessionEnd::sample(3, 2, 4)));
    crash_inside(
        &mut child,
        jira.faults(),
        "GET",
        "/attachment/meta",
        FaultAction::Hang,
    )
    .await;

    // 4. attaching: the temporary files were stored, the answer never came
    crash_inside(
        &mut child,
        jira.faults(),
        "POST",
        "/attachTemporaryFile",
        FaultAction::ApplyThenHang,
    )
    .await;
    assert!(
        jira.attachments(&key).is_empty(),
        "temporary files are not on the request"
    );

    // 5. attaching: Jira attached the files to the request, the answer never came
    arm(
        jira.faults(),
        "POST",
        "/attachment",
        FaultAction::ApplyThenHang,
    );
    child.restart().await;
    kill_when_called(
        &mut child,
        jira.faults(),
        "POST",
        &format!("/request/{key}/attachment"),
    )
    .await;
    assert_eq!(jira.attachments(&key).len(), 4);

    // 6. attaching: the summary comment was stored, the answer never came
    crash_inside(
        &mut child,
        jira.faults(),
        "POST",
        "/comment",
        FaultAction::ApplyThenHang,
    )
    .await;

    child.restart().await;
    let job = wait_for_state(&client, &child.base, &id, "done", 20).await;

    let comments = jira.comments(&key);
    let count = |needle: &str| comments.iter().filter(|c| c.body.contains(needle)).count();
    assert_eq!(
        count(&format!("[deskbridge:job/{id}/link]")),
        1,
        "one link comment"
    );
    assert_eq!(
        count(&format!("[deskbridge:job/{id}/summary]")),
        1,
        "one summary comment"
    );
    assert_eq!(comments.len(), 2, "nothing else was written: {comments:#?}");
    assert!(comments.iter().all(|c| !c.public));
    let names: Vec<String> = jira
        .attachments(&key)
        .into_iter()
        .map(|a| a.file_name)
        .collect();
    crate::crash::assert_each_artifact_once(names, &code);
    let found = crate::crash::found_existing(&job);
    assert_eq!(
        found, 4,
        "the files attached before the crash were found, not posted again"
    );
    assert_eq!(
        jira.pending_temporary_files(),
        4,
        "the upload whose answer was lost left only temporary files, which Jira expires"
    );
    assert_eq!(job["session"]["code"], code.as_str());
    // six crashes and their errors, logged at debug level: no Jira credential in them
    let log = child.log_text();
    assert!(
        log.contains(&id) && log.len() > 2000,
        "debug logging was on"
    );
    for secret in [API_TOKEN, AUTOMATION_SECRET, HUB_SECRET, SPLASHTOP_TOKEN] {
        assert!(!log.contains(secret), "secret {secret:?} found in the log");
        assert!(comments.iter().all(|c| !c.body.contains(secret)));
    }
}
