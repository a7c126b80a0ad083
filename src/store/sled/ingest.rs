//! The ingest writer: one thread that stores new jobs in batches.
//!
//! sled runs every transaction under a process-wide exclusive lock, so concurrent webhook
//! handlers running their own transactions only queue up behind one another, and they would do
//! it on the async runtime's few threads. Instead each handler hands its job to this thread and
//! awaits the answer: the thread stores the whole batch in one transaction and hands the
//! batch's answers to the flusher, which sends them after the next fsync; meanwhile this thread
//! stores the next batch. A 202 still means "on disk".

use super::flusher::FlushHandle;
use super::jobs::enqueue_batch_tx;
use crate::job::Job;
use crate::store::Enqueued;
use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<Enqueued, String>>;

/// Most jobs stored between two flushes.
const MAX_BATCH: usize = 512;

pub(super) struct Ingest {
    tx: Option<std::sync::mpsc::Sender<(Job, Reply)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ingest {
    /// `flush` is the flusher's handle: a batch's answers wait there for the fsync while this
    /// thread already stores the next batch.
    pub(super) fn spawn(trees: Vec<::sled::Tree>, flush: FlushHandle) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<(Job, Reply)>();
        let thread = std::thread::Builder::new()
            .name("store-ingest".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(item) => batch.push(item),
                            Err(_) => break,
                        }
                    }
                    let (jobs, replies): (Vec<Job>, Vec<Reply>) = batch.into_iter().unzip();
                    let results = store_batch(&trees, &jobs);
                    // Every answer, duplicates included, waits for the flush: a repeated
                    // delivery must not be told 202 before its job is on disk.
                    flush.after_flush(Box::new(move |flushed| {
                        for (reply, result) in replies.into_iter().zip(results) {
                            let answer = match &flushed {
                                Err(e) => Err(format!("flush failed: {e}")),
                                Ok(()) => result,
                            };
                            let _ = reply.send(answer);
                        }
                    }));
                }
            })
            .expect("spawn the store ingest thread");
        Ingest {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    /// Store `job` (unless de-duplicated) and return once it is on disk.
    pub(super) async fn enqueue(&self, job: Job) -> Result<Enqueued, String> {
        let (reply, answer) = oneshot::channel();
        let tx = self.tx.as_ref().ok_or("the store is closed")?;
        tx.send((job, reply))
            .map_err(|_| "the store ingest thread has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the store ingest thread has stopped".to_string())?
    }
}

/// The batch in one transaction; if that fails (a corrupt record the transaction had to read,
/// say), each job on its own, so one bad ticket cannot fail every webhook it shares a batch with.
fn store_batch(trees: &[::sled::Tree], jobs: &[Job]) -> Vec<Result<Enqueued, String>> {
    match enqueue_batch_tx(trees, jobs) {
        Ok(done) => done.into_iter().map(Ok).collect(),
        Err(_) if jobs.len() > 1 => jobs
            .iter()
            .map(|job| {
                enqueue_batch_tx(trees, std::slice::from_ref(job))
                    .map(|mut one| one.remove(0))
                    .map_err(|e| e.to_string())
            })
            .collect(),
        Err(e) => vec![Err(e.to_string())],
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::job;

    #[test]
    fn a_corrupt_record_fails_only_the_webhook_that_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::SledBackend::open(dir.path()).unwrap();
        let trees = &store.trees;
        // ticket "bad" is held by a job whose record is not JSON
        let bad_id = crate::ids::JobId::new();
        trees[super::super::OPEN]
            .insert(
                super::super::keys::joined(&["c", "bad"]),
                bad_id.as_bytes().as_slice(),
            )
            .unwrap();
        trees[super::super::JOBS]
            .insert(bad_id.as_bytes(), &b"not json"[..])
            .unwrap();
        let good = job("good", "e1");
        let out = store_batch(trees, &[job("bad", "e2"), good.clone()]);
        assert!(out[0].is_err(), "{out:?}");
        assert_eq!(out[1], Ok(Enqueued::Queued(good.id)));
    }
}
