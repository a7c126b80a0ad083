//! Keeps vendor credentials alive while the service is idle.
//!
//! Tokens are otherwise renewed only when a job needs them, so a quiet month could let an OAuth
//! grant lapse unseen. Every few minutes (and once at start, so a problem shows in the log
//! right away) each vendor gets the chance to renew what is about to expire and to log what an
//! admin must do ([`Vendor::keep_credentials_alive`]).

use super::Vendor;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often vendors are visited. Access tokens are renewed well before this much time is left.
pub const EVERY: Duration = Duration::from_secs(300);

/// Run until `stop`; `vendors` gives the vendors of the configuration current at each pass.
pub async fn run(
    vendors: impl Fn() -> Vec<Arc<dyn Vendor>> + Send,
    stop: CancellationToken,
    every: Duration,
) {
    loop {
        for v in vendors() {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = v.keep_credentials_alive() => {}
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
