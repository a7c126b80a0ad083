//! The Sunlogin crash test: the real binary, SIGKILLed inside each Sunlogin step of a job's life
//! (see `harness::child`), restarted on the same data. Two of the kills land
//! between Sunlogin issuing a token pair and deskbridge storing it: the sign-in, and a renewal
//! that burns the stored RefreshToken. The service recovers by signing in again, and the ticket
//! still ends with one instructions note, one summary note and each artifact once.

use super::*;
use deskbridge_sim::{FaultAction, SimIncident};
use std::time::Duration;

#[tokio::test]
async fn a_sigkill_inside_each_sunlogin_step_and_between_issuing_and_storing_a_token_pair_loses_nothing(
) {
    let snow = ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
    let sun = SunloginSim::start(APP_KEY, APP_SECRET, ACCOUNT, PASSWORD).await;
    // The child runs on the system clock: its first tokens live one second (the shortest a JWT
    // `exp` in seconds can say), so the one stored in step 2 is stale when step 3 starts.
    sun.set_access_ttl(Duration::from_secs(1));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &snow.base_url(), &sun.base_url());
    let sys_id = snow.add_incident(SimIncident {
        number: "INC0099042".into(),
        assignment_group: QUEUE.into(),
        ..SimIncident::default()
    });

    // 1. queued: Sunlogin signs deskbridge in, the pair never reaches the disk.
    arm(
        sun.faults(),
        "POST",
        "/auth/authorize",
        FaultAction::ApplyThenHang,
    );
    let mut child = Child::start(dir.path(), cfg).await;
    let body = hook_body(&sys_id, "INC0099042", QUEUE).to_string();
    let r = post_signed(&child, "snow", body.as_bytes()).await;
    assert_eq!(r.status(), 202);
    let id = job_id_of(r).await;
    kill_when_called(&mut child, sun.faults(), "POST", "/auth/authorize").await;
    assert_eq!(sun.counts().authorised, 1);

    // 2. session_created: signed in again (nothing was stored), the instructions note was
    //    written, the answer never came.
    crash_after_write(&mut child, snow.faults(), "PATCH", INCIDENT).await;
    assert_eq!(sun.counts().authorised, 2);
    assert_eq!(snow.journal(&sys_id).len(), 1);
    sun.set_access_ttl(Duration::from_secs(3600));

    // 3. waiting_for_end: the stored AccessToken (1 s) expires; Sunlogin issues the new pair and
    //    burns the stored RefreshToken, and deskbridge dies before storing what it received.
    crash_after_write(&mut child, sun.faults(), "POST", "/auth/refresh").await;
    assert_eq!(sun.counts().refreshed, 1);

    // 4. The agent's session happened meanwhile. The restarted service finds its RefreshToken
    //    refused, signs in again, matches the session, and is killed while collecting.
    let log_id = sun.start_session(SEAT, "JANE-PC", "123 456 789");
    sun.end_session(&log_id, &[("outlook-diag.zip", 48_213, "download")]);
    crash_inside(&mut child, sun.faults(), "GET", "/logs/file_transfer").await;
    let c = sun.counts();
    assert!(
        c.refused_refresh >= 1 && c.authorised == 3,
        "recovered by signing in again: {c:?}"
    );

    // 5. attaching: the first file was stored, the answer never came; 6. the summary note was
    // written, the answer never came.
    let job = crash_in_the_attaching_writes(&mut child, &snow, &sys_id, &id).await;
    assert_eq!(job["session"]["code"], log_id.as_str());
    let mut names = attachment_names(&snow, &sys_id);
    names.sort();
    let want: Vec<String> = ["file-transfers.csv", "log.csv", "manifest.json"]
        .iter()
        .map(|s| format!("session-{log_id}-{s}"))
        .collect();
    assert_eq!(names, want, "each artifact exactly once");

    let log = child.final_log(&id);
    assert!(
        log.contains("signing in again with the configured account"),
        "the recovery is in the log"
    );
    let issued = sun.issued_tokens();
    let mut secrets = vec![
        APP_SECRET,
        PASSWORD,
        SNOW_PASSWORD,
        HOOK_SECRET,
        ADMIN_TOKEN,
    ];
    secrets.extend(issued.iter().map(String::as_str));
    assert_no_secret_in(&log, &secrets);
}
