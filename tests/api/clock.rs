//! The product clock: a job's timing follows the clock the app is built with
//! (`App::build_with_clock`), so a test that holds a frozen `ManualClock` sees a one-hour
//! `give_up_after` or a one-hour backoff pass the moment it moves the clock, and nothing
//! happen before. The worker's real-time tick is an hour here, so each test also shows that a
//! jump of the clock wakes the worker. The simulators and webhook signatures stay on real time.

use crate::helpers::*;
use deskbridge::app::App;
use deskbridge::clock::{ManualClock, Millis};
use deskbridge_sim::{Fault, FaultAction, ServiceNowSim, SimIncident, SplashtopSim};
use serde_json::Value;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const MINUTE: Duration = Duration::from_secs(60);

/// deskbridge on a frozen manual clock, with the standard ServiceNow and Splashtop simulators.
struct ClockApp {
    base: String,
    snow: ServiceNowSim,
    splashtop: SplashtopSim,
    client: reqwest::Client,
    clock: ManualClock,
    start: Millis,
    _dir: tempfile::TempDir,
    stop: CancellationToken,
}

impl Drop for ClockApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn spawn_on_a_frozen_clock() -> ClockApp {
    let snow = ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
    let splashtop = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    // A worker tick of an hour of real time: only the clock's jumps (and new work) wake it.
    let text = config_text(
        dir.path(),
        "127.0.0.1:0",
        &snow.base_url(),
        &splashtop.base_url(),
        "",
    )
    .replace(r#"tick = "50ms""#, r#"tick = "1h""#);
    assert!(text.contains(r#"tick = "1h""#) && text.contains(r#"give_up_after = "1h""#));
    let cfg = deskbridge::config::load_str(&text, "<clock test>").unwrap();
    let start = Millis::now();
    let clock = ManualClock::frozen(start);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let app = App::build_with_clock(cfg, listener, clock.clock())
        .await
        .unwrap();
    assert_eq!(app.clock().now(), start);
    let base = format!("http://127.0.0.1:{}", app.port());
    let stop = CancellationToken::new();
    let s = stop.clone();
    tokio::spawn(async move {
        app.run_until_stopped(async move { s.cancelled().await })
            .await
            .unwrap();
    });
    ClockApp {
        base,
        snow,
        splashtop,
        client: reqwest::Client::new(),
        clock,
        start,
        _dir: dir,
        stop,
    }
}

impl ClockApp {
    /// A new incident and its webhook: the incident's sys_id and the job id.
    async fn click(&self) -> (String, String) {
        let n = format!("INC{:07}", rand::random::<u32>() % 10_000_000);
        let sys_id = self.snow.add_incident(SimIncident {
            number: n.clone(),
            assignment_group: "Service Desk".into(),
            ..SimIncident::default()
        });
        let body = hook_body(&sys_id, &n, "Service Desk").to_string();
        let r = post_signed(&self.client, &self.base, "snow", body.as_bytes()).await;
        assert_eq!(r.status(), 202);
        let v: Value = r.json().await.unwrap();
        (sys_id, v["job_id"].as_str().unwrap().to_string())
    }

    async fn job(&self, id: &str) -> Value {
        self.client
            .get(format!("{}/api/v1/jobs/{id}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Poll (in real time, a few seconds at most) until `ok` holds of the job.
    async fn until(&self, id: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..400 {
            last = self.job(id).await;
            if ok(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{what}: not seen; last:\n{last:#}");
    }

    fn at(&self, after: Duration) -> Value {
        Value::String(self.start.plus(after).rfc3339())
    }
}

#[tokio::test]
async fn a_session_that_never_ends_expires_once_the_clock_passes_give_up_after() {
    let app = spawn_on_a_frozen_clock().await;
    let (sys_id, id) = app.click().await;
    let job = wait_for_state(&app.client, &app.base, &id, "waiting_for_end", 10).await;
    assert_eq!(
        job["created_at"],
        app.at(Duration::ZERO),
        "ingest reads the clock"
    );
    assert_eq!(job["waiting_since"], app.at(Duration::ZERO));
    let polls = job["polls"].as_u64().unwrap();
    let expiry_marker = format!("[deskbridge:job/{id}/expired]");

    app.clock.advance(59 * MINUTE);
    let job = app
        .until(&id, "a look after 59 minutes", |j| {
            j["polls"].as_u64().unwrap() > polls
        })
        .await;
    assert_eq!(
        job["state"], "waiting_for_end",
        "59 minutes is within the hour"
    );
    assert!(job["due_at"].as_str().unwrap() > app.at(59 * MINUTE).as_str().unwrap());
    assert!(app
        .snow
        .journal(&sys_id)
        .iter()
        .all(|e| !e.value.contains(&expiry_marker)));

    app.clock.advance(2 * MINUTE);
    let job = wait_for_state(&app.client, &app.base, &id, "expired", 10).await;
    let last = job["steps"].as_array().unwrap().last().unwrap();
    assert_eq!(
        last["at"],
        app.at(61 * MINUTE),
        "the history is on the clock too"
    );
    let notes = app.snow.journal(&sys_id);
    assert_eq!(
        notes
            .iter()
            .filter(|e| e.value.contains(&expiry_marker))
            .count(),
        1
    );
    assert_eq!(app.splashtop.sessions()[0].status, "closed");
}

#[tokio::test]
async fn a_one_hour_retry_after_is_waited_out_by_moving_the_clock() {
    let app = spawn_on_a_frozen_clock().await;
    app.snow.faults().push(
        Fault::new(
            "/api/now/table/incident/",
            FaultAction::Status {
                status: 429,
                retry_after: Some("3600".into()),
                body: None,
            },
        )
        .method("GET")
        .times(1),
    );
    let (_, id) = app.click().await;
    let job = app
        .until(&id, "the 429 recorded", |j| j["attempt"] == 1)
        .await;
    assert_eq!(job["state"], "queued");
    assert_eq!(
        job["due_at"],
        app.at(60 * MINUTE),
        "due when Retry-After says"
    );

    app.clock.advance(30 * MINUTE);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let job = app.job(&id).await;
    assert_eq!(
        (job["state"].as_str(), job["attempt"].as_u64()),
        (Some("queued"), Some(1)),
        "half-way through the backoff nothing runs"
    );

    app.clock.advance(30 * MINUTE);
    let job = wait_for_state(&app.client, &app.base, &id, "waiting_for_end", 10).await;
    assert_eq!(job["waiting_since"], app.at(60 * MINUTE));
    assert!(app.splashtop.sessions().len() == 1);
}
