//! `[retention]` on a running service: a finished job older than `retention.jobs` disappears
//! from the API and from the job counts, while a live one stays. (The store suite checks the
//! same on both backends, artifacts included: `store::tests::*retention*`.)

use crate::helpers::*;
use deskbridge_sim::SessionEnd;
use std::time::Duration;

#[tokio::test]
async fn a_finished_job_past_its_retention_is_deleted_and_the_counts_shrink() {
    let app =
        spawn_app_with("[retention]\njobs = \"2s\"\nlocal_artifacts = \"1s\"\nevery = \"200ms\"\n")
            .await;
    let (_, body) = app.new_incident("Service Desk");
    let done = app.start_job(&body).await;
    app.wait_for_state(&done, "waiting_for_end", 15).await;
    let code = app.session_code(&done).await;
    assert!(app
        .splashtop
        .end_session(&code, SessionEnd::sample(2, 1, 1)));
    app.wait_for_state(&done, "done", 15).await;
    let (_, body) = app.new_incident("Service Desk");
    let live = app.start_job(&body).await;
    app.wait_for_state(&live, "waiting_for_end", 15).await;

    let total = |status: serde_json::Value| -> u64 {
        status["jobs"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum()
    };
    assert_eq!(total(app.admin_get("/api/v1/status").await), 2);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let r = app
            .client
            .get(format!("{}/api/v1/jobs/{done}", app.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
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
