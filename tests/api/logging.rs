//! Logging never stops the service (SPEC §5, issue 9 item 3): the real binary with its stderr a
//! pipe whose reader has gone (`serve 2>&1 | head -1`) or a pipe nobody reads (full). In both it
//! becomes ready, takes a webhook, runs the job, counts the lines it dropped, and exits within
//! 10 s of SIGTERM.

use crate::harness::child::free_port;
use crate::servicenow::*;
use deskbridge_sim::{ServiceNowSim, SplashtopSim};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every crate at trace: enough lines to fill a pipe's buffer during start-up.
const FLOOD: &str =
    "trace,sled=trace,hyper=trace,hyper_util=trace,h2=trace,reqwest=trace,tower=trace,mio=trace";

async fn ready(client: &reqwest::Client, base: &str) -> bool {
    for _ in 0..400 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status() == 200 {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

/// `deskbridge_log_lines_dropped_total` as scraped.
async fn dropped_lines(client: &reqwest::Client, base: &str) -> f64 {
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("deskbridge_log_lines_dropped_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no dropped-lines counter in:\n{metrics}"))
}

/// Start the binary with its stderr a pipe; `close` drops the reading end at once, otherwise the
/// test holds it and never reads. Then run one job and stop it with SIGTERM.
async fn serve_with_a_stuck_stderr(close: bool) {
    let snow = ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
    let splashtop = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut cfg = config(dir.path(), &snow.base_url(), &splashtop.base_url());
    cfg.server.listen = Some(format!("127.0.0.1:{port}"));
    let config = cfg.write(&dir.path().join("deskbridge.toml"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_deskbridge"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", FLOOD)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pipe = child.stderr.take();
    if close {
        drop(pipe);
    }
    let client = reqwest::Client::new();
    let up = ready(&client, &base).await;
    if !up {
        let _ = child.kill();
    }
    assert!(up, "deskbridge never became ready with a stuck stderr");
    // Requests log at trace: keep asking until stderr has refused lines (bounded).
    let mut dropped = 0.0;
    for _ in 0..100 {
        dropped = dropped_lines(&client, &base).await;
        if dropped > 0.0 {
            break;
        }
        for _ in 0..50 {
            let _ = client.get(format!("{base}/healthz")).send().await;
        }
    }
    assert!(dropped > 0.0, "lines stderr could not take are counted");

    let sys_id = snow.add_incident(deskbridge_sim::SimIncident {
        number: "INC0000777".into(),
        assignment_group: "Service Desk".into(),
        ..Default::default()
    });
    let body = hook_body(&sys_id, "INC0000777", "Service Desk");
    let api = Api::new(base.clone());
    let r = post_signed(&api, "snow", body.to_string().as_bytes()).await;
    assert_eq!(r.status(), 202, "the webhook is taken at once");
    let job: serde_json::Value = r.json().await.unwrap();
    api.wait_for_state(job["job_id"].as_str().unwrap(), "waiting_for_end", 20)
        .await;
    assert!(dropped_lines(&client, &base).await >= dropped);

    let started = Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let mut exited = None;
    while started.elapsed() < Duration::from_secs(12) {
        if let Some(status) = child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    if exited.is_none() {
        let _ = child.kill();
    }
    let status = exited.expect("deskbridge did not exit after SIGTERM");
    assert!(took < Duration::from_secs(10), "SIGTERM took {took:?}");
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn a_closed_stderr_never_stops_jobs_readiness_or_shutdown() {
    serve_with_a_stuck_stderr(true).await;
}

#[tokio::test]
async fn a_full_stderr_never_stops_jobs_readiness_or_shutdown() {
    serve_with_a_stuck_stderr(false).await;
}

/// Issue 10 item 2: the log an operator follows. In a pipe it has no colour codes; it says each
/// webhook's outcome and each job state change, and why a webhook was refused, never with the
/// secret or the body; `[log] format = "json"` makes every line a JSON object.
#[tokio::test]
async fn the_log_follows_webhooks_and_jobs_in_plain_text_or_json_as_configured() {
    for json in [false, true] {
        let snow = ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
        let splashtop = SplashtopSim::start(SPLASHTOP_TOKEN).await;
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path(), &snow.base_url(), &splashtop.base_url());
        if json {
            cfg.log = Some([("format".to_string(), "json".to_string())].into());
        }
        let mut child = Child::start(dir.path(), cfg).await;
        let client = reqwest::Client::new();
        let sys_id = snow.add_incident(deskbridge_sim::SimIncident {
            number: "INC0000778".into(),
            assignment_group: "Service Desk".into(),
            ..Default::default()
        });
        let body = hook_body(&sys_id, "INC0000778", "Service Desk").to_string();
        let r = post_signed(&child.api, "snow", body.as_bytes()).await;
        let job: serde_json::Value = r.json().await.unwrap();
        let id = job["job_id"].as_str().unwrap();
        child.api.wait_for_state(id, "waiting_for_end", 20).await;
        let forged = client
            .post(child.api.url("/hooks/snow"))
            .header("x-deskbridge-timestamp", now_secs().to_string())
            .header("x-deskbridge-signature", "AAAA")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 401);
        assert!(child.terminate() < Duration::from_secs(10));
        let log = child.log_text();
        assert!(!log.contains('\u{1b}'), "no colour codes in a pipe:\n{log}");
        assert!(!log.contains(HOOK_SECRET) && !log.contains("Outlook crashes"));
        let lines: Vec<&str> = log.lines().collect();
        let has = |words: &[&str]| lines.iter().any(|l| words.iter().all(|w| l.contains(w)));
        assert!(has(&["webhook", "queued", id, "INC0000778"]), "{log}");
        assert!(
            has(&["job state changed", "link_posted", id, "snow"]),
            "{log}"
        );
        assert!(has(&["webhook refused", "x-deskbridge-signature"]), "{log}");
        if json {
            for l in &lines {
                assert!(
                    serde_json::from_str::<serde_json::Value>(l).is_ok(),
                    "not JSON: {l}"
                );
            }
        } else {
            assert!(serde_json::from_str::<serde_json::Value>(lines[0]).is_err());
        }
    }
}
