//! The embedded backend: sled, in `server.data_dir`, for one process.
//!
//! Trees (all keys are bytes; see `keys.rs`):
//! - `jobs`: job id → job JSON. Ids are UUIDv7, so key order is creation order.
//! - `due`: due time (u64 BE) ++ job id → (): what the worker should look at next.
//! - `leased`: job id → lease end: jobs a worker holds now. At open, every entry goes back to
//!   `due`, because sled's file lock means the previous holder is gone.
//! - `dedup`: connection ++ delivery id → job id.
//! - `open`: connection ++ ticket → job id of the ticket's live session (second clicks).
//! - `tickets`: connection ++ ticket ++ job id → (): every job ever run for a ticket.
//! - `states`: state code ++ job id → (): counts and state filters without reading jobs.
//! - `attached`: connection ++ ticket ++ file name → what was attached where, by which job.
//! - `ended`: last change (u64 BE) ++ job id → () for every ended job: what retention reads,
//!   oldest first, without decoding the rest.
//! - `artifacts`: job id ++ file name → the artifact's bytes.
//! - `kv`: small named values (vendor token pairs, cached team ids).
//!
//! Every state change is one sled transaction over the trees it touches, and callers that answer
//! the outside world (a 202, a step that is about to call out) wait for a flush, which batches
//! concurrent flushes into one fsync. New jobs go through the ingest writer (`ingest.rs`), which
//! stores them in batches: the write path issue 13 tunes.

mod flusher;
mod ingest;
mod jobs;
mod keys;
mod retention;

use super::backend::{Backend, Enqueued, Fence, JobFilter, LockGuard, Purged, Written};
use super::{Result, StoreError};
use crate::clock::Millis;
use crate::ids::JobId;
use crate::job::{Job, JobState};
use async_trait::async_trait;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

impl<E: std::fmt::Display> From<::sled::transaction::TransactionError<E>> for StoreError {
    fn from(e: ::sled::transaction::TransactionError<E>) -> Self {
        match e {
            ::sled::transaction::TransactionError::Storage(e) => e.into(),
            ::sled::transaction::TransactionError::Abort(e) => StoreError::Corrupt(e.to_string()),
        }
    }
}

// Indices into `SledBackend::trees`, which is passed whole to multi-tree transactions.
const JOBS: usize = 0;
const DUE: usize = 1;
const LEASED: usize = 2;
const DEDUP: usize = 3;
const OPEN: usize = 4;
const TICKETS: usize = 5;
const STATES: usize = 6;
const ATTACHED: usize = 7;
const ENDED: usize = 8;
const TREE_NAMES: [&str; 9] = [
    "jobs", "due", "leased", "dedup", "open", "tickets", "states", "attached", "ended",
];

pub struct SledBackend {
    db: ::sled::Db,
    trees: Vec<::sled::Tree>,
    kv: ::sled::Tree,
    artifacts: ::sled::Tree,
    ingest: ingest::Ingest,
    flusher: flusher::Flusher,
    /// One async lock per name: one process per data directory, so in-process is enough.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl SledBackend {
    /// Open (or create) the store under `dir` and put back to work every job that a previous
    /// process held when it stopped.
    pub fn open(dir: &Path) -> Result<SledBackend> {
        let db = ::sled::Config::new()
            .path(dir.join("store"))
            // The default 1 GiB page cache is far more than a job queue needs; this keeps RSS low.
            .cache_capacity(32 * 1024 * 1024)
            .flush_every_ms(Some(1000))
            .open()
            .map_err(|e| StoreError::Open {
                path: dir.display().to_string(),
                reason: e.to_string(),
            })?;
        let trees = TREE_NAMES
            .iter()
            .map(|n| db.open_tree(n))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let kv = db.open_tree("kv")?;
        let artifacts = db.open_tree("artifacts")?;
        let flusher = flusher::Flusher::spawn(db.clone());
        let ingest = ingest::Ingest::spawn(trees.clone(), flusher.handle());
        let b = SledBackend {
            db,
            trees,
            kv,
            artifacts,
            ingest,
            flusher,
            locks: Default::default(),
        };
        b.recover_leases()?;
        b.index_ended_jobs()?;
        Ok(b)
    }

    fn tree(&self, i: usize) -> &::sled::Tree {
        &self.trees[i]
    }
}

fn artifact_key(job: &JobId, name: &str) -> Vec<u8> {
    let mut k = job.as_bytes().to_vec();
    k.extend_from_slice(name.as_bytes());
    k
}

