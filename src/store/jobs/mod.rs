//! Jobs in the store: enqueue (with de-duplication and the open-session check), lease, save,
//! list. Each function is one sled transaction over the trees it touches.

use super::keys;
use super::{Result, Store, StoreError, ATTACHED, DEDUP, DUE, JOBS, LEASED, OPEN, STATES, TICKETS};
use crate::clock::Millis;
use crate::ids::JobId;
use crate::job::{Job, JobState, Lease};
use sled::transaction::{ConflictableTransactionError as Cte, TransactionalTree};
use sled::Transactional;

/// What became of a webhook's job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job, now on disk.
    Queued(JobId),
    /// The same delivery was seen before: its job.
    Duplicate(JobId),
    /// The ticket already has a live session: that job.
    Existing(JobId),
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// Someone else (an admin's cancel, say) changed the job since it was read.
    #[error("the job changed since it was read")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Default, Clone)]
pub struct JobFilter {
    pub state: Option<JobState>,
    pub connection: Option<String>,
    pub ticket: Option<String>,
}

type Tx<'a> = &'a [TransactionalTree];
type TxResult<T> = std::result::Result<T, Cte<String>>;

fn decode(bytes: &[u8]) -> TxResult<Job> {
    serde_json::from_slice(bytes).map_err(|e| Cte::Abort(format!("job record: {e}")))
}

fn encode(job: &Job) -> Vec<u8> {
    serde_json::to_vec(job).expect("a job always serialises")
}

/// Write `job` and bring every index in line with it, given what was stored before (`old`).
fn write_job(t: Tx, job: &Job, old: Option<&Job>) -> TxResult<()> {
    let id = job.id;
    if let Some(old) = old {
        t[DUE].remove(keys::due(old.due_at(), &id))?;
        t[STATES].remove(keys::state(old.state().code(), &id))?;
    }
    t[LEASED].remove(id.as_bytes().as_slice())?;
    if !job.state().is_terminal() {
        t[DUE].insert(keys::due(job.due_at(), &id), &[])?;
    }
    t[STATES].insert(keys::state(job.state().code(), &id), &[])?;
    let open_key = keys::joined(&[job.connection.as_str(), job.ticket.as_str()]);
    let open_now = t[OPEN].get(&open_key)?;
    if !job.state().holds_ticket() {
        if open_now.as_deref() == Some(id.as_bytes().as_slice()) {
            t[OPEN].remove(open_key)?;
        }
    } else if open_now.is_none() {
        t[OPEN].insert(open_key, id.as_bytes().as_slice())?;
    }
    t[TICKETS].insert(
        keys::ticket_job(job.connection.as_str(), job.ticket.as_str(), &id),
        &[],
    )?;
    for a in &job.artifacts {
        if let Some(at) = &a.attached {
            let k = keys::joined(&[at.connection.as_str(), at.ticket.as_str(), &a.name]);
            let v = serde_json::json!({
                "job_id": id, "name": a.name, "size": a.size, "sha256": a.sha256,
                "remote_id": at.remote_id, "at": at.at,
            });
            t[ATTACHED].insert(k, serde_json::to_vec(&v).unwrap_or_default())?;
        }
    }
    t[JOBS].insert(id.as_bytes().as_slice(), encode(job))?;
    Ok(())
}

/// The enqueue transaction for a batch of new jobs: for each, in order, de-duplicate on the
/// delivery id, answer "existing" while the ticket's session is live, else write the job and
/// its indices. One transaction for the batch: sled serialises transactions process-wide, so
/// their fixed cost is paid once per batch, and every job is still created atomically with its
/// indices. Reads inside the transaction see the batch's own earlier writes, so a duplicate
/// within one batch is caught too.
pub(super) fn enqueue_batch_tx(trees: &[sled::Tree], jobs: &[Job]) -> Result<Vec<Enqueued>> {
    let outcome = trees.transaction(|t| {
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            out.push(enqueue_one(t, job)?);
        }
        Ok(out)
    })?;
    Ok(outcome)
}

