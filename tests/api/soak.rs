//! Retries fit the phase, not a count (issue 9): with 30 % of every upstream call failing
//! (ServiceNow and Splashtop alike, 5xx at random), every job still ends `done` without an
//! admin retry, each ticket with one link note, one summary and each artifact once. The worker
//! runs on a manual clock that the test moves, so hours of backoff take seconds.

use crate::servicenow::*;
use deskbridge::clock::{ManualClock, Millis};
use deskbridge_sim::{FaultAction, SessionEnd, SimIncident};
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;

const JOBS: usize = 40;
const FAULT_RATE: f64 = 0.3;

fn faults() -> Vec<FaultAction> {
    vec![
        FaultAction::status(500),
        FaultAction::status(502),
        FaultAction::status(503),
    ]
}

#[tokio::test]
async fn at_30_percent_upstream_faults_every_job_ends_done_without_an_admin_retry() {
    // The default retry settings (2 s doubling to 5 min; budgets 15 min and 72 h), on a clock
    // only the test moves; the real-time tick is an hour, so only clock jumps wake the worker.
    let app = spawn_app_on(ManualClock::frozen(Millis::now()), |c| {
        c.worker.tick = Some("1h".into());
        c.worker.retry = Some(Retry {
            base: "2s".into(),
            max: "5m".into(),
            link_budget: None,
            artifacts_budget: None,
            attempts: None,
        });
        c.vendor_mut("splashtop").poll = Some(Poll {
            every: Some("30s".into()),
            max_every: Some("2m".into()),
            give_up_after: Some("24h".into()),
        });
    })
    .await;
    let (snow, splashtop, clock) = (&app.snow, &app.splashtop, &app.clock);
    snow.faults().set_random_faults(FAULT_RATE, faults());
    splashtop.faults().set_random_faults(FAULT_RATE, faults());
    let mut tickets = vec![];
    for i in 0..JOBS {
        let number = format!("INC{:07}", 9_000_000 + i);
        let sys_id = snow.add_incident(SimIncident {
            number: number.clone(),
            assignment_group: "Service Desk".into(),
            ..SimIncident::default()
        });
        let body = hook_body(&sys_id, &number, "Service Desk").to_string();
        let r = post_signed(&app.api, "snow", body.as_bytes()).await;
        assert_eq!(r.status(), 202);
        let v: Value = r.json().await.unwrap();
        tickets.push((sys_id, v["job_id"].as_str().unwrap().to_string()));
    }

    let mut ended = HashSet::new();
    let mut jobs = vec![];
    for _round in 0..3_000 {
        clock.advance(Duration::from_secs(20));
        // Let the worker catch up with the clock before moving it again: a budget must run out
        // on the job clock, never because the test outran a busy machine.
        jobs = settled(&app.api, clock).await;
        for j in &jobs {
            let code = j["session"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if j["state"] == "waiting_for_end" && ended.insert(code.clone()) {
                assert!(splashtop.end_session(&code, SessionEnd::sample(2, 1, 2)));
            }
        }
        if jobs.len() == JOBS
            && jobs
                .iter()
                .all(|j| j["state"] == "done" || j["state"] == "failed")
        {
            break;
        }
    }
    let failed: Vec<&Value> = jobs.iter().filter(|j| j["state"] != "done").collect();
    assert!(
        failed.is_empty(),
        "{} of {JOBS} jobs did not finish on their own:\n{}",
        failed.len(),
        serde_json::to_string_pretty(&failed).unwrap()
    );
    let faulted = snow
        .faults()
        .requests()
        .iter()
        .chain(splashtop.faults().requests().iter())
        .filter(|r| r.status.is_some_and(|s| s >= 500))
        .count();
    assert!(faulted > JOBS, "the upstreams failed {faulted} calls");
    for (sys_id, id) in &tickets {
        let notes = snow.journal(sys_id);
        let count = |purpose: &str| {
            let marker = format!("[deskbridge:job/{id}/{purpose}]");
            notes.iter().filter(|e| e.value.contains(&marker)).count()
        };
        assert_eq!((count("link"), count("summary")), (1, 1), "job {id}");
        let mut names: Vec<String> = snow
            .attachments(sys_id)
            .iter()
            .map(|a| a.file_name.clone())
            .collect();
        let before = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), before, "each artifact once on {sys_id}");
        assert_eq!(before, 4, "{names:?}");
    }
}

/// The jobs, once none is due at the clock's time any more (or after a few seconds of real
/// time, whatever they are then).
async fn settled(api: &Api, clock: &ManualClock) -> Vec<Value> {
    let now = clock.clock().now().rfc3339();
    let mut jobs = vec![];
    for _ in 0..400 {
        jobs = api.jobs("?limit=500").await;
        let live = |j: &&Value| !matches!(j["state"].as_str(), Some("done" | "failed"));
        if jobs
            .iter()
            .filter(live)
            .all(|j| j["due_at"].as_str().is_some_and(|d| d > now.as_str()))
        {
            return jobs;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    jobs
}
