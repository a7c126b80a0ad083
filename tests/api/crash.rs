//! Crash tests: the real binary as a child process, killed with SIGKILL inside each step of a
//! job's life, restarted on the same data directory. Whatever happens, the ticket ends with
//! exactly one link note, one summary note and one copy of each artifact.
//!
//! The simulators run in the test process; a fault makes the call of the step under test hang
//! (after applying it, for writes: the worst case, where the upstream committed but deskbridge
//! never heard back), the test waits for that call to arrive, then kills the child.
//!
//! [`Child`] is reusable by other systems' crash tests: give it a configuration text.

use crate::helpers::*;
use deskbridge_sim::{Fault, FaultAction, Faults, SessionEnd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// deskbridge running as a child process on a fixed port, logging to a file.
pub struct Child {
    proc: Option<std::process::Child>,
    pub base: String,
    pub config: PathBuf,
    pub log: PathBuf,
}

/// A free loopback port (bound then released; the child binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Child {
    /// Start `deskbridge serve` with `config_text` written next to `dir`'s data.
    pub async fn start(dir: &Path, port: u16, config_text: &str) -> Child {
        let config = dir.join("deskbridge.toml");
        std::fs::write(&config, config_text).unwrap();
        let mut c = Child {
            proc: None,
            base: format!("http://127.0.0.1:{port}"),
            config,
            log: dir.join("deskbridge.log"),
        };
        c.restart().await;
        c
    }

    /// (Re)start the process on the same configuration and data, and wait until it is ready.
    pub async fn restart(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let proc = Command::new(env!("CARGO_BIN_EXE_deskbridge"))
            .args(["serve", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.proc = Some(proc);
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "deskbridge did not become ready; log:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill().unwrap();
            p.wait().unwrap();
        }
    }

    /// SIGTERM, and how long the process took to exit.
    pub fn terminate(&mut self) -> Duration {
        let p = self.proc.as_mut().unwrap();
        let started = std::time::Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &p.id().to_string()])
            .status();
        let status = p.wait().unwrap();
        assert!(status.success(), "exit status after SIGTERM: {status}");
        self.proc = None;
        started.elapsed()
    }

    pub fn pid(&self) -> u32 {
        self.proc.as_ref().map(|p| p.id()).unwrap_or(0)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The ticket holds each of the four artifacts of session `code` exactly once.
pub fn assert_each_artifact_once(mut names: Vec<String>, code: &str) {
    names.sort();
    let mut want: Vec<String> = ["chat.txt", "file-transfers.csv", "log.csv", "manifest.json"]
        .iter()
        .map(|s| format!("session-{code}-{s}"))
        .collect();
    want.sort();
    assert_eq!(names, want, "each artifact exactly once");
}

/// How many of the job's artifacts were found already on the ticket (attached before a crash).
pub fn found_existing(job: &serde_json::Value) -> usize {
    let artifacts = job["artifacts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    artifacts
        .iter()
        .filter(|a| a["attached"]["found_existing"] == true)
        .count()
}

/// The ServiceNow and Splashtop simulators and deskbridge as a child process wired to them
/// (with the configuration text, for tests that change it).
pub async fn servicenow_child() -> (
    deskbridge_sim::ServiceNowSim,
    deskbridge_sim::SplashtopSim,
    tempfile::TempDir,
    Child,
    String,
) {
    let snow = deskbridge_sim::ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
    let st = deskbridge_sim::SplashtopSim::start(SPLASHTOP_TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let text = config_text(
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &snow.base_url(),
        &st.base_url(),
        "",
    );
    let child = Child::start(dir.path(), port, &text).await;
    (snow, st, dir, child, text)
}

/// Arm a fault for the call of the step under test. Arm it *before* (re)starting the child, or
/// the child may make the call before the fault is there.
pub fn arm(faults: &Faults, method: &str, path: &str, action: FaultAction) {
    faults.clear();
    faults.push(Fault::new(path, action).method(method));
}

/// Restart the child with a fault armed for one call, and kill it once that call is in flight.
pub async fn crash_inside(
    child: &mut Child,
    faults: &Faults,
    method: &str,
    path: &str,
    action: FaultAction,
) {
    arm(faults, method, path, action);
    child.restart().await;
    kill_when_called(child, faults, method, path).await;
}

/// Wait for the armed call to arrive, give a write a moment to apply, kill, disarm.
pub async fn kill_when_called(child: &mut Child, faults: &Faults, method: &str, path: &str) {
    let hit = faults
        .wait_for_request(method, path, Duration::from_secs(20))
        .await;
    assert!(
        hit.is_some(),
        "{method} {path} never came; log:\n{}",
        child.log_text()
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    child.kill();
    faults.clear();
}

#[tokio::test]
async fn a_sigkill_when_called_every_step_loses_nothing_and_duplicates_nothing() {
    let (snow, st, _dir, mut child, _) = servicenow_child().await;
    st.set_transcripts_enabled(true);
    let client = reqwest::Client::new();

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
    let r = post_signed(
        &client,
        &child.base,
        "snow",
        hook_body(&sys_id, "INC0099001", "Service Desk")
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_eq!(r.status(), 202);
    let id = r.json::<serde_json::Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    kill_when_called(&mut child, st.faults(), "POST", "psa/support_sessions").await;

    // 2. session_created: the link note was written, the answer never came
    crash_inside(
        &mut child,
        snow.faults(),
        "PATCH",
        "/api/now/table/incident/",
        FaultAction::ApplyThenHang,
    )
    .await;
    assert_eq!(snow.journal(&sys_id).len(), 1);

    // 3. waiting_for_end: a poll in flight
    crash_inside(
        &mut child,
        st.faults(),
        "GET",
        "psa/support_sessions/",
        FaultAction::Hang,
    )
    .await;

    // 4. collecting: the session is over; reading its log hangs. The child is down: the job's
    // session is the one created after the first restart.
    let code = st.sessions().last().unwrap().code.clone();
    assert!(st.end_session(&code, SessionEnd::sample(3, 2, 4)));
    crash_inside(
        &mut child,
        st.faults(),
        "GET",
        "logs/sessions",
        FaultAction::Hang,
    )
    .await;

    // 5. attaching: the first file was stored, the answer never came
    crash_inside(
        &mut child,
        snow.faults(),
        "POST",
        "/api/now/attachment/file",
        FaultAction::ApplyThenHang,
    )
    .await;
    assert_eq!(snow.attachments(&sys_id).len(), 1);

    // 6. still attaching: the summary note was written, the answer never came
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

    let journal = snow.journal(&sys_id);
    let count = |needle: &str| journal.iter().filter(|e| e.value.contains(needle)).count();
    assert_eq!(
        count(&format!("[deskbridge:job/{id}/link]")),
        1,
        "one link note"
    );
    assert_eq!(
        count(&format!("[deskbridge:job/{id}/summary]")),
        1,
        "one summary note"
    );
    assert_eq!(journal.len(), 2, "nothing else was written: {journal:#?}");
    let names: Vec<String> = snow
        .attachments(&sys_id)
        .into_iter()
        .map(|a| a.file_name)
        .collect();
    crate::crash::assert_each_artifact_once(names, &code);
    let found_existing = crate::crash::found_existing(&job);
    assert_eq!(
        found_existing, 1,
        "the file stored before the crash was found, not uploaded again"
    );
    // the session created before the first crash was never recorded; the job's is the second
    assert_eq!(st.sessions().len(), 2);
    assert_eq!(job["session"]["code"], code.as_str());
}

#[tokio::test]
async fn sigterm_stops_the_service_within_ten_seconds_with_a_step_in_flight() {
    let (snow, st, _dir, mut child, _) = servicenow_child().await;
    let sys_id = snow.add_incident(deskbridge_sim::SimIncident::default());
    st.faults()
        .push(Fault::new("psa/support_sessions", FaultAction::Hang).method("POST"));
    let r = post_signed(
        &reqwest::Client::new(),
        &child.base,
        "snow",
        hook_body(&sys_id, "INC0000046", "Service Desk")
            .to_string()
            .as_bytes(),
    )
    .await;
    let id = r.json::<serde_json::Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
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
    wait_for_state(
        &reqwest::Client::new(),
        &child.base,
        &id,
        "waiting_for_end",
        15,
    )
    .await;
}

#[tokio::test]
async fn the_logs_of_a_full_run_contain_no_secret_from_the_configuration() {
    let (snow, st, _dir, mut child, _) = servicenow_child().await;
    let client = reqwest::Client::new();
    let sys_id = snow.add_incident(deskbridge_sim::SimIncident::default());
    // a failure path too: errors are where secrets tend to leak
    snow.faults()
        .push(Fault::new("/api/now/table/incident/", FaultAction::status(500)).method("GET"));
    let r = post_signed(
        &client,
        &child.base,
        "snow",
        hook_body(&sys_id, "INC0000046", "Service Desk")
            .to_string()
            .as_bytes(),
    )
    .await;
    let id = r.json::<serde_json::Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for_state(&client, &child.base, &id, "waiting_for_end", 15).await;
    let code = st.sessions()[0].code.clone();
    st.end_session(&code, SessionEnd::sample(2, 2, 2));
    wait_for_state(&client, &child.base, &id, "done", 15).await;
    // a refused webhook and a refused API call
    let _ = client
        .post(format!("{}/hooks/snow", child.base))
        .body("{}")
        .send()
        .await;
    let _ = client
        .get(format!("{}/api/v1/jobs", child.base))
        .bearer_auth("wrong")
        .send()
        .await;
    child.terminate();
    let log = child.log_text();
    assert!(log.contains(&id), "the log is the run's log");
    assert!(log.len() > 2000, "debug logging was on");
    for secret in [
        SNOW_PASSWORD,
        HOOK_SECRET,
        SPLASHTOP_TOKEN,
        ADMIN_TOKEN,
        AUDITOR_TOKEN,
    ] {
        assert!(!log.contains(secret), "secret {secret:?} found in the log");
    }
    // nor on the ticket
    for e in snow.journal(&sys_id) {
        for secret in [SNOW_PASSWORD, HOOK_SECRET, SPLASHTOP_TOKEN] {
            assert!(!e.value.contains(secret));
        }
    }
}

#[tokio::test]
async fn sighup_rereads_the_configuration_and_a_bad_one_is_refused() {
    let (snow, _st, _dir, child, text) = servicenow_child().await;
    let client = reqwest::Client::new();
    let sys_id = snow.add_incident(deskbridge_sim::SimIncident {
        assignment_group: "Network".into(),
        ..Default::default()
    });
    let network = hook_body(&sys_id, "INC0000046", "Network");
    let send = |body: serde_json::Value| {
        let (client, base) = (client.clone(), child.base.clone());
        async move {
            post_signed(&client, &base, "snow", body.to_string().as_bytes())
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

    let hup = |pid: u32| {
        Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
    };
    // a broken file is refused and the service keeps running on the old one
    std::fs::write(&child.config, "[server]\nlisten = 1\n").unwrap();
    assert!(hup(child.pid()).success());
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
    std::fs::write(
        &child.config,
        text.replace(
            "[\"Service Desk\", \"Desktop Support\"]",
            "[\"Service Desk\", \"Network\"]",
        ),
    )
    .unwrap();
    assert!(hup(child.pid()).success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(send(network).await["status"], "queued");
}