fn enqueue_one(t: Tx, job: &Job) -> TxResult<Enqueued> {
    let dedup_key = job
        .event_id
        .as_ref()
        .map(|e| keys::joined(&[job.connection.as_str(), e.as_str()]));
    let open_key = keys::joined(&[job.connection.as_str(), job.ticket.as_str()]);
    if let Some(k) = &dedup_key {
        if let Some(id) = t[DEDUP].get(k)?.and_then(|v| JobId::from_slice(&v)) {
            return Ok(Enqueued::Duplicate(id));
        }
    }
    if let Some(v) = t[OPEN].get(&open_key)? {
        if let Some(open) = t[JOBS].get(&v)? {
            let open = decode(&open)?;
            if open.state().holds_ticket() {
                if let Some(k) = &dedup_key {
                    t[DEDUP].insert(k.as_slice(), open.id.as_bytes().as_slice())?;
                }
                return Ok(Enqueued::Existing(open.id));
            }
        }
    }
    if let Some(k) = &dedup_key {
        t[DEDUP].insert(k.as_slice(), job.id.as_bytes().as_slice())?;
    }
    write_job(t, job, None)?;
    Ok(Enqueued::Queued(job.id))
}

impl Store {
    /// Store a new job unless its delivery was seen before or its ticket has a live session,
    /// and return only once it is on disk (through the ingest writer, see `ingest.rs`).
    pub async fn enqueue(&self, job: &Job) -> Result<Enqueued> {
        job.check()?;
        self.inner
            .ingest
            .enqueue(job.clone())
            .await
            .map_err(|e| StoreError::Io(sled::Error::Io(std::io::Error::other(e))))
    }

    /// Write jobs as they are, indices included, without waiting for the disk: for bulk loads
    /// (benchmarks, imports). Call [`Store::flush`] afterwards.
    pub fn insert_bulk(&self, jobs: &[Job]) -> Result<()> {
        for job in jobs {
            job.check()?;
            self.inner.trees.transaction(|t| write_job(t, job, None))?;
        }
        Ok(())
    }

