//! Retention in sled: finished jobs past `retention.jobs` leave every tree (their
//! de-duplication keys and attachment records included), and the stored artifacts of finished
//! jobs whose files are all on the ticket leave past `retention.local_artifacts`. The pass reads
//! the `ended` index up to the cut-off and the keys of the stored artifacts, never every job.

use super::{keys, SledBackend, ATTACHED, DEDUP, ENDED, JOBS, STATES, TICKETS};
use crate::clock::Millis;
use crate::ids::JobId;
use crate::job::{Job, JobState};
use crate::store::backend::{artifacts_settled, Purged};
use crate::store::Result;

/// Marks a store whose `ended` index covers every ended job (stores written before it had none).
const ENDED_INDEXED: &[u8] = b"\0ended-indexed";

impl SledBackend {
    /// Once per store: index the ended jobs a build without the `ended` tree left.
    pub(super) fn index_ended_jobs(&self) -> Result<()> {
        if self.db.get(ENDED_INDEXED)?.is_some() {
            return Ok(());
        }
        for s in JobState::ALL.into_iter().filter(|s| s.is_terminal()) {
            for k in self.tree(STATES).scan_prefix([s.code()]).keys() {
                let Some(id) = JobId::from_slice(&k?[1..]) else {
                    continue;
                };
                if let Some(job) = self.get_sync(&id)? {
                    self.tree(ENDED)
                        .insert(keys::due(job.updated_at(), &id), &[])?;
                }
            }
        }
        self.db.insert(ENDED_INDEXED, &[])?;
        Ok(())
    }

    pub(super) fn purge_sync(
        &self,
        jobs_before: Millis,
        artifacts_before: Millis,
    ) -> Result<Purged> {
        let mut out = Purged::default();
        let old: Vec<JobId> = self
            .tree(ENDED)
            .range(..keys::due(jobs_before, &JobId::from_uuid(uuid::Uuid::nil())))
            .keys()
            .filter_map(|k| k.ok().and_then(|k| keys::due_parts(&k)).map(|(_, id)| id))
            .collect();
        for id in old {
            if let Some(job) = self.get_sync(&id)? {
                self.forget_job(&job)?;
                out.jobs += 1;
            }
            out.artifacts += self.drop_artifacts(&id)?;
        }
        // The artifacts still kept: each job's once, with the job they belong to.
        let mut kept: Vec<JobId> = vec![];
        for k in self.artifacts.iter().keys() {
            if let Some(id) = JobId::from_slice(&k?[..16]) {
                if kept.last() != Some(&id) {
                    kept.push(id);
                }
            }
        }
        for id in kept {
            let settled = match self.get_sync(&id)? {
                Some(job) => job.updated_at() < artifacts_before && artifacts_settled(&job),
                None => false,
            };
            if settled {
                out.artifacts += self.drop_artifacts(&id)?;
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
        self.tree(ENDED).remove(keys::due(job.updated_at(), &id))?;
        if let Some(e) = &job.event_id {
            let k = keys::joined(&[conn, e.as_str()]);
            if self.tree(DEDUP).get(&k)?.as_deref() == Some(id.as_bytes().as_slice()) {
                self.tree(DEDUP).remove(k)?;
            }
        }
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
