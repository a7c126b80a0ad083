//! `[retention]` on a running service: a finished job older than `retention.jobs` disappears
//! from the API and from the job counts, while a live one stays. (The store suite checks the
//! same on both backends, artifacts included: `store::tests::*retention*`.)

use crate::servicenow::*;
use deskbridge_sim::SessionEnd;
use std::time::Duration;

#[tokio::test]
async fn a_finished_job_past_its_retention_is_deleted_and_the_counts_shrink() {
    let app = spawn_app_with(|c| {
        let ages = [
            ("jobs", "2s"),
            ("local_artifacts", "1s"),
            ("every", "200ms"),
        ];
        c.retention = Some(
            ages.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
    })
    .await;
    let (_, done) = app.waiting("Service Desk").await;
    app.end_session(&done, SessionEnd::sample(2, 1, 1)).await;
    app.wait_for_state(&done, "done", 15).await;
    let (_, live) = app.waiting("Service Desk").await;

    let total = |status: serde_json::Value| -> u64 {
        let counts = status["jobs"].as_object().unwrap().values();
        counts.map(|n| n.as_u64().unwrap()).sum()
    };
    assert_eq!(total(app.admin_get("/api/v1/status").await), 2);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let r = app
            .get_as(ADMIN_TOKEN, &format!("/api/v1/jobs/{done}"))
            .await;
        if r.status() == 404 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still there: {}",
            r.status()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        total(app.admin_get("/api/v1/status").await),
        1,
        "the store shrank"
    );
    assert_eq!(
        app.job(&live).await["state"],
        "waiting_for_end",
        "a live job stays"
    );
}
