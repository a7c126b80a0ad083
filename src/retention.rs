//! Retention (SPEC §3 `[retention]`): a pass every `retention.every` deletes finished jobs
//! older than `retention.jobs` and the stored copies of artifacts already attached older than
//! `retention.local_artifacts`. Ages count from a job's last change, on the shared clock. With
//! several replicas each runs the pass; they delete the same rows, which is harmless.

use crate::runtime::{Current, Shared};
use crate::store::Purged;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// One retention pass with the current configuration.
pub async fn pass(current: &Current, shared: &Shared) -> crate::store::Result<Purged> {
    let cfg = current.get().config.retention.clone();
    let now = shared.clock.now();
    let before = |age: Duration| crate::clock::Millis(now.0 - age.as_millis() as i64);
    let purged = shared
        .store
        .purge(before(cfg.jobs.0), before(cfg.local_artifacts.0))
        .await?;
    if purged != Purged::default() {
        tracing::info!(
            jobs = purged.jobs,
            artifacts = purged.artifacts,
            "retention: deleted finished jobs and attached artifacts past their age"
        );
    }
    Ok(purged)
}

/// Run a pass at start and then every `retention.every`, until `stop`.
pub async fn run(current: Current, shared: Shared, stop: CancellationToken) {
    loop {
        if let Err(e) = pass(&current, &shared).await {
            tracing::warn!(error = %e, "retention pass failed; it runs again later");
        }
        let every = current.get().config.retention.every.0;
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
