//! The worker: takes due jobs from the store, runs one step of each, records the outcome.
//!
//! A dispatcher loop leases due jobs and spawns one task per job step. Concurrency is bounded
//! globally and per connection, and a job whose connection has no free slot is simply left due
//! for the next round, so one slow or failing ticket system never holds up another.
//!
//! A step runs under its lease: the lease is renewed every third of its length while the step
//! runs, its checkpoints and its outcome are written under it (fenced, see `store`), and a step
//! whose lease is lost (this process stalled past it and another took the job over) is dropped
//! at once and records nothing. Writes to one ticket take the ticket's named lock, which holds
//! across replicas. Due times, leases and sleeps follow the shared clock, so a test that moves
//! a manual clock wakes the worker at once.

mod collect;
mod held;
mod notes;
pub mod retry;
mod start;
mod steps;

use crate::clock::Millis;
use crate::ids::{ConnectionId, JobId};
use crate::job::{Job, JobState, Outcome, TransitionError};
use crate::outbound::Retry;
use crate::runtime::{Current, Shared};
use crate::store::Hold;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::{info, instrument, warn, Instrument};

pub use notes::post_cancel_note;
pub use steps::StepError;

/// How many due jobs one dispatch round looks at.
const DUE_SCAN: usize = 10_000;
/// Bound on the job → connection memo.
const CONN_CACHE_MAX: usize = 50_000;
/// Shortest sleep between dispatch rounds, so a due job that cannot start yet is no busy loop.
const MIN_SLEEP: Duration = Duration::from_millis(5);

/// What a dispatch round did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Dispatched {
    pub started: usize,
    /// Due jobs were left waiting for a free slot.
    pub blocked: bool,
}

/// Marks a job as running in this process for as long as its task lives, panics included,
/// and wakes the dispatcher when it ends (a slot is free).
struct RunningGuard {
    worker: Arc<Worker>,
    id: JobId,
}

impl RunningGuard {
    fn new(worker: Arc<Worker>, id: JobId) -> Self {
        worker
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id);
        RunningGuard { worker, id }
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.worker
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
        self.worker.wake();
    }
}

pub struct Worker {
    current: Current,
    shared: Shared,
    /// Identifies this process's leases.
    owner: u64,
    running: Mutex<HashSet<JobId>>,
    conns: Mutex<HashMap<JobId, ConnectionId>>,
    global: Arc<Semaphore>,
    per_connection: Mutex<HashMap<ConnectionId, Arc<Semaphore>>>,
    wake: Notify,
    tasks: tokio_util::task::TaskTracker,
    alive: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("owner", &self.owner)
            .finish()
    }
}