#[async_trait]
impl Backend for SledBackend {
    fn kind(&self) -> &'static str {
        "sled"
    }
    async fn enqueue(&self, job: &Job) -> Result<Enqueued> {
        self.ingest
            .enqueue(job.clone())
            .await
            .map_err(StoreError::Unavailable)
    }
    async fn insert_bulk(&self, jobs: &[Job]) -> Result<()> {
        self.insert_bulk_sync(jobs)?;
        self.flusher.flush().await
    }
    async fn get(&self, id: &JobId) -> Result<Option<Job>> {
        self.get_sync(id)
    }
    async fn write(&self, next: &Job, expect_rev: u64, fence: Option<Fence>) -> Result<Written> {
        let w = self.write_sync(next, expect_rev, fence)?;
        if w == Written::Ok {
            self.flusher.flush().await?;
        }
        Ok(w)
    }
    async fn lease(
        &self,
        id: &JobId,
        owner: u64,
        now: Millis,
        until: Millis,
    ) -> Result<Option<Job>> {
        self.lease_sync(id, owner, now, until)
    }
    async fn renew(
        &self,
        id: &JobId,
        owner: u64,
        fence: u64,
        now: Millis,
        until: Millis,
    ) -> Result<bool> {
        self.renew_sync(id, owner, fence, now, until)
    }
    async fn release(&self, id: &JobId, owner: u64, fence: u64) -> Result<()> {
        self.release_sync(id, Some((owner, fence)))
    }
    async fn ticket_holder(&self, connection: &str, ticket: &str) -> Result<Option<JobId>> {
        self.ticket_holder_sync(connection, ticket)
    }
    async fn due_jobs(&self, now: Millis, limit: usize) -> Result<Vec<JobId>> {
        self.due_jobs_sync(now, limit)
    }
    async fn next_due(&self) -> Result<Option<Millis>> {
        self.next_due_sync()
    }
    async fn work_arrived(&self) {
        std::future::pending::<()>().await
    }
    async fn list(
        &self,
        f: &JobFilter,
        after: Option<JobId>,
        limit: usize,
    ) -> Result<(Vec<Job>, Option<JobId>)> {
        self.list_sync(f, after, limit)
    }
    async fn count_by_state(&self) -> Result<Vec<(JobState, usize)>> {
        Ok(JobState::ALL
            .iter()
            .map(|s| (*s, self.tree(STATES).scan_prefix([s.code()]).keys().count()))
            .collect())
    }
    async fn attached_on_ticket(&self, conn: &str, ticket: &str) -> Result<Vec<serde_json::Value>> {
        let mut out = Vec::new();
        for kv in self
            .tree(ATTACHED)
            .scan_prefix(keys::prefix(&[conn, ticket]))
        {
            let (_, v) = kv?;
            out.extend(serde_json::from_slice(&v).ok());
        }
        Ok(out)
    }

    async fn put_artifact(&self, job: &JobId, name: &str, bytes: &[u8]) -> Result<()> {
        self.artifacts.insert(artifact_key(job, name), bytes)?;
        self.flusher.flush().await
    }
    async fn get_artifact(&self, job: &JobId, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .artifacts
            .get(artifact_key(job, name))?
            .map(|v| v.to_vec()))
    }
    async fn purge(&self, jobs_before: Millis, artifacts_before: Millis) -> Result<Purged> {
        let purged = self.purge_sync(jobs_before, artifacts_before)?;
        self.flusher.flush().await?;
        Ok(purged)
    }

    async fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.kv.get(key)?.map(|v| v.to_vec()))
    }
    async fn kv_put(&self, key: &str, value: &[u8]) -> Result<()> {
        self.kv.insert(key, value)?;
        self.flusher.flush().await
    }
    async fn kv_compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool> {
        let swapped = self.kv.compare_and_swap(key, expected, Some(new))?.is_ok();
        if swapped {
            self.flusher.flush().await?;
        }
        Ok(swapped)
    }
    async fn kv_take(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let taken = self.kv.remove(key)?.map(|v| v.to_vec());
        if taken.is_some() {
            self.flusher.flush().await?;
        }
        Ok(taken)
    }
    async fn kv_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = vec![];
        for kv in self.kv.scan_prefix(prefix) {
            let (k, v) = kv?;
            out.push((String::from_utf8_lossy(&k).into_owned(), v.to_vec()));
        }
        Ok(out)
    }
    async fn lock(&self, key: &str) -> Result<LockGuard> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            // Forget locks nobody holds or waits for, so the map does not grow with every ticket.
            locks.retain(|_, l| Arc::strong_count(l) > 1);
            locks.entry(key.to_string()).or_default().clone()
        };
        Ok(LockGuard::new(lock.lock_owned().await))
    }

    async fn flush(&self) -> Result<()> {
        self.flusher.flush().await
    }
    fn flush_blocking(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }
    async fn size_bytes(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
    async fn is_healthy(&self) -> bool {
        self.db.get(b"\0ready-probe").is_ok()
    }
}

#[cfg(test)]
mod tests;
