//! The shared backend: PostgreSQL, for any number of replicas (SPEC §5).
//!
//! sqlx gives the connection pool, runtime-built queries (no database needed to compile) and
//! `sqlx::migrate!`, which embeds `migrations/*.sql` in the binary and applies the ones a
//! database lacks at start-up, under its own advisory lock, so replicas starting together
//! migrate once.
//!
//! What holds across replicas, and how:
//! - one job, one holder: a lease is an UPDATE of the job's row under `FOR UPDATE`, bumping
//!   its fencing generation; every write under a lease re-checks generation, owner and end in
//!   the same transaction (`jobs.rs`);
//! - one live session per ticket and one job per delivery: primary keys of `open_tickets` and
//!   `dedup`, claimed with `INSERT .. ON CONFLICT DO NOTHING`;
//! - one token renewal, one writer per ticket: named locks are session advisory locks taken
//!   on one connection kept for them (`locks.rs`);
//! - Sunlogin claims and OAuth states: compare-and-swap and take on `kv` rows;
//! - new work wakes idle replicas: `NOTIFY deskbridge_jobs` in the writing transaction, heard
//!   by a `LISTEN` task.

mod jobs;
mod locks;
pub mod scratch;

use super::backend::{Backend, Enqueued, Fence, JobFilter, LockGuard, Purged, Written};
use super::{Result, StoreError};
use crate::clock::Millis;
use crate::ids::JobId;
use crate::job::{Job, JobState};
use async_trait::async_trait;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The channel new due work is announced on.
pub(crate) const CHANNEL: &str = "deskbridge_jobs";

pub struct PgBackend {
    pool: PgPool,
    woken: Arc<Notify>,
    locks: locks::Locks,
    listener: tokio::task::JoinHandle<()>,
}

impl Drop for PgBackend {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl PgBackend {
    /// Connect, apply the migrations this database lacks, and start listening for new work.
    pub async fn open(url: &str, max_connections: u32) -> Result<PgBackend> {
        let open_err = |reason: String| StoreError::Open {
            path: "store.url".into(),
            reason,
        };
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            // sqlx's message never contains the password of the URL.
            .map_err(|e| open_err(format!("cannot connect to PostgreSQL: {e}")))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| open_err(format!("cannot apply the schema migrations: {e}")))?;
        let woken = Arc::new(Notify::new());
        let listener = tokio::spawn(listen(pool.clone(), woken.clone()));
        Ok(PgBackend {
            locks: locks::Locks::new(pool.clone()),
            pool,
            woken,
            listener,
        })
    }

