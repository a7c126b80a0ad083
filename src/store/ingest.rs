//! The ingest writer: one thread that stores new jobs in batches.
//!
//! sled runs every transaction under a process-wide exclusive lock, so concurrent webhook
//! handlers running their own transactions only queue up behind one another, and they would do
//! it on the async runtime's few threads. Instead each handler hands its job to this thread and
//! awaits the answer: the thread stores the whole batch in one transaction, flushes once, then
//! answers every sender. A 202 still means "on disk".

use super::jobs::{enqueue_batch_tx, Enqueued};
use crate::job::Job;
use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<Enqueued, String>>;

/// Most jobs stored between two flushes.
const MAX_BATCH: usize = 512;

pub(super) struct Ingest {
    tx: Option<std::sync::mpsc::Sender<(Job, Reply)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ingest {
    pub(super) fn spawn(db: sled::Db, trees: Vec<sled::Tree>) -> Self {
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
                    let results: Vec<Result<Enqueued, String>> =
                        match enqueue_batch_tx(&trees, &jobs) {
                            Ok(done) => done.into_iter().map(Ok).collect(),
                            Err(e) => jobs.iter().map(|_| Err(e.to_string())).collect(),
                        };
                    let wrote = results
                        .iter()
                        .any(|r| matches!(r, Ok(Enqueued::Queued(_)) | Ok(Enqueued::Existing(_))));
                    let flushed = if wrote {
                        db.flush().map(|_| ()).map_err(|e| e.to_string())
                    } else {
                        Ok(())
                    };
                    for (reply, result) in replies.into_iter().zip(results) {
                        let answer = match (&flushed, result) {
                            (Err(e), _) => Err(format!("flush failed: {e}")),
                            (Ok(()), r) => r,
                        };
                        let _ = reply.send(answer);
                    }
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

impl Drop for Ingest {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
