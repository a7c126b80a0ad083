//! Jobs in PostgreSQL: each operation is one transaction, with the conditions it depends on
//! (revision, fencing generation, lease end, the ticket's live job, the delivery id) checked
//! inside it, under the row's lock or a primary key.
//!
//! A row's `lease_owner`, `lease_until`, `fence` and `rev` columns are the truth; the same
//! fields inside `body` are overwritten from them when a job is read, so renewing a lease is
//! one UPDATE of a column.

use super::CHANNEL;
use crate::clock::Millis;
use crate::ids::JobId;
use crate::job::{Job, Lease};
use crate::store::backend::{self, Enqueued, Fence, JobFilter, Purged, Written};
use crate::store::{Result, StoreError};
use sqlx::{PgPool, Postgres, Row, Transaction};

type Tx<'a> = Transaction<'a, Postgres>;

const COLUMNS: &str = "body::text AS body, lease_owner, lease_until, fence, rev";

fn from_row(row: &sqlx::postgres::PgRow) -> Result<Job> {
    let body: String = row.try_get("body")?;
    let mut job: Job =
        serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("job record: {e}")))?;
    let owner: Option<i64> = row.try_get("lease_owner")?;
    let until: Option<i64> = row.try_get("lease_until")?;
    job.lease = match (owner, until) {
        (Some(o), Some(u)) => Some(Lease {
            owner: o as u64,
            until: Millis(u),
        }),
        _ => None,
    };
    job.fence = row.try_get::<i64, _>("fence")? as u64;
    job.rev = row.try_get::<i64, _>("rev")? as u64;
    Ok(job)
}