    /// The pool, for the tests that look at the tables themselves.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// LISTEN for new work for as long as the store lives, reconnecting after a failure; every
/// notification (and every reconnection, which may have missed some) wakes the worker.
async fn listen(pool: PgPool, woken: Arc<Notify>) {
    loop {
        let mut l = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN for new jobs; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = l.listen(CHANNEL).await {
            tracing::warn!(error = %e, "cannot LISTEN for new jobs; trying again");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        woken.notify_one();
        while let Ok(_n) = l.recv().await {
            woken.notify_one();
        }
    }
}

#[async_trait]
impl Backend for PgBackend {
    fn kind(&self) -> &'static str {
        "postgres"
    }
    async fn enqueue(&self, job: &Job) -> Result<Enqueued> {
        jobs::enqueue(&self.pool, job).await
    }
    async fn insert_bulk(&self, jobs: &[Job]) -> Result<()> {
        jobs::insert_bulk(&self.pool, jobs).await
    }
    async fn get(&self, id: &JobId) -> Result<Option<Job>> {
        jobs::get(&self.pool, id).await
    }
    async fn write(&self, next: &Job, expect_rev: u64, fence: Option<Fence>) -> Result<Written> {
        jobs::write(&self.pool, next, expect_rev, fence).await
    }
    async fn lease(
        &self,
        id: &JobId,
        owner: u64,
        now: Millis,
        until: Millis,
    ) -> Result<Option<Job>> {
        jobs::lease(&self.pool, id, owner, now, until).await
    }
    async fn renew(
        &self,
        id: &JobId,
        owner: u64,
        fence: u64,
        now: Millis,
        until: Millis,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $4 WHERE id = $1 AND lease_owner = $2 AND fence = $3 \
             AND lease_until > $5",
        )
        .bind(id.uuid())
        .bind(owner as i64)
        .bind(fence as i64)
        .bind(until.0)
        .bind(now.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
    async fn release(&self, id: &JobId, owner: u64, fence: u64) -> Result<()> {
        jobs::release(&self.pool, id, owner, fence).await
    }
    async fn ticket_holder(&self, connection: &str, ticket: &str) -> Result<Option<JobId>> {
        let id: Option<uuid::Uuid> = sqlx::query_scalar(
            "SELECT o.job_id FROM open_tickets o JOIN jobs j ON j.id = o.job_id \
             WHERE o.connection = $1 AND o.ticket = $2",
        )
        .bind(connection)
        .bind(ticket)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(JobId::from_uuid))
    }
    async fn due_jobs(&self, now: Millis, limit: usize) -> Result<Vec<JobId>> {
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) \
             ORDER BY due_at LIMIT $2",
        )
        .bind(now.0)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(JobId::from_uuid).collect())
    }
    async fn next_due(&self) -> Result<Option<Millis>> {
        let at: Option<i64> = sqlx::query_scalar(
            "SELECT min(GREATEST(due_at, COALESCE(lease_until, 0))) FROM jobs WHERE due_at IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(at.map(Millis))
    }
    async fn work_arrived(&self) {
        self.woken.notified().await
    }
    async fn list(
        &self,
        f: &JobFilter,
        after: Option<JobId>,
        limit: usize,
    ) -> Result<(Vec<Job>, Option<JobId>)> {
        jobs::list(&self.pool, f, after, limit).await
    }
    async fn count_by_state(&self) -> Result<Vec<(JobState, usize)>> {
        let rows: Vec<(i16, i64)> =
            sqlx::query_as("SELECT state, count(*) FROM jobs GROUP BY state")
                .fetch_all(&self.pool)
                .await?;
        Ok(JobState::ALL
            .iter()
            .map(|s| {
                let n = rows.iter().find(|(c, _)| *c == s.code() as i16);
                (*s, n.map_or(0, |(_, n)| *n as usize))
            })
            .collect())
    }
    async fn attached_on_ticket(&self, conn: &str, ticket: &str) -> Result<Vec<serde_json::Value>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT record::text FROM attached WHERE connection = $1 AND ticket = $2 ORDER BY name",
        )
        .bind(conn)
        .bind(ticket)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|r| serde_json::from_str(r).ok())
            .collect())
    }

    async fn put_artifact(&self, job: &JobId, name: &str, bytes: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO artifacts (job_id, name, bytes) VALUES ($1, $2, $3) \
             ON CONFLICT (job_id, name) DO UPDATE SET bytes = EXCLUDED.bytes",
        )
        .bind(job.uuid())
        .bind(name)
        .bind(bytes)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
    async fn get_artifact(&self, job: &JobId, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("SELECT bytes FROM artifacts WHERE job_id = $1 AND name = $2")
                .bind(job.uuid())
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
    async fn purge(&self, jobs_before: Millis, artifacts_before: Millis) -> Result<Purged> {
        jobs::purge(&self.pool, jobs_before, artifacts_before).await
    }

    async fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar("SELECT value FROM kv WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }
    async fn kv_put(&self, key: &str, value: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO kv (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
    async fn kv_compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool> {
        let done = match expected {
            None => {
                sqlx::query("INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(key)
                    .bind(new)
                    .execute(&self.pool)
                    .await?
            }
            Some(old) => {
                sqlx::query("UPDATE kv SET value = $3 WHERE key = $1 AND value = $2")
                    .bind(key)
                    .bind(old)
                    .bind(new)
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }
    async fn kv_take(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("DELETE FROM kv WHERE key = $1 RETURNING value")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
    async fn kv_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        Ok(sqlx::query_as(
            "SELECT key, value FROM kv WHERE starts_with(key, $1) ORDER BY key COLLATE \"C\"",
        )
        .bind(prefix)
        .fetch_all(&self.pool)
        .await?)
    }
    async fn lock(&self, key: &str) -> Result<LockGuard> {
        self.locks.lock(key).await
    }

    /// Every commit is durable: nothing to wait for.
    async fn flush(&self) -> Result<()> {
        Ok(())
    }
    fn flush_blocking(&self) -> Result<()> {
        Ok(())
    }
    async fn size_bytes(&self) -> u64 {
        sqlx::query_scalar::<_, i64>(
            "SELECT (pg_total_relation_size('jobs') + pg_total_relation_size('artifacts') \
             + pg_total_relation_size('dedup') + pg_total_relation_size('attached') \
             + pg_total_relation_size('kv') + pg_total_relation_size('open_tickets'))::bigint",
        )
        .fetch_one(&self.pool)
        .await
        .map(|n| n.max(0) as u64)
        .unwrap_or(0)
    }
    async fn is_healthy(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}
