//! The durable store: one async seam ([`Store`]) with two backends behind it, chosen by
//! `[store] kind` (SPEC §3):
//! - `sled` (default): embedded in `server.data_dir`, one process per data directory; needs
//!   nothing but the binary.
//! - `postgres`: any number of replicas share one database (SPEC §5).
//!
//! What the store keeps: jobs and their indexes (due times, states, tickets, the ticket a live
//! session holds, de-duplication keys, what was attached where), small named values (vendor
//! token pairs, OAuth states, Sunlogin claims), the artifacts of each job, and named locks that
//! hold across every process sharing the store.
//!
//! Leases: the worker leases a job for one step ([`Store::lease`]); each lease bumps the job's
//! fencing generation (`Job::fence`). Every write made under a lease ([`Store::save_held`])
//! is refused unless the stored job still carries that generation and owner and the lease has
//! not run out, so a replica whose lease lapsed records nothing. A lapsed lease is taken over
//! by the next `lease` call of any process; nothing waits for a restart.
//!
//! Every check of `Job::check` happens here, before either backend sees the job.

mod backend;
pub mod postgres;
pub mod sled;
pub mod transfer;

pub use backend::{Backend, Enqueued, JobFilter, LockGuard, Purged, Written};

use crate::clock::Millis;
use crate::ids::JobId;
use crate::job::{Job, JobState, Lease};
use std::path::Path;
use std::sync::Arc;

/// Why the store failed, and whether trying again can help ([`StoreError::retry_helps`]).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store cannot be opened at {path}: {reason}")]
    Open { path: String, reason: String },
    /// The database or the disk did not answer or refused for now: try again later.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    #[error("a stored record is corrupt: {0}")]
    Corrupt(String),
    /// A job that breaks a rule of `Job::check` (a bug): refused, so it never reaches the disk.
    #[error("refusing to store it: {0}")]
    Invalid(#[from] crate::job::Broken),
}

impl StoreError {
    /// Whether the same call may succeed later (an outage), as opposed to a record or a
    /// request that will never be accepted.
    pub fn retry_helps(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Open { .. })
    }
}

impl From<::sled::Error> for StoreError {
    fn from(e: ::sled::Error) -> Self {
        match e {
            ::sled::Error::Corruption { .. } => StoreError::Corrupt(e.to_string()),
            e => StoreError::Unavailable(e.to_string()),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. } => {
                StoreError::Corrupt(e.to_string())
            }
            _ => StoreError::Unavailable(e.to_string()),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// Someone else (an admin's cancel, say) changed the job since it was read.
    #[error("the job changed since it was read")]
    Conflict,
    /// The lease this write was made under lapsed or was taken over: nothing was recorded.
    #[error("the job's lease was lost; nothing was recorded")]
    LeaseLost,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a write made under a lease does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// A checkpoint inside a step: the job stays leased.
    Keep,
    /// The step's result: the job goes back to the queue (due at its due time).
    Release,
}

/// The `[store]` table (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    #[default]
    Sled,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.backend.kind())
    }
}

impl Store {
    /// Open the store a configuration names: sled in `data_dir`, or the PostgreSQL database
    /// (migrations applied first).
    pub async fn open(cfg: &crate::config::StoreConfig, data_dir: &Path) -> Result<Store> {
        match cfg.kind {
            Kind::Sled => Store::open_sled(data_dir),
            Kind::Postgres => {
                let url = cfg.url.as_ref().ok_or_else(|| StoreError::Open {
                    path: "store.url".into(),
                    reason: "kind = \"postgres\" needs a url".into(),
                })?;
                Store::open_postgres(url.expose(), cfg.max_connections).await
            }
        }
    }

    /// The embedded store under `dir`; every lease a previous process held is given back
    /// (sled's file lock means that process is gone).
    pub fn open_sled(dir: &Path) -> Result<Store> {
        Ok(Store {
            backend: Arc::new(sled::SledBackend::open(dir)?),
        })
    }

    /// The shared store in the PostgreSQL database at `url` (schema migrations applied).
    pub async fn open_postgres(url: &str, max_connections: u32) -> Result<Store> {
        Ok(Store {
            backend: Arc::new(postgres::PgBackend::open(url, max_connections).await?),
        })
    }

