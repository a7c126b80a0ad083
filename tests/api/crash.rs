//! Crash tests of the ServiceNow flow: the real binary as a child process (see
//! `harness::child`), killed with SIGKILL inside each step of a job's life, restarted on the
//! same data; SIGTERM with a step in flight; SIGHUP with a bad and a good file; and a log at
//! debug level that holds no secret.

use crate::servicenow::*;
use deskbridge_sim::{Fault, FaultAction, ServiceNowSim, SessionEnd, SplashtopSim};
use std::time::Duration;

/// The ServiceNow and Splashtop simulators and deskbridge as a child process wired to them,
/// on the tests' configuration as `edit` changes it.
async fn servicenow_child(
    edit: impl FnOnce(&mut Config),
) -> (ServiceNowSim, SplashtopSim, tempfile::TempDir, Child) {
    let snow = ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
    let st = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &snow.base_url(), &st.base_url());
    edit(&mut cfg);
    let child = Child::start(dir.path(), cfg).await;
    (snow, st, dir, child)
}

/// Post the UI Action's webhook for `sys_id` to the child; the job id of its 202.
async fn start(child: &Child, sys_id: &str, number: &str, group: &str) -> String {
    let body = hook_body(sys_id, number, group).to_string();
    let r = post_signed(child, "snow", body.as_bytes()).await;
    assert_eq!(r.status(), 202);
    job_id_of(r).await
}

#[tokio::test]
async fn a_sigkill_when_called_every_step_loses_nothing_and_duplicates_nothing() {
    let (snow, st, _dir, mut child) = servicenow_child(|_| {}).await;
    st.set_transcripts_enabled(true);

    let sys_id = snow.add_incident(deskbridge_sim::SimIncident {
        number: "INC0099001".into(),
        ..Default::default()
    });
    // 1. queued: the vendor created the session but deskbridge never heard back
    arm(
        st.faults(),
        "POST",
        "psa/support_sessions",
        FaultAction::ApplyThenHang,
    );
    let id = start(&child, &sys_id, "INC0099001", "Service Desk").await;
    kill_when_called(&mut child, st.faults(), "POST", "psa/support_sessions").await;

    // 2. session_created: the link note was written, the answer never came
    crash_after_write(&mut child, snow.faults(), "PATCH", INCIDENT).await;
    assert_eq!(snow.journal(&sys_id).len(), 1);

    // 3. waiting_for_end: a poll in flight
    crash_inside(&mut child, st.faults(), "GET", "psa/support_sessions/").await;

    // 4. collecting: the session is over; reading its log hangs. The child is down: the job's
    // session is the one created after the first restart.
    let code = st.sessions().last().unwrap().code.clone();
    assert!(st.end_session(&code, SessionEnd::sample(3, 2, 4)));
    crash_inside(&mut child, st.faults(), "GET", "logs/sessions").await;

    // 5. attaching: the first file was stored, the answer never came; 6. still attaching: the
    // summary note was written, the answer never came
    let job = crash_in_the_attaching_writes(&mut child, &snow, &sys_id, &id).await;
    assert_each_artifact_once(attachment_names(&snow, &sys_id), &code);
    assert_eq!(
        found_existing(&job),
        1,
        "the file stored before the crash was found, not uploaded again"
    );
    // the session created before the first crash was never recorded; the job's is the second
    assert_eq!(st.sessions().len(), 2);
    assert_eq!(job["session"]["code"], code.as_str());
}

#[tokio::test]
async fn sigterm_stops_the_service_within_ten_seconds_with_a_step_in_flight() {
    // Steps in flight get half a second to finish (the tests' base gives them two): the step
    // left hanging here holds the exit that long.
    let grace = |c: &mut Config| c.server.shutdown_grace = Some("500ms".into());
    let (snow, st, _dir, mut child) = servicenow_child(grace).await;
    let sys_id = snow.add_incident(deskbridge_sim::SimIncident::default());
    st.faults()
        .push(Fault::new("psa/support_sessions", FaultAction::Hang).method("POST"));
    let id = start(&child, &sys_id, "INC0000046", "Service Desk").await;
    assert!(st
        .faults()
        .wait_for_request("POST", "psa/support_sessions", Duration::from_secs(10))
        .await
        .is_some());
    let took = child.terminate();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    // the step left in flight resumes after a restart
    st.faults().clear();
    child.restart().await;
    child.wait_for_state(&id, "waiting_for_end", 15).await;
}

#[tokio::test]
async fn the_logs_of_a_full_run_contain_no_secret_from_the_configuration() {
    let (snow, st, _dir, mut child) = servicenow_child(|_| {}).await;
    let sys_id = snow.add_incident(deskbridge_sim::SimIncident::default());
    // a failure path too: errors are where secrets tend to leak
    snow.faults()
        .push(Fault::new(INCIDENT, FaultAction::status(500)).method("GET"));
    let id = start(&child, &sys_id, "INC0000046", "Service Desk").await;
    child.wait_for_state(&id, "waiting_for_end", 15).await;
    let code = st.sessions()[0].code.clone();
    st.end_session(&code, SessionEnd::sample(2, 2, 2));
    child.wait_for_state(&id, "done", 15).await;
    // a refused webhook and a refused API call
    child.hook("snow", "{}", &[]).await;
    child.get_as("wrong", "/api/v1/jobs").await;
    let log = child.final_log(&id);
    assert!(log.len() > 2000, "debug logging was on");
    assert_no_secret_in(
        &log,
        &[
            SNOW_PASSWORD,
            HOOK_SECRET,
            SPLASHTOP_TOKEN,
            ADMIN_TOKEN,
            AUDITOR_TOKEN,
        ],
    );
    // nor on the ticket
    for e in snow.journal(&sys_id) {
        for secret in [SNOW_PASSWORD, HOOK_SECRET, SPLASHTOP_TOKEN] {
            assert!(!e.value.contains(secret));
        }
    }
}

#[tokio::test]
async fn sighup_rereads_the_configuration_and_a_bad_one_is_refused() {
    let (snow, _st, _dir, mut child) = servicenow_child(|_| {}).await;
    let sys_id = snow.add_incident(deskbridge_sim::SimIncident {
        assignment_group: "Network".into(),
        ..Default::default()
    });
    let network = hook_body(&sys_id, "INC0000046", "Network");
    let send = |body: serde_json::Value| {
        let api = child.api.clone();
        async move {
            post_signed(&api, "snow", body.to_string().as_bytes())
                .await
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        send(network.clone()).await["status"],
        "ignored",
        "no rule for Network yet"
    );

    // a broken file is refused and the service keeps running on the old one
    std::fs::write(&child.config_path, "[server]\nlisten = 1\n").unwrap();
    child.signal("HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        child
            .log_text()
            .contains("the new configuration was refused"),
        "{}",
        child.log_text()
    );
    assert_eq!(send(network.clone()).await["status"], "ignored");

    // a good one takes effect without a restart
    child.config.rule_mut(RULE).matches.queue = vec!["Service Desk".into(), "Network".into()];
    child.config.write(&child.config_path);
    child.signal("HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(send(network).await["status"], "queued");
}