impl Worker {
    pub fn new(current: Current, shared: Shared) -> Arc<Worker> {
        let concurrency = current.get().config.worker.concurrency;
        Arc::new(Worker {
            current,
            shared,
            owner: rand::random(),
            running: Mutex::new(HashSet::new()),
            conns: Mutex::new(HashMap::new()),
            global: Arc::new(Semaphore::new(concurrency)),
            per_connection: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            tasks: tokio_util::task::TaskTracker::new(),
            alive: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Look for due jobs now (a webhook just queued one, an admin retried one).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// This worker's id, as a job's `lease.owner` shows it: which replica holds a job.
    pub fn owner(&self) -> u64 {
        self.owner
    }

    /// Whether the dispatcher loop is running: `/readyz`.
    pub fn is_alive(&self) -> bool {
        self.alive.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Run until `shutdown`, then give steps in flight `grace` to finish; the rest are resumed
    /// at the next start.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken, grace: Duration) {
        self.alive.store(true, std::sync::atomic::Ordering::Relaxed);
        while !shutdown.is_cancelled() {
            let blocked = match self.dispatch().await {
                Ok(d) => d.blocked,
                Err(e) => {
                    warn!(error = %e, "the worker cannot read the store");
                    false
                }
            };
            let tick = self.current.get().config.worker.tick.0.max(MIN_SLEEP);
            let now = self.shared.clock.now();
            // With every slot taken, a finishing step wakes us; no point looking sooner.
            let until = match self.shared.store.next_due().await {
                _ if blocked => now.plus(tick),
                Ok(Some(at)) => at.min(now.plus(tick)).max(now.plus(MIN_SLEEP)),
                _ => now.plus(tick),
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.wake.notified() => {}
                // Another replica queued or released a job (PostgreSQL LISTEN/NOTIFY).
                _ = self.shared.store.work_arrived() => {}
                // Until the next due time on the job clock: a jump of a manual clock ends it.
                _ = self.shared.clock.sleep_until(until) => {}
                // And a look every tick of real time whatever the job clock does.
                _ = tokio::time::sleep(tick) => {}
            }
        }
        self.alive
            .store(false, std::sync::atomic::Ordering::Relaxed);
        self.tasks.close();
        if tokio::time::timeout(grace, self.tasks.wait())
            .await
            .is_err()
        {
            info!("steps still in flight at shutdown are left to resume at the next start");
        }
    }

    fn slot(&self, conn: &ConnectionId) -> Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)> {
        let per = {
            let mut map = self
                .per_connection
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let n = self.current.get().config.worker.per_connection;
            map.entry(conn.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(n)))
                .clone()
        };
        let p = per.try_acquire_owned().ok()?;
        let g = self.global.clone().try_acquire_owned().ok()?;
        Some((p, g))
    }

    /// Lease every due job that has a free slot and start its step.
    pub async fn dispatch(self: &Arc<Self>) -> crate::store::Result<Dispatched> {
        let store = &self.shared.store;
        let now = self.shared.clock.now();
        let lease = self.current.get().config.worker.lease.0;
        let mut out = Dispatched::default();
        // Look well past the oldest jobs: a backlog on one saturated connection must not hide
        // the due jobs of the others (keys only, so a long look is cheap).
        for id in store.due_jobs(now, DUE_SCAN).await? {
            if self.global.available_permits() == 0 {
                out.blocked = true;
                break;
            }
            if self.is_running(&id) {
                continue;
            }
            let Some(conn) = self.connection_of(&id).await? else {
                continue;
            };
            let Some(permits) = self.slot(&conn) else {
                out.blocked = true;
                continue;
            };
            let Some(job) = store.lease(&id, self.owner, now, now.plus(lease)).await? else {
                continue;
            };
            let running = RunningGuard::new(self.clone(), id);
            let span = tracing::info_span!("job", job_id = %id, connection = %job.connection, ticket = %job.ticket);
            self.tasks.spawn(
                async move {
                    let _permits = permits;
                    let worker = running.worker.clone();
                    // The step runs in a task of its own so that a panic (a bug) is caught here
                    // and counted as a failed attempt, not retried at once in a loop.
                    if tokio::spawn(async move { worker.step(job).await }.in_current_span())
                        .await
                        .is_err()
                    {
                        running.worker.after_panic(id).await;
                    }
                    drop(running);
                }
                .instrument(span),
            );
            out.started += 1;
        }
        Ok(out)
    }

    /// A step panicked: record it as a failed attempt with backoff (or fail the job when the
    /// phase's retry budget is used up), so the bug shows in the job's history instead of
    /// spinning.
    async fn after_panic(&self, id: JobId) {
        tracing::error!(job_id = %id, "a step panicked; this is a bug in deskbridge");
        let Ok(Some(mut job)) = self.shared.store.get(&id).await else {
            return;
        };
        if job.state().is_terminal() || job.lease.as_ref().is_none_or(|l| l.owner != self.owner) {
            return;
        }
        let err = StepError {
            retry: Retry::Transient { after: None },
            message: "the step failed unexpectedly (a bug in deskbridge; see the log)".into(),
        };
        if let Err(e) = self.on_error(&mut job, err, self.shared.clock.now()) {
            warn!(error = %e, "the panicked step's job cannot record the failure");
            return;
        }
        let now = self.shared.clock.now();
        if let Err(e) = self
            .shared
            .store
            .save_held(&mut job, now, Hold::Release)
            .await
        {
            warn!(error = %e, "the panicked step's job could not be saved");
        }
    }

    fn is_running(&self, id: &JobId) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(id)
    }