/// Write the job's row and bring the ticket's live-job and attachment records in line.
async fn put(tx: &mut Tx<'_>, job: &Job) -> Result<()> {
    let body = serde_json::to_string(job).expect("a job always serialises");
    let state = job.state();
    sqlx::query(
        "INSERT INTO jobs (id, connection, ticket, ticket_number, state, due_at, lease_owner, \
         lease_until, fence, rev, updated_at, body) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb) \
         ON CONFLICT (id) DO UPDATE SET ticket_number = EXCLUDED.ticket_number, \
         state = EXCLUDED.state, due_at = EXCLUDED.due_at, lease_owner = EXCLUDED.lease_owner, \
         lease_until = EXCLUDED.lease_until, fence = EXCLUDED.fence, rev = EXCLUDED.rev, \
         updated_at = EXCLUDED.updated_at, body = EXCLUDED.body",
    )
    .bind(job.id.uuid())
    .bind(job.connection.as_str())
    .bind(job.ticket.as_str())
    .bind(job.ticket_number.as_deref())
    .bind(state.code() as i16)
    .bind((!state.is_terminal()).then_some(job.due_at().0))
    .bind(job.lease.as_ref().map(|l| l.owner as i64))
    .bind(job.lease.as_ref().map(|l| l.until.0))
    .bind(job.fence as i64)
    .bind(job.rev as i64)
    .bind(job.updated_at().0)
    .bind(body)
    .execute(&mut **tx)
    .await?;
    let (conn, ticket) = (job.connection.as_str(), job.ticket.as_str());
    if state.holds_ticket() {
        sqlx::query(
            "INSERT INTO open_tickets (connection, ticket, job_id) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(conn)
        .bind(ticket)
        .bind(job.id.uuid())
        .execute(&mut **tx)
        .await?;
    } else {
        sqlx::query(
            "DELETE FROM open_tickets WHERE connection = $1 AND ticket = $2 AND job_id = $3",
        )
        .bind(conn)
        .bind(ticket)
        .bind(job.id.uuid())
        .execute(&mut **tx)
        .await?;
    }
    for a in &job.artifacts {
        let Some(at) = &a.attached else { continue };
        let record = serde_json::json!({
            "job_id": job.id, "name": a.name, "size": a.size, "sha256": a.sha256,
            "remote_id": at.remote_id, "at": at.at,
        });
        sqlx::query(
            "INSERT INTO attached (connection, ticket, name, job_id, record) \
             VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (connection, ticket, name) \
             DO UPDATE SET job_id = EXCLUDED.job_id, record = EXCLUDED.record",
        )
        .bind(at.connection.as_str())
        .bind(at.ticket.as_str())
        .bind(&a.name)
        .bind(job.id.uuid())
        .bind(record.to_string())
        .execute(&mut **tx)
        .await?;
    }
    if job.lease.is_none() && !state.is_terminal() {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(CHANNEL)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// De-duplicate on the delivery id, answer "existing" while the ticket has a live job, else
/// store the job: the primary keys of `dedup` and `open_tickets` decide between concurrent
/// webhooks on any replica.
pub(super) async fn enqueue(pool: &PgPool, job: &Job) -> Result<Enqueued> {
    let mut tx = pool.begin().await?;
    let conn = job.connection.as_str();
    if let Some(e) = &job.event_id {
        let claimed = sqlx::query(
            "INSERT INTO dedup (connection, event_id, job_id) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(conn)
        .bind(e.as_str())
        .bind(job.id.uuid())
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            let seen: uuid::Uuid = sqlx::query_scalar(
                "SELECT job_id FROM dedup WHERE connection = $1 AND event_id = $2",
            )
            .bind(conn)
            .bind(e.as_str())
            .fetch_one(&mut *tx)
            .await?;
            tx.rollback().await?;
            return Ok(Enqueued::Duplicate(JobId::from_uuid(seen)));
        }
    }
    let holder: Option<uuid::Uuid> = sqlx::query_scalar(
        "INSERT INTO open_tickets (connection, ticket, job_id) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING RETURNING job_id",
    )
    .bind(conn)
    .bind(job.ticket.as_str())
    .bind(job.id.uuid())
    .fetch_optional(&mut *tx)
    .await?;
    if holder.is_none() {
        let open: uuid::Uuid = sqlx::query_scalar(
            "SELECT job_id FROM open_tickets WHERE connection = $1 AND ticket = $2",
        )
        .bind(conn)
        .bind(job.ticket.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if let Some(e) = &job.event_id {
            sqlx::query("UPDATE dedup SET job_id = $3 WHERE connection = $1 AND event_id = $2")
                .bind(conn)
                .bind(e.as_str())
                .bind(open)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        return Ok(Enqueued::Existing(JobId::from_uuid(open)));
    }
    put(&mut tx, job).await?;
    tx.commit().await?;
    Ok(Enqueued::Queued(job.id))
}

pub(super) async fn insert_bulk(pool: &PgPool, jobs: &[Job]) -> Result<()> {
    for chunk in jobs.chunks(500) {
        let mut tx = pool.begin().await?;
        for job in chunk {
            put(&mut tx, job).await?;
            if let Some(e) = &job.event_id {
                sqlx::query(
                    "INSERT INTO dedup (connection, event_id, job_id) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(job.connection.as_str())
                .bind(e.as_str())
                .bind(job.id.uuid())
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

pub(super) async fn get(pool: &PgPool, id: &JobId) -> Result<Option<Job>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"))
        .bind(id.uuid())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

async fn locked(tx: &mut Tx<'_>, id: &JobId, skip_locked: bool) -> Result<Option<Job>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs WHERE id = $1 FOR UPDATE{}",
        if skip_locked { " SKIP LOCKED" } else { "" }
    );
    let row = sqlx::query(&sql)
        .bind(id.uuid())
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn write(
    pool: &PgPool,
    next: &Job,
    expect_rev: u64,
    fence: Option<Fence>,
) -> Result<Written> {
    let mut tx = pool.begin().await?;
    let Some(old) = locked(&mut tx, &next.id, false).await? else {
        return Ok(Written::Conflict);
    };
    if fence.is_some_and(|f| !backend::holds(&old, &f)) {
        return Ok(Written::LeaseLost);
    }
    if old.rev != expect_rev {
        return Ok(Written::Conflict);
    }
    put(&mut tx, &backend::with_latest_lease(next, &old)).await?;
    tx.commit().await?;
    Ok(Written::Ok)
}

pub(super) async fn lease(
    pool: &PgPool,
    id: &JobId,
    owner: u64,
    now: Millis,
    until: Millis,
) -> Result<Option<Job>> {
    let mut tx = pool.begin().await?;
    // A row another replica is leasing right now is skipped, not waited for.
    let Some(mut job) = locked(&mut tx, id, true).await? else {
        return Ok(None);
    };
    if !backend::leasable(&job, now) {
        return Ok(None);
    }
    job.lease = Some(Lease { owner, until });
    job.fence += 1;
    job.rev += 1;
    put(&mut tx, &job).await?;
    tx.commit().await?;
    Ok(Some(job))
}

pub(super) async fn release(pool: &PgPool, id: &JobId, owner: u64, fence: u64) -> Result<()> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, rev = rev + 1 \
         WHERE id = $1 AND lease_owner = $2 AND fence = $3",
    )
    .bind(id.uuid())
    .bind(owner as i64)
    .bind(fence as i64)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(CHANNEL)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn list(
    pool: &PgPool,
    f: &JobFilter,
    after: Option<JobId>,
    limit: usize,
) -> Result<(Vec<Job>, Option<JobId>)> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS}, id FROM jobs WHERE ($1::smallint IS NULL OR state = $1) \
         AND ($2::text IS NULL OR connection = $2) \
         AND ($3::text IS NULL OR ticket = $3 OR ticket_number = $3) \
         AND ($4::uuid IS NULL OR id < $4) ORDER BY id DESC LIMIT $5"
    ))
    .bind(f.state.map(|s| s.code() as i16))
    .bind(f.connection.as_deref())
    .bind(f.ticket.as_deref())
    .bind(after.map(|a| a.uuid()))
    .bind(limit as i64 + 1)
    .fetch_all(pool)
    .await?;
    let mut jobs = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    let next = if jobs.len() > limit {
        jobs.truncate(limit);
        jobs.last().map(|j| j.id)
    } else {
        None
    };
    Ok((jobs, next))
}

/// Finished jobs past `jobs_before` go with their delivery keys, attachment records and
/// artifacts; the artifacts of settled jobs past `artifacts_before` go too.
pub(super) async fn purge(
    pool: &PgPool,
    jobs_before: Millis,
    artifacts_before: Millis,
) -> Result<Purged> {
    let mut tx = pool.begin().await?;
    let gone: Vec<uuid::Uuid> = sqlx::query_scalar(
        "DELETE FROM jobs WHERE due_at IS NULL AND updated_at < $1 RETURNING id",
    )
    .bind(jobs_before.0)
    .fetch_all(&mut *tx)
    .await?;
    for table in ["dedup", "attached", "open_tickets"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE job_id = ANY($1)"))
            .bind(&gone)
            .execute(&mut *tx)
            .await?;
    }
    let mut artifacts = sqlx::query("DELETE FROM artifacts WHERE job_id = ANY($1)")
        .bind(&gone)
        .execute(&mut *tx)
        .await?
        .rows_affected() as usize;
    // Settled: ended, and every artifact has its attachment record.
    let candidates = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE id IN (SELECT DISTINCT job_id FROM artifacts) \
         AND due_at IS NULL AND updated_at < $1"
    ))
    .bind(artifacts_before.0)
    .fetch_all(&mut *tx)
    .await?;
    for row in &candidates {
        let job = from_row(row)?;
        if backend::artifacts_settled(&job) {
            artifacts += sqlx::query("DELETE FROM artifacts WHERE job_id = $1")
                .bind(job.id.uuid())
                .execute(&mut *tx)
                .await?
                .rows_affected() as usize;
        }
    }
    tx.commit().await?;
    Ok(Purged {
        jobs: gone.len(),
        artifacts,
    })
}
