//! A step under its lease: renewed while the step runs, and the step's outcome written under
//! it (see the module doc of `worker`).

use super::{steps, StepError, Worker};
use crate::job::{Job, Outcome};
use crate::store::{Hold, SaveError, StoreError};
use std::time::Duration;
use tracing::{info, warn};

impl Worker {
    /// Run the job's step while renewing its lease; None when the lease was lost (the step is
    /// dropped where it stands).
    pub(super) async fn under_lease(
        &self,
        rt: &crate::runtime::Runtime,
        job: &mut Job,
    ) -> Option<Result<Outcome, StepError>> {
        let held = job.clone();
        let length = self.current.get().config.worker.lease.0;
        let every = (length / 3).max(Duration::from_millis(10));
        let store = &self.shared.store;
        let step = steps::run(rt, &self.shared, job);
        tokio::pin!(step);
        loop {
            tokio::select! {
                r = &mut step => return Some(r),
                _ = tokio::time::sleep(every) => {
                    let now = self.shared.clock.now();
                    match store.renew(&held, now, now.plus(length)).await {
                        Ok(true) => {}
                        Ok(false) if self.taken_over(&held).await => return None,
                        // An admin changed the job (a cancel clears its lease): the step ends
                        // and its outcome is refused as a conflict, as without replicas.
                        Ok(false) => {}
                        Err(e) => warn!(error = %e, "the job's lease could not be renewed; trying again"),
                    }
                }
            }
        }
    }

    /// Whether another worker has leased the job since `held` was (its fencing generation
    /// moved on), or it is gone.
    async fn taken_over(&self, held: &Job) -> bool {
        match self.shared.store.get(&held.id).await {
            Ok(Some(now)) => now.fence != held.fence,
            Ok(None) => true,
            Err(_) => false,
        }
    }

    /// Save the step's result; whether it was saved.
    pub(super) async fn save(&self, job: &mut Job) -> bool {
        let now = self.shared.clock.now();
        match self.shared.store.save_held(job, now, Hold::Release).await {
            Ok(()) => true,
            Err(SaveError::Conflict) => {
                info!("the job changed during its step (cancelled?); its outcome is dropped");
                false
            }
            Err(SaveError::LeaseLost) => {
                warn!("the job's lease was lost before its outcome was recorded; another worker has it");
                false
            }
            Err(SaveError::Store(StoreError::Invalid(e))) => {
                tracing::error!(error = %e, "the step's result was refused (a bug in deskbridge)");
                false
            }
            Err(SaveError::Store(e)) => {
                warn!(error = %e, "the step's outcome could not be saved; it will run again");
                false
            }
        }
    }
}
