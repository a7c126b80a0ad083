//! What a store backend implements. [`super::Store`] wraps it: it checks every job before a
//! write and prepares the record (revision, lease), so a backend only persists, indexes and
//! enforces the conditions it is given atomically.

use super::Result;
use crate::clock::Millis;
use crate::ids::JobId;
use crate::job::{Job, JobState};
use async_trait::async_trait;

/// What became of a webhook's job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job, now durable.
    Queued(JobId),
    /// The same delivery was seen before: its job.
    Duplicate(JobId),
    /// The ticket already has a live session: that job.
    Existing(JobId),
}

#[derive(Debug, Default, Clone)]
pub struct JobFilter {
    pub state: Option<JobState>,
    pub connection: Option<String>,
    pub ticket: Option<String>,
}

/// The outcome of a conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Ok,
    /// The stored revision is not the expected one.
    Conflict,
    /// The lease the write was made under is not the job's any more, or ran out.
    LeaseLost,
}

/// The lease a write claims to hold: the stored job must carry this owner and fencing
/// generation, with a lease that ends after `now`.
#[derive(Debug, Clone, Copy)]
pub struct Fence {
    pub owner: u64,
    pub fence: u64,
    pub now: Millis,
}

/// What a retention pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub jobs: usize,
    pub artifacts: usize,
}

/// A held named lock; dropping it releases the lock.
pub struct LockGuard {
    _held: Box<dyn Send + Sync>,
}

impl LockGuard {
    pub fn new(held: impl Send + Sync + 'static) -> Self {
        LockGuard {
            _held: Box::new(held),
        }
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LockGuard")
    }
}

#[async_trait]
pub trait Backend: Send + Sync + 'static {
    fn kind(&self) -> &'static str;

    async fn enqueue(&self, job: &Job) -> Result<Enqueued>;
    async fn insert_bulk(&self, jobs: &[Job]) -> Result<()>;
    async fn get(&self, id: &JobId) -> Result<Option<Job>>;
    /// Write `next` if the stored job has revision `expect_rev` and, with `fence`, still holds
    /// that lease. Indexes follow `next`; durable on return.
    async fn write(&self, next: &Job, expect_rev: u64, fence: Option<Fence>) -> Result<Written>;
    async fn lease(
        &self,
        id: &JobId,
        owner: u64,
        now: Millis,
        until: Millis,
    ) -> Result<Option<Job>>;
    async fn renew(
        &self,
        id: &JobId,
        owner: u64,
        fence: u64,
        now: Millis,
        until: Millis,
    ) -> Result<bool>;
    async fn release(&self, id: &JobId, owner: u64, fence: u64) -> Result<()>;
    async fn ticket_holder(&self, connection: &str, ticket: &str) -> Result<Option<JobId>>;
    async fn due_jobs(&self, now: Millis, limit: usize) -> Result<Vec<JobId>>;
    async fn next_due(&self) -> Result<Option<Millis>>;
    /// Resolves when another process signals new work; pending forever where none can.
    async fn work_arrived(&self);
    async fn list(
        &self,
        f: &JobFilter,
        after: Option<JobId>,
        limit: usize,
    ) -> Result<(Vec<Job>, Option<JobId>)>;
    async fn count_by_state(&self) -> Result<Vec<(JobState, usize)>>;
    async fn attached_on_ticket(&self, conn: &str, ticket: &str) -> Result<Vec<serde_json::Value>>;

    async fn put_artifact(&self, job: &JobId, name: &str, bytes: &[u8]) -> Result<()>;
    async fn get_artifact(&self, job: &JobId, name: &str) -> Result<Option<Vec<u8>>>;
    async fn purge(&self, jobs_before: Millis, artifacts_before: Millis) -> Result<Purged>;

    async fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    async fn kv_put(&self, key: &str, value: &[u8]) -> Result<()>;
    async fn kv_compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool>;
    async fn kv_take(&self, key: &str) -> Result<Option<Vec<u8>>>;
    async fn kv_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>>;
    async fn lock(&self, key: &str) -> Result<LockGuard>;

    async fn flush(&self) -> Result<()>;
    fn flush_blocking(&self) -> Result<()>;
    async fn size_bytes(&self) -> u64;
    async fn is_healthy(&self) -> bool;
}

/// Whether `stored` still holds the lease `f` claims (same owner and generation, not run out).
pub fn holds(stored: &Job, f: &Fence) -> bool {
    stored.fence == f.fence
        && stored
            .lease
            .as_ref()
            .is_some_and(|l| l.owner == f.owner && l.until > f.now)
}

/// `next` as it should be stored over `old`: a checkpoint that keeps its lease keeps the
/// lease's latest end too (renewals move it in the store, not in the step's copy of the job).
pub fn with_latest_lease(next: &Job, old: &Job) -> Job {
    let mut next = next.clone();
    if let (Some(n), Some(o)) = (&mut next.lease, &old.lease) {
        if n.owner == o.owner && next.fence == old.fence {
            n.until = n.until.max(o.until);
        }
    }
    next
}

/// Whether a job may be leased at `now`: live, due, and not held under a running lease.
pub fn leasable(job: &Job, now: Millis) -> bool {
    !job.state().is_terminal()
        && job.due_at() <= now
        && job.lease.as_ref().is_none_or(|l| l.until <= now)
}

/// Whether a job has ended with every artifact on its ticket: its stored copies are then only
/// kept for the admin's download, until `retention.local_artifacts`.
pub fn artifacts_settled(job: &Job) -> bool {
    job.state().is_terminal() && job.artifacts.iter().all(|a| a.attached.is_some())
}