    /// "sled" or "postgres".
    pub fn kind(&self) -> &'static str {
        self.backend.kind()
    }

    /// Store a new job unless its delivery was seen before or its ticket has a live session;
    /// returns once the job is durable.
    pub async fn enqueue(&self, job: &Job) -> Result<Enqueued> {
        job.check()?;
        self.backend.enqueue(job).await
    }

    /// Write jobs as they are, indexes included (imports, benchmarks). Durable on return.
    pub async fn insert_bulk(&self, jobs: &[Job]) -> Result<()> {
        for j in jobs {
            j.check()?;
        }
        self.backend.insert_bulk(jobs).await
    }

    pub async fn get(&self, id: &JobId) -> Result<Option<Job>> {
        self.backend.get(id).await
    }

    /// A write outside any lease (the admin API): refused if the job changed since it was read
    /// (`rev`). A step still running on it then finds its own write refused.
    pub async fn save(&self, job: &mut Job) -> Result<(), SaveError> {
        self.write(job, None, Hold::Release).await
    }

    /// A write under the lease `job` was taken with, at `now`: refused unless that lease is
    /// still the job's and has not run out.
    pub async fn save_held(&self, job: &mut Job, now: Millis, hold: Hold) -> Result<(), SaveError> {
        let lease = job.lease.clone().ok_or(SaveError::LeaseLost)?;
        self.write(job, Some((lease, now)), hold).await
    }

    async fn write(
        &self,
        job: &mut Job,
        held: Option<(Lease, Millis)>,
        hold: Hold,
    ) -> Result<(), SaveError> {
        job.check().map_err(StoreError::from)?;
        let mut next = job.clone();
        next.rev += 1;
        if hold == Hold::Release || held.is_none() {
            next.lease = None;
        }
        let fence = held.map(|(lease, now)| backend::Fence {
            owner: lease.owner,
            fence: job.fence,
            now,
        });
        match self.backend.write(&next, job.rev, fence).await? {
            Written::Ok => {
                *job = next;
                Ok(())
            }
            Written::Conflict => Err(SaveError::Conflict),
            Written::LeaseLost => Err(SaveError::LeaseLost),
        }
    }

    /// Take a due job (or one whose lease ran out) for `owner` until `until`, with a new
    /// fencing generation. None when it is not due, finished, or held.
    pub async fn lease(
        &self,
        id: &JobId,
        owner: u64,
        now: Millis,
        until: Millis,
    ) -> Result<Option<Job>> {
        self.backend.lease(id, owner, now, until).await
    }

    /// Push the end of a held lease to `until`; false when the lease is no longer `job`'s.
    pub async fn renew(&self, job: &Job, now: Millis, until: Millis) -> Result<bool> {
        let Some(lease) = &job.lease else {
            return Ok(false);
        };
        self.backend
            .renew(&job.id, lease.owner, job.fence, now, until)
            .await
    }

    /// Give a held job back to the queue unchanged (shutdown, or a step that recorded nothing).
    pub async fn release(&self, job: &Job) -> Result<()> {
        let Some(lease) = &job.lease else {
            return Ok(());
        };
        self.backend.release(&job.id, lease.owner, job.fence).await
    }

    /// The job that holds the ticket now (its session may still be open), if any.
    pub async fn ticket_holder(&self, connection: &str, ticket: &str) -> Result<Option<JobId>> {
        self.backend.ticket_holder(connection, ticket).await
    }

    /// Jobs that can be leased now (due, or held under a lapsed lease), oldest due first.
    pub async fn due_jobs(&self, now: Millis, limit: usize) -> Result<Vec<JobId>> {
        self.backend.due_jobs(now, limit).await
    }

    /// When the next job becomes due (or a held one's lease runs out), for the worker's sleep.
    pub async fn next_due(&self) -> Result<Option<Millis>> {
        self.backend.next_due().await
    }

    /// Resolves when another process may have queued work (PostgreSQL LISTEN/NOTIFY); never
    /// for sled, where the webhook handler wakes the worker itself.
    pub async fn work_arrived(&self) {
        self.backend.work_arrived().await
    }

    /// Jobs newest first, filtered, `limit` at a time; `after` is the last id of the previous page.
    pub async fn list(
        &self,
        f: &JobFilter,
        after: Option<JobId>,
        limit: usize,
    ) -> Result<(Vec<Job>, Option<JobId>)> {
        self.backend.list(f, after, limit).await
    }

    /// Number of jobs in each state.
    pub async fn count_by_state(&self) -> Result<Vec<(JobState, usize)>> {
        self.backend.count_by_state().await
    }

    /// Everything ever attached to a ticket by deskbridge, by file name.
    pub async fn attached_on_ticket(
        &self,
        conn: &str,
        ticket: &str,
    ) -> Result<Vec<serde_json::Value>> {
        self.backend.attached_on_ticket(conn, ticket).await
    }

    /// Keep an artifact's bytes (durably) for the job that collected it.
    pub async fn put_artifact(&self, job: &JobId, name: &str, bytes: &[u8]) -> Result<()> {
        self.backend.put_artifact(job, name, bytes).await
    }

    pub async fn get_artifact(&self, job: &JobId, name: &str) -> Result<Option<Vec<u8>>> {
        self.backend.get_artifact(job, name).await
    }

    /// Delete finished jobs last changed before `jobs_before`, and the stored artifacts of
    /// jobs whose artifacts are all attached and that last changed before `artifacts_before`.
    pub async fn purge(&self, jobs_before: Millis, artifacts_before: Millis) -> Result<Purged> {
        self.backend.purge(jobs_before, artifacts_before).await
    }

    pub async fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.backend.kv_get(key).await
    }

    pub async fn kv_put(&self, key: &str, value: &[u8]) -> Result<()> {
        self.backend.kv_put(key, value).await
    }

    /// Replace `key` only if it still holds `expected` (None = absent). False when another
    /// writer got there first: how concurrent token renewals and session claims are told apart.
    pub async fn kv_compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool> {
        self.backend.kv_compare_and_swap(key, expected, new).await
    }

    /// Remove `key`, returning what it held: taking a single-use value (an OAuth `state`) is
    /// one atomic step, so two callbacks cannot both consume it.
    pub async fn kv_take(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.backend.kv_take(key).await
    }

    /// Every key under `prefix` with its value, in key order.
    pub async fn kv_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        self.backend.kv_scan(prefix).await
    }

    /// The named lock `key`, held until the guard is dropped, by one holder among every
    /// process sharing this store (token renewals, writes to one ticket).
    pub async fn lock(&self, key: &str) -> Result<LockGuard> {
        self.backend.lock(key).await
    }

    /// Wait until everything written so far is durable (a no-op where commits are).
    pub async fn flush(&self) -> Result<()> {
        self.backend.flush().await
    }

    /// A synchronous flush, for shutdown.
    pub fn flush_blocking(&self) -> Result<()> {
        self.backend.flush_blocking()
    }

    /// Size of the store in bytes, for metrics and the retention test.
    pub async fn size_bytes(&self) -> u64 {
        self.backend.size_bytes().await
    }

    /// Whether the store answers: `/readyz`.
    pub async fn is_healthy(&self) -> bool {
        self.backend.is_healthy().await
    }
}

#[cfg(test)]
mod tests;
