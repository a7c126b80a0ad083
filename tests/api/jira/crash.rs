//! The Jira flow under SIGKILL (see `harness::child`): the real binary is killed while
//! each Jira call of a job is in flight (after Jira applied it, for writes), then restarted on
//! the same data. The request must end with one link comment, one summary comment and each
//! artifact once: comments are found again by marker over the comment pages, files by name in
//! the issue's `attachment` field, before anything is posted again.

use super::*;
use deskbridge_sim::{FaultAction, SessionEnd};

#[tokio::test]
async fn a_sigkill_in_every_jira_call_loses_nothing_and_duplicates_nothing() {
    let jira = JiraSim::start(EMAIL, API_TOKEN).await;
    let st = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    st.set_transcripts_enabled(true);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &jira.base_url(), &st.base_url());
    let mut child = Child::start(dir.path(), cfg).await;
    let key = jira.add_issue(SimIssue::default());
    let body = jira.automation_body(&key).unwrap();

    // 1. queued: the ticket read hangs
    arm(
        jira.faults(),
        "GET",
        "/rest/servicedeskapi/request/",
        FaultAction::Hang,
    );
    let r = child
        .hook("jira", body, &[("x-deskbridge-token", AUTOMATION_SECRET)])
        .await;
    assert_eq!(r.status(), 202);
    let id = job_id_of(r).await;
    kill_when_called(
        &mut child,
        jira.faults(),
        "GET",
        "/rest/servicedeskapi/request/",
    )
    .await;

    // 2. session_created: Jira stored the link comment, the answer never came
    crash_after_write(&mut child, jira.faults(), "POST", "/comment").await;
    assert_eq!(jira.comments(&key).len(), 1);

    // 3. collecting: the session ended while deskbridge was down; reading the size limit hangs
    let code = st.sessions().last().unwrap().code.clone();
    assert!(st.end_session(&code, SessionEnd::sample(3, 2, 4)));
    crash_inside(&mut child, jira.faults(), "GET", "/attachment/meta").await;

    // 4. attaching: the temporary files were stored, the answer never came
    crash_after_write(&mut child, jira.faults(), "POST", "/attachTemporaryFile").await;
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
    crash_after_write(&mut child, jira.faults(), "POST", "/comment").await;

    child.restart().await;
    let job = child.wait_for_state(&id, "done", 20).await;

    let comments = jira.comments(&key);
    let bodies: Vec<&str> = comments.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(
        count_with(&bodies, &marker(&id, "link")),
        1,
        "one link comment"
    );
    assert_eq!(
        count_with(&bodies, &marker(&id, "summary")),
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
    assert_each_artifact_once(names, &code);
    assert_eq!(
        found_existing(&job),
        4,
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
    let secrets = [API_TOKEN, AUTOMATION_SECRET, HUB_SECRET, SPLASHTOP_TOKEN];
    assert_no_secret_in(&log, &secrets);
    for secret in secrets {
        assert!(comments.iter().all(|c| !c.body.contains(secret)));
    }
}