    /// A due job's connection, remembered so the dispatcher does not decode a job it cannot
    /// start yet on every round.
    async fn connection_of(&self, id: &JobId) -> crate::store::Result<Option<ConnectionId>> {
        if let Some(c) = self.conns.lock().unwrap_or_else(|p| p.into_inner()).get(id) {
            return Ok(Some(c.clone()));
        }
        let Some(job) = self.shared.store.get(id).await? else {
            return Ok(None);
        };
        let mut cache = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CONN_CACHE_MAX {
            cache.clear();
        }
        cache.insert(*id, job.connection.clone());
        Ok(Some(job.connection))
    }

    #[instrument(skip_all, fields(job_id = %job.id, state = job.state().as_str(), attempt = job.attempt() + 1))]
    async fn step(&self, mut job: Job) {
        let rt = self.current.get();
        let state = job.state();
        let started = std::time::Instant::now();
        // Writes to one ticket are serialised, across replicas too (Jira counts writes per
        // issue; notes keep their order).
        let key = format!("ticket/{}/{}", job.connection, job.ticket);
        let guard = match self.shared.store.lock(&key).await {
            Ok(g) => g,
            Err(e) => {
                warn!(error = %e, "the ticket's lock cannot be taken; the step runs later");
                let _ = self.shared.store.release(&job).await;
                return;
            }
        };
        let Some(result) = self.under_lease(&rt, &mut job).await else {
            warn!("the job's lease was lost during its step (another worker took it over); this step records nothing");
            return;
        };
        let saved = match self.settle(&mut job, result, self.shared.clock.now()) {
            Ok(outcome) => {
                self.shared
                    .metrics
                    .step(state.as_str(), outcome, started.elapsed());
                self.save(&mut job).await
            }
            Err(e) => {
                // Not even a failure can be recorded: saving the job as it is would make it due
                // at once, again and again. It stays leased and is looked at again when the
                // lease runs out.
                tracing::error!(error = %e, "the job cannot record its step (a bug in deskbridge)");
                false
            }
        };
        if saved && job.state() != state {
            self.shared.metrics.transition(job.state());
            info!(
                from = state.as_str(),
                to = job.state().as_str(),
                "job state changed"
            );
        }
        if saved && job.state() == JobState::Failed {
            notes::post_failure_note(&rt, &job).await;
        }
        drop(guard);
    }

    /// Let the job take what the step found (or its error); the metrics label of the outcome.
    fn settle(
        &self,
        job: &mut Job,
        result: Result<Outcome, StepError>,
        now: Millis,
    ) -> Result<&'static str, TransitionError> {
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(e) => return self.on_error(job, e, now),
        };
        let label = match outcome {
            Outcome::NotYet(_) => "wait",
            _ => "ok",
        };
        match job.apply(outcome, now) {
            Ok(_) => Ok(label),
            // The step reported what its state has no arrow for, or what would leave the job
            // broken: a bug, recorded as a failure where an admin looks.
            Err(e) => {
                tracing::error!(error = %e, "a step's outcome was refused (a bug in deskbridge)");
                let message = format!("the step's outcome cannot be recorded: {e}");
                self.on_error(job, StepError::permanent(message), now)
            }
        }
    }

    fn on_error(
        &self,
        job: &mut Job,
        e: StepError,
        now: Millis,
    ) -> Result<&'static str, TransitionError> {
        let retry_cfg = &self.current.get().config.worker.retry;
        let attempt = job.attempt() + 1;
        let phase = job.state().phase();
        match e.retry {
            Retry::Transient { after } => {
                let since = job.phase_since(now);
                match retry::next_try(retry_cfg, phase, since, now, attempt, after) {
                    retry::NextTry::At(wait) => {
                        warn!(error = %e.message, ?wait, "transient failure, will retry");
                        job.retry_at(now.plus(wait), now, e.message)?;
                        Ok("retry")
                    }
                    retry::NextTry::GiveUp(why) => {
                        let msg = format!("{} ({why})", e.message);
                        warn!(error = %msg, "the phase's retry budget is used up");
                        job.fail(now, msg)?;
                        Ok("failed")
                    }
                }
            }
            Retry::Permanent | Retry::Auth => {
                warn!(error = %e.message, "permanent failure");
                job.fail(now, e.message)?;
                Ok("failed")
            }
        }
    }
}
