//! Sunlogin credentials under load and failure, through the whole service: fifty jobs and one
//! renewal, a dead grant, a pair lost between issue and storage, credentials that stopped working.
//! A token ages when the test moves the service's clock (see [`SunApp::age_the_token`]).

use super::*;
use deskbridge_sim::{Fault, FaultAction};
use std::time::Duration;

#[tokio::test]
async fn fifty_jobs_in_flight_when_the_token_expires_cause_exactly_one_renewal() {
    let app = spawn_sunlogin().await;
    app.sun.set_access_ttl(LIFE);
    let mut jobs = vec![app.click().await];
    app.until(10, "the first job signs in", |c| c.authorised >= 1)
        .await;
    // Only the first pair is short-lived; its renewal is slowed so that every polling job meets it.
    app.sun.set_access_ttl(Duration::from_secs(3600));
    app.sun.faults().push(Fault::new(
        "/auth/refresh",
        FaultAction::Delay(Duration::from_millis(500)),
    ));
    for _ in 1..50 {
        jobs.push(app.click().await);
    }
    for (_, id) in &jobs {
        app.wait_for_state(id, "waiting_for_end", 20).await;
    }
    // The token goes stale on deskbridge's clock while all fifty jobs are polling.
    app.age_the_token();
    app.until(15, "the token is renewed", |c| c.refreshed >= 1)
        .await;
    // every job polls again with the new pair
    let ids: Vec<&str> = jobs.iter().map(|(_, id)| id.as_str()).collect();
    let polls = app.polls(&ids).await;
    app.wait_for_polls(&polls, 2).await;
    let c = app.sun.counts();
    assert_eq!(
        (c.authorised, c.refreshed),
        (1, 1),
        "one sign-in, one renewal for fifty jobs: {c:?}"
    );
    assert_eq!(
        (c.refused_access, c.refused_refresh, c.refused_signature),
        (0, 0, 0),
        "{c:?}"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics
            .contains(r#"deskbridge_token_renewals_total{vendor="sunlogin-cn",via="refresh"} 1"#),
        "{metrics}"
    );

    // Fifty sessions of the same seat: each job claims its own, none is lost.
    for _ in 0..50 {
        let log = app.sun.start_session(SEAT, "JANE-PC", "123456789");
        app.sun.end_session(&log, &[]);
    }
    let mut codes = std::collections::HashSet::new();
    for (_, id) in &jobs {
        let job = app.wait_for_state(id, "done", 60).await;
        codes.insert(job["session"]["code"].as_str().unwrap().to_string());
    }
    assert_eq!(codes.len(), 50, "every job has a session of its own");
}

#[tokio::test]
async fn a_dead_grant_is_replaced_by_signing_in_again_and_the_job_goes_on() {
    let app = spawn_sunlogin().await;
    let (_, id) = app.click().await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    app.sun.revoke_tokens();
    app.until(10, "signed in again", |c| c.authorised >= 2)
        .await;
    let c = app.sun.counts();
    assert!(
        c.refused_access >= 1 && c.refused_refresh >= 1,
        "a 401, then a refused renewal: {c:?}"
    );
    app.play_session("JANE-PC", &[]);
    app.wait_for_state(&id, "done", 15).await;
}

#[tokio::test]
async fn a_pair_lost_between_issue_and_storage_is_recovered_by_signing_in_again_and_no_job_is_lost()
{
    let app = spawn_sunlogin().await;
    app.sun.set_access_ttl(LIFE);
    let (sys_id, id) = app.click().await;
    app.until(10, "signed in", |c| c.authorised >= 1).await;
    app.sun.set_access_ttl(Duration::from_secs(3600));
    // Sunlogin issues the new pair (the old one is burned) and the answer never arrives, as if
    // deskbridge had died between receiving and storing it.
    app.sun
        .faults()
        .push(Fault::new("/auth/refresh", FaultAction::ApplyThenHang));
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    app.age_the_token();
    app.until(15, "recovered by signing in again", |c| {
        c.refreshed == 1 && c.refused_refresh >= 1 && c.authorised == 2
    })
    .await;
    app.play_session("JANE-PC", &[("a.txt", 1, "upload")]);
    let job = app.wait_for_state(&id, "done", 15).await;
    let errors = step_errors(&job);
    assert!(
        errors.iter().any(|e| e.contains("did not answer in time")),
        "the lost answer was a retried step: {errors:?}"
    );
    assert_eq!(app.snow.attachments(&sys_id).len(), 3);
}

#[tokio::test]
async fn credentials_that_no_longer_work_fail_the_job_with_re_authorise_sunlogin_in_the_job_list() {
    let app = spawn_sunlogin().await;
    let (sys_id, id) = app.click().await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    app.sun.set_password("changed-by-the-account-owner");
    let job = app.wait_for_state(&id, "failed", 15).await;
    let listed = app.admin_get("/api/v1/jobs?state=failed").await;
    let error = listed["jobs"][0]["error"].as_str().unwrap();
    assert_eq!(listed["jobs"][0]["id"], id.as_str());
    assert!(
        error.contains("re-authorise Sunlogin") && error.contains(ACCOUNT),
        "{error}"
    );
    assert!(!error.contains(PASSWORD) && !error.contains(APP_SECRET));
    assert_eq!(job["failed_step"], "waiting_for_end");
    // The failure note follows the saved failure.
    let mut failure_note = None;
    for _ in 0..100 {
        failure_note = app
            .snow
            .journal(&sys_id)
            .into_iter()
            .find(|e| e.value.contains("/failed/"));
        if failure_note.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failure_note = failure_note.expect("a failure note");
    assert!(
        failure_note.value.contains("re-authorise Sunlogin"),
        "{}",
        failure_note.value
    );

    let status = app.admin_get("/api/v1/status").await;
    assert_eq!(
        status["vendors"][0]["credentials"]["state"], "reauthorise",
        "{status}"
    );
    assert!(status["warnings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("re-authorise Sunlogin"));
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200, "the rest of the service works on");
}
