//! Retention in sled: finished jobs past `retention.jobs` leave every tree (their
//! de-duplication keys and attachment records included), and the stored artifacts of finished
//! jobs whose files are all on the ticket leave past `retention.local_artifacts`.

use super::{keys, SledBackend, ATTACHED, DEDUP, JOBS, STATES, TICKETS};
use crate::clock::Millis;
use crate::ids::JobId;
use crate::job::Job;
use crate::store::backend::{artifacts_settled, Purged};
use crate::store::Result;
use std::collections::HashSet;

impl SledBackend {
    pub(super) fn purge_sync(
        &self,
        jobs_before: Millis,
        artifacts_before: Millis,
    ) -> Result<Purged> {
        let mut out = Purged::default();
        let mut gone: HashSet<JobId> = HashSet::new();
        for kv in self.tree(JOBS).iter() {
            let (_, v) = kv?;
            let Ok(job) = serde_json::from_slice::<Job>(&v) else {
                continue;
            };
            if !job.state().is_terminal() {
                continue;
            }
            if job.updated_at() < jobs_before {
                self.forget_job(&job)?;
                out.artifacts += self.drop_artifacts(&job.id)?;
                gone.insert(job.id);
                out.jobs += 1;
            } else if job.updated_at() < artifacts_before && artifacts_settled(&job) {
                out.artifacts += self.drop_artifacts(&job.id)?;
            }
        }
        if !gone.is_empty() {
            for kv in self.tree(DEDUP).iter() {
                let (k, v) = kv?;
                if JobId::from_slice(&v).is_some_and(|id| gone.contains(&id)) {
                    self.tree(DEDUP).remove(k)?;
                }
            }
        }
        Ok(out)
    }

    /// Remove a finished job and its index entries (it holds no due, lease or open entry).
    fn forget_job(&self, job: &Job) -> Result<()> {
        let id = job.id;
        let conn = job.connection.as_str();
        let ticket = job.ticket.as_str();
        self.tree(STATES)
            .remove(keys::state(job.state().code(), &id))?;
        self.tree(TICKETS)
            .remove(keys::ticket_job(conn, ticket, &id))?;
        for a in &job.artifacts {
            let k = keys::joined(&[conn, ticket, &a.name]);
            let by_this_job = self.tree(ATTACHED).get(&k)?.is_some_and(|v| {
                serde_json::from_slice::<serde_json::Value>(&v)
                    .is_ok_and(|r| r["job_id"] == id.to_string())
            });
            if by_this_job {
                self.tree(ATTACHED).remove(k)?;
            }
        }
        self.tree(JOBS).remove(id.as_bytes())?;
        Ok(())
    }

    /// Delete a job's stored artifacts; how many there were.
    fn drop_artifacts(&self, id: &JobId) -> Result<usize> {
        let mut n = 0;
        for k in self.artifacts.scan_prefix(id.as_bytes()).keys() {
            self.artifacts.remove(k?)?;
            n += 1;
        }
        Ok(n)
    }
}
