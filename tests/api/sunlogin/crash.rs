//! The Sunlogin crash test: the real binary, SIGKILLed inside each Sunlogin step of a job's life
//! (see `tests/api/crash.rs` for the harness), restarted on the same data. Two of the kills land
//! between Sunlogin issuing a token pair and deskbridge storing it: the sign-in, and a renewal
//! that burns the stored RefreshToken. The service recovers by signing in again, and the ticket
//! still ends with one instructions note, one summary note and each artifact once.

use super::*;
use crate::crash::{arm, crash_inside, free_port, kill_when_called, Child};
use deskbridge_sim::FaultAction;
use std::time::Duration;

#[tokio::test]
async fn a_sigkill_inside_each_sunlogin_step_and_between_issuing_and_storing_a_token_pair_loses_nothing(
) {
    let snow = ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
    let sun = SunloginSim::start(APP_KEY, APP_SECRET, ACCOUNT, PASSWORD).await;
    sun.set_access_ttl(Duration::from_secs(3));
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let text = config(
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &snow.base_url(),
        &sun.base_url(),
    );
    let sys_id = snow.add_incident(SimIncident {
        number: "INC0099042".into(),
        assignment_group: QUEUE.into(),
        ..SimIncident::default()
    });
    let client = reqwest::Client::new();

    // 1. queued: Sunlogin signs deskbridge in, the pair never reaches the disk.
    arm(
        sun.faults(),
        "POST",
        "/auth/authorize",
        FaultAction::ApplyThenHang,
    );
    let mut child = Child::start(dir.path(), port, &text).await;
    let r = post_signed(
        &client,
        &child.base,
        "snow",
        hook_body(&sys_id, "INC0099042", QUEUE)
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    kill_when_called(&mut child, sun.faults(), "POST", "/auth/authorize").await;
    assert_eq!(sun.counts().authorised, 1);

    // 2. session_created: signed in again (nothing was stored), the instructions note was
    //    written, the answer never came.
    crash_inside(
        &mut child,
        snow.faults(),
        "PATCH",
        "/api/now/table/incident/",
        FaultAction::ApplyThenHang,
    )
    .await;
    assert_eq!(sun.counts().authorised, 2);
    assert_eq!(snow.journal(&sys_id).len(), 1);
    sun.set_access_ttl(Duration::from_secs(3600));

    // 3. waiting_for_end: the stored AccessToken (3 s) expires; Sunlogin issues the new pair and
    //    burns the stored RefreshToken, and deskbridge dies before storing what it received.
    crash_inside(
        &mut child,
        sun.faults(),
        "POST",
        "/auth/refresh",
        FaultAction::ApplyThenHang,
    )
    .await;
    assert_eq!(sun.counts().refreshed, 1);

    // 4. The agent's session happened meanwhile. The restarted service finds its RefreshToken
    //    refused, signs in again, matches the session, and is killed while collecting.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let log_id = sun.start_session(SEAT, "JANE-PC", "123 456 789");
    sun.end_session(&log_id, &[("outlook-diag.zip", 48_213, "download")]);
    crash_inside(
        &mut child,
        sun.faults(),
        "GET",
        "/logs/file_transfer",
        FaultAction::Hang,
    )
    .await;
    let c = sun.counts();
    assert!(
        c.refused_refresh >= 1 && c.authorised == 3,
        "recovered by signing in again: {c:?}"
    );

    // 5. attaching: the first file was stored, the answer never came.
    crash_inside(
        &mut child,
        snow.faults(),
        "POST",
        "/api/now/attachment/file",
        FaultAction::ApplyThenHang,
    )
    .await;
    assert_eq!(snow.attachments(&sys_id).len(), 1);

    // 6. the summary note was written, the answer never came.
    crash_inside(
        &mut child,
        snow.faults(),
        "PATCH",
        "/api/now/table/incident/",
        FaultAction::ApplyThenHang,
    )
    .await;

    child.restart().await;
    let job = wait_for_state(&client, &child.base, &id, "done", 20).await;
    assert_eq!(job["session"]["code"], log_id.as_str());
    let journal = snow.journal(&sys_id);
    let count = |needle: &str| journal.iter().filter(|e| e.value.contains(needle)).count();
    assert_eq!(
        count(&format!("[deskbridge:job/{id}/link]")),
        1,
        "one instructions note"
    );
    assert_eq!(
        count(&format!("[deskbridge:job/{id}/summary]")),
        1,
        "one summary note"
    );
    assert_eq!(journal.len(), 2, "nothing else was written: {journal:#?}");
    let mut names: Vec<String> = snow
        .attachments(&sys_id)
        .into_iter()
        .map(|a| a.file_name)
        .collect();
    names.sort();
    let want: Vec<String> = ["file-transfers.csv", "log.csv", "manifest.json"]
        .iter()
        .map(|s| format!("session-{log_id}-{s}"))
        .collect();
    assert_eq!(names, want, "each artifact exactly once");

    child.terminate();
    let log = child.log_text();
    assert!(log.contains(&id), "the log is the run's log");
    assert!(
        log.contains("signing in again with the configured account"),
        "the recovery is in the log"
    );
    let mut secrets: Vec<String> = [
        APP_SECRET,
        PASSWORD,
        SNOW_PASSWORD,
        HOOK_SECRET,
        ADMIN_TOKEN,
    ]
    .map(String::from)
    .to_vec();
    secrets.extend(sun.issued_tokens());
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "a secret ({}…) is in the log",
            &secret[..4]
        );
    }
}
