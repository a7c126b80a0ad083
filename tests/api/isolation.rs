//! Outbound pacing and isolation: each upstream's `rate_limit` is respected, and one slow
//! ticket system does not hold up jobs bound for another.

use crate::servicenow::*;
use deskbridge_sim::{Fault, FaultAction, ServiceNowSim, SimIncident};
use std::time::Duration;

#[tokio::test]
async fn calls_to_a_ticket_system_keep_to_its_rate_limit() {
    let app =
        spawn_app_with(|c| c.itsm_mut("snow").rate_limit = Some(RateLimit::per_second(2))).await;
    let (_, body) = app.new_incident("Service Desk");
    let id = app.start_job(&body).await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    // read the incident, look for the link note, write it: three calls, a burst of two
    let calls = app.snow.faults().requests();
    assert!(calls.len() >= 3, "{calls:?}");
    let spread = calls[2].at.duration_since(calls[0].at).unwrap();
    assert!(
        spread >= Duration::from_millis(450),
        "the third call waited for a token: {spread:?}"
    );
}

#[tokio::test]
async fn a_slow_ticket_system_does_not_stall_jobs_for_another() {
    let slow = ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
    slow.faults()
        .push(Fault::new("/api/now/", FaultAction::Delay(Duration::from_secs(4))).times(0));
    // two slots per connection, four overall: the slow system may fill its own two, no more
    let app = spawn_app_with(|c| {
        c.itsm.push(connection("slow", &slow.base_url()));
        c.rules.push(Rule::new("slow desk", "slow", "splashtop"));
        c.worker.concurrency = Some(4);
        c.worker.per_connection = Some(2);
    })
    .await;
    for _ in 0..6 {
        let sys_id = slow.add_incident(SimIncident::default());
        let r = post_signed(
            &app.api,
            "slow",
            hook_body(&sys_id, "INC0000046", "Service Desk")
                .to_string()
                .as_bytes(),
        )
        .await;
        assert_eq!(r.status(), 202);
    }
    assert!(slow
        .faults()
        .wait_for_request("GET", "/api/now/table/incident/", Duration::from_secs(5))
        .await
        .is_some());
    let started = std::time::Instant::now();
    let (_, body) = app.new_incident("Service Desk");
    let id = app.start_job(&body).await;
    app.wait_for_state(&id, "waiting_for_end", 3).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    let in_flight = slow
        .faults()
        .requests()
        .iter()
        .filter(|r| r.status.is_none())
        .count();
    assert!(
        in_flight <= 2,
        "the slow connection holds at most its own slots: {in_flight}"
    );
}