    pub fn get(&self, id: &JobId) -> Result<Option<Job>> {
        match self.tree(JOBS).get(id.as_bytes())? {
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("job {id}: {e}"))),
            None => Ok(None),
        }
    }

    /// Write the job's new state, refusing if it changed since it was read (`rev`) or breaks a
    /// rule of `Job::check`, and wait until it is on disk: the next step may only start once
    /// this one is recorded.
    pub async fn save(&self, job: &mut Job) -> std::result::Result<(), SaveError> {
        job.check().map_err(StoreError::from)?;
        let mut next = job.clone();
        next.rev += 1;
        next.lease = None;
        let res = self.inner.trees.transaction(|t| {
            let old = match t[JOBS].get(job.id.as_bytes())? {
                Some(v) => decode(&v)?,
                None => return Ok(false),
            };
            if old.rev != job.rev {
                return Ok(false);
            }
            write_job(t, &next, Some(&old))?;
            Ok(true)
        });
        match res {
            Ok(true) => {
                // Committed: adopt the new revision even if the flush fails, so the caller's
                // next save does not conflict with its own write.
                *job = next;
                self.flush().await?;
                Ok(())
            }
            Ok(false) => Err(SaveError::Conflict),
            Err(e) => Err(SaveError::Store(e.into())),
        }
    }

    /// The job that holds the ticket now (its session may still be open), if any.
    pub fn ticket_holder(&self, connection: &str, ticket: &str) -> Result<Option<JobId>> {
        let Some(v) = self.tree(OPEN).get(keys::joined(&[connection, ticket]))? else {
            return Ok(None);
        };
        let Some(id) = JobId::from_slice(&v) else {
            return Ok(None);
        };
        Ok(self
            .get(&id)?
            .filter(|j| j.state().holds_ticket())
            .map(|j| j.id))
    }

    /// Jobs whose due time has come, oldest due first.
    pub fn due_jobs(&self, now: Millis, limit: usize) -> Result<Vec<JobId>> {
        let mut out = Vec::new();
        for kv in self.tree(DUE).iter() {
            let (k, _) = kv?;
            match keys::due_parts(&k) {
                Some((at, _)) if at > now => break,
                Some((_, id)) => out.push(id),
                None => continue,
            }
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// When the earliest job is due, for the worker's sleep.
    pub fn next_due(&self) -> Result<Option<Millis>> {
        Ok(self
            .tree(DUE)
            .first()?
            .and_then(|(k, _)| keys::due_parts(&k))
            .map(|(at, _)| at))
    }

    /// Take a due job for `owner` until `until`. None when it is not due, finished, or held.
    pub fn lease(&self, id: &JobId, owner: u64, now: Millis, until: Millis) -> Result<Option<Job>> {
        let res = self.inner.trees.transaction(|t| {
            let Some(v) = t[JOBS].get(id.as_bytes())? else {
                return Ok(None);
            };
            let mut job = decode(&v)?;
            if job.state().is_terminal() {
                t[DUE].remove(keys::due(job.due_at(), id))?;
                return Ok(None);
            }
            if job.due_at() > now || t[LEASED].get(id.as_bytes())?.is_some() {
                return Ok(None);
            }
            t[DUE].remove(keys::due(job.due_at(), id))?;
            t[LEASED].insert(id.as_bytes().as_slice(), &until.0.to_be_bytes())?;
            job.lease = Some(Lease { owner, until });
            job.rev += 1;
            t[JOBS].insert(id.as_bytes().as_slice(), encode(&job))?;
            Ok(Some(job))
        })?;
        Ok(res)
    }

    /// Give a held job back to the queue unchanged (shutdown, or a lease found expired).
    pub fn release(&self, id: &JobId) -> Result<()> {
        self.inner.trees.transaction(|t| {
            if t[LEASED].remove(id.as_bytes().as_slice())?.is_none() {
                return Ok(());
            }
            if let Some(v) = t[JOBS].get(id.as_bytes())? {
                let mut job = decode(&v)?;
                job.lease = None;
                job.rev += 1;
                if !job.state().is_terminal() {
                    t[DUE].insert(keys::due(job.due_at(), id), &[])?;
                }
                t[JOBS].insert(id.as_bytes().as_slice(), encode(&job))?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Held jobs whose lease has run out.
    pub fn expired_leases(&self, now: Millis) -> Result<Vec<JobId>> {
        let mut out = Vec::new();
        for kv in self.tree(LEASED).iter() {
            let (k, v) = kv?;
            let until = v.as_ref().try_into().map(i64::from_be_bytes).unwrap_or(0);
            if Millis(until) <= now {
                out.extend(JobId::from_slice(&k));
            }
        }
        Ok(out)
    }

    /// At open: the previous process is gone (sled holds a file lock), so its leases are void.
    pub(super) fn recover_leases(&self) -> Result<()> {
        let held: Vec<JobId> = self
            .tree(LEASED)
            .iter()
            .keys()
            .filter_map(|k| k.ok().and_then(|k| JobId::from_slice(&k)))
            .collect();
        for id in held {
            self.release(&id)?;
        }
        Ok(())
    }

    /// Jobs newest first, filtered, `limit` at a time; `after` is the last id of the previous page.
    pub fn list(
        &self,
        f: &JobFilter,
        after: Option<JobId>,
        limit: usize,
    ) -> Result<(Vec<Job>, Option<JobId>)> {
        // Each index key ends in a job id; a key that does not is skipped (None), never guessed.
        let ids: Box<dyn Iterator<Item = sled::Result<Option<JobId>>>> =
            match (&f.connection, &f.ticket, f.state) {
                (Some(c), Some(t), _) => {
                    let p = keys::prefix(&[c, t]);
                    let n = p.len();
                    Box::new(
                        self.tree(TICKETS)
                            .scan_prefix(p)
                            .keys()
                            .rev()
                            .map(move |k| k.map(|k| JobId::from_slice(&k[n..]))),
                    )
                }
                (_, _, Some(s)) => Box::new(
                    self.tree(STATES)
                        .scan_prefix([s.code()])
                        .keys()
                        .rev()
                        .map(|k| k.map(|k| JobId::from_slice(&k[1..]))),
                ),
                _ => Box::new(
                    self.tree(JOBS)
                        .iter()
                        .keys()
                        .rev()
                        .map(|k| k.map(|k| JobId::from_slice(&k))),
                ),
            };
        let mut out = Vec::new();
        for id in ids {
            let Some(id) = id? else { continue };
            if after.is_some_and(|a| id >= a) {
                continue;
            }
            let Some(job) = self.get(&id)? else { continue };
            if f.state.is_some_and(|s| s != job.state())
                || f.connection
                    .as_ref()
                    .is_some_and(|c| c != job.connection.as_str())
                || f.ticket.as_ref().is_some_and(|t| {
                    t != job.ticket.as_str() && Some(t) != job.ticket_number.as_ref()
                })
            {
                continue;
            }
            if out.len() == limit {
                let next = out.last().map(|j: &Job| j.id);
                return Ok((out, next));
            }
            out.push(job);
        }
        Ok((out, None))
    }

    /// Number of jobs in each state.
    pub fn count_by_state(&self) -> Vec<(JobState, usize)> {
        JobState::ALL
            .iter()
            .map(|s| (*s, self.tree(STATES).scan_prefix([s.code()]).keys().count()))
            .collect()
    }

    /// Everything ever attached to a ticket by deskbridge, by file name.
    pub fn attached_on_ticket(&self, conn: &str, ticket: &str) -> Result<Vec<serde_json::Value>> {
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
}

#[cfg(test)]
mod tests;
