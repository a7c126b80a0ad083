//! Jobs in sled: enqueue (with de-duplication and the open-session check), lease, write,
//! list. Each function is one sled transaction over the trees it touches.

use super::keys;
use super::{SledBackend, ATTACHED, DEDUP, DUE, ENDED, JOBS, LEASED, OPEN, STATES, TICKETS};
use crate::clock::Millis;
use crate::ids::JobId;
use crate::job::{Job, Lease};
use crate::store::backend::{self, Enqueued, Fence, JobFilter, Written};
use crate::store::{Result, StoreError};
use ::sled::transaction::{ConflictableTransactionError as Cte, TransactionalTree};
use ::sled::Transactional;

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
        if old.state().is_terminal() {
            t[ENDED].remove(keys::due(old.updated_at(), &id))?;
        }
    }
    if job.state().is_terminal() {
        t[ENDED].insert(keys::due(job.updated_at(), &id), &[])?;
    }
    t[LEASED].remove(id.as_bytes().as_slice())?;
    match &job.lease {
        Some(l) => {
            t[LEASED].insert(id.as_bytes().as_slice(), &l.until.0.to_be_bytes())?;
        }
        None if !job.state().is_terminal() => {
            t[DUE].insert(keys::due(job.due_at(), &id), &[])?;
        }
        None => {}
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
pub(super) fn enqueue_batch_tx(trees: &[::sled::Tree], jobs: &[Job]) -> Result<Vec<Enqueued>> {
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

fn decode_stored(id: &JobId, v: &[u8]) -> Result<Job> {
    serde_json::from_slice(v).map_err(|e| StoreError::Corrupt(format!("job {id}: {e}")))
}

impl SledBackend {
    pub(super) fn insert_bulk_sync(&self, jobs: &[Job]) -> Result<()> {
        for job in jobs {
            self.trees.transaction(|t| {
                let old = match t[JOBS].get(job.id.as_bytes())? {
                    Some(v) => Some(decode(&v)?),
                    None => None,
                };
                write_job(t, job, old.as_ref())
            })?;
            if let Some(e) = &job.event_id {
                let k = keys::joined(&[job.connection.as_str(), e.as_str()]);
                self.tree(DEDUP).insert(k, job.id.as_bytes().as_slice())?;
            }
        }
        Ok(())
    }

    pub(super) fn get_sync(&self, id: &JobId) -> Result<Option<Job>> {
        match self.tree(JOBS).get(id.as_bytes())? {
            Some(v) => decode_stored(id, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Write `next` if the stored job has `expect_rev` and, with `fence`, still holds it.
    pub(super) fn write_sync(
        &self,
        next: &Job,
        expect_rev: u64,
        fence: Option<Fence>,
    ) -> Result<Written> {
        let res = self.trees.transaction(|t| {
            let old = match t[JOBS].get(next.id.as_bytes())? {
                Some(v) => decode(&v)?,
                None => return Ok(Written::Conflict),
            };
            if fence.is_some_and(|f| !backend::holds(&old, &f)) {
                return Ok(Written::LeaseLost);
            }
            if old.rev != expect_rev {
                return Ok(Written::Conflict);
            }
            write_job(t, &backend::with_latest_lease(next, &old), Some(&old))?;
            Ok(Written::Ok)
        })?;
        Ok(res)
    }

    /// The job that holds the ticket now (its session may still be open), if any.
    pub(super) fn ticket_holder_sync(
        &self,
        connection: &str,
        ticket: &str,
    ) -> Result<Option<JobId>> {
        let Some(v) = self.tree(OPEN).get(keys::joined(&[connection, ticket]))? else {
            return Ok(None);
        };
        let Some(id) = JobId::from_slice(&v) else {
            return Ok(None);
        };
        Ok(self
            .get_sync(&id)?
            .filter(|j| j.state().holds_ticket())
            .map(|j| j.id))
    }

    /// Held jobs whose lease has run out first, then jobs whose due time has come, oldest first.
    pub(super) fn due_jobs_sync(&self, now: Millis, limit: usize) -> Result<Vec<JobId>> {
        let mut out = Vec::new();
        for kv in self.tree(LEASED).iter() {
            let (k, v) = kv?;
            let until = v.as_ref().try_into().map(i64::from_be_bytes).unwrap_or(0);
            if Millis(until) <= now {
                out.extend(JobId::from_slice(&k));
            }
        }
        for kv in self.tree(DUE).iter() {
            if out.len() >= limit {
                break;
            }
            let (k, _) = kv?;
            match keys::due_parts(&k) {
                Some((at, _)) if at > now => break,
                Some((_, id)) => out.push(id),
                None => continue,
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    /// When the earliest job is due, or a held one's lease runs out.
    pub(super) fn next_due_sync(&self) -> Result<Option<Millis>> {
        let due = self
            .tree(DUE)
            .first()?
            .and_then(|(k, _)| keys::due_parts(&k))
            .map(|(at, _)| at);
        let mut lapse: Option<Millis> = None;
        for kv in self.tree(LEASED).iter() {
            let (_, v) = kv?;
            let until = Millis(v.as_ref().try_into().map(i64::from_be_bytes).unwrap_or(0));
            lapse = Some(lapse.map_or(until, |l| l.min(until)));
        }
        Ok(match (due, lapse) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    /// Take a due job, or one whose lease ran out, for `owner` until `until`.
    pub(super) fn lease_sync(
        &self,
        id: &JobId,
        owner: u64,
        now: Millis,
        until: Millis,
    ) -> Result<Option<Job>> {
        let res = self.trees.transaction(|t| {
            let Some(v) = t[JOBS].get(id.as_bytes())? else {
                return Ok(None);
            };
            let old = decode(&v)?;
            if old.state().is_terminal() {
                t[DUE].remove(keys::due(old.due_at(), id))?;
                return Ok(None);
            }
            if !backend::leasable(&old, now) {
                return Ok(None);
            }
            let mut job = old.clone();
            job.lease = Some(Lease { owner, until });
            job.fence += 1;
            job.rev += 1;
            write_job(t, &job, Some(&old))?;
            Ok(Some(job))
        })?;
        Ok(res)
    }

    pub(super) fn renew_sync(
        &self,
        id: &JobId,
        owner: u64,
        fence: u64,
        now: Millis,
        until: Millis,
    ) -> Result<bool> {
        let res = self.trees.transaction(|t| {
            let Some(v) = t[JOBS].get(id.as_bytes())? else {
                return Ok(false);
            };
            let mut job = decode(&v)?;
            let f = Fence { owner, fence, now };
            if !backend::holds(&job, &f) {
                return Ok(false);
            }
            let old = job.clone();
            job.lease = Some(Lease { owner, until });
            write_job(t, &job, Some(&old))?;
            Ok(true)
        })?;
        Ok(res)
    }

    /// Give a held job back to the queue unchanged; with `held`, only if that lease still is
    /// the job's.
    pub(super) fn release_sync(&self, id: &JobId, held: Option<(u64, u64)>) -> Result<()> {
        self.trees.transaction(|t| {
            let Some(v) = t[JOBS].get(id.as_bytes())? else {
                t[LEASED].remove(id.as_bytes().as_slice())?;
                return Ok(());
            };
            let old = decode(&v)?;
            let ours = match (&old.lease, held) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(l), Some((owner, fence))) => l.owner == owner && old.fence == fence,
            };
            if ours {
                let mut job = old.clone();
                job.lease = None;
                job.rev += 1;
                write_job(t, &job, Some(&old))?;
            }
            Ok(())
        })?;
        Ok(())
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
            self.release_sync(&id, None)?;
        }
        Ok(())
    }

    /// Jobs newest first, filtered, `limit` at a time; `after` is the last id of the previous page.
    pub(super) fn list_sync(
        &self,
        f: &JobFilter,
        after: Option<JobId>,
        limit: usize,
    ) -> Result<(Vec<Job>, Option<JobId>)> {
        // Each index key ends in a job id; a key that does not is skipped (None), never guessed.
        let ids: Box<dyn Iterator<Item = ::sled::Result<Option<JobId>>>> =
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
            let Some(job) = self.get_sync(&id)? else {
                continue;
            };
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
}
