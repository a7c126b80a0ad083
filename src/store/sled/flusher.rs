//! Group commit: many callers waiting for durability share one fsync.
//!
//! A webhook is answered 202 only after its job is on disk. Every caller that arrives while a
//! flush is running waits for the next one, which covers all of them at once. Correct because
//! each caller has finished its writes before it asks. Callers are either async tasks
//! ([`Flusher::flush`]) or the ingest thread, which hands over a batch's answers
//! ([`FlushHandle::after_flush`]) and goes on storing the next batch while this one is fsynced.

use crate::store::{Result, StoreError};
use std::sync::mpsc;
use tokio::sync::oneshot;

/// Something to run once everything written before it was queued is on disk.
pub(super) type Done = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A way to queue work behind the next flush; cheap to clone.
#[derive(Clone)]
pub(super) struct FlushHandle(mpsc::Sender<Done>);

impl FlushHandle {
    /// Run `done` after the next flush that starts from now on. If the flusher has stopped,
    /// `done` runs at once with an error.
    pub(super) fn after_flush(&self, done: Done) {
        if let Err(mpsc::SendError(done)) = self.0.send(done) {
            done(Err("the store flusher has stopped".into()));
        }
    }
}

pub(super) struct Flusher {
    handle: Option<FlushHandle>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Flusher {
    /// Close the channel and wait for the thread, which holds a handle on the database: once
    /// the store is dropped, its files are unlocked for the next opener.
    fn drop(&mut self) {
        self.handle.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Flusher {
    pub(super) fn spawn(db: ::sled::Db) -> Self {
        let (tx, rx) = mpsc::channel::<Done>();
        // A plain thread: the store may be opened outside a runtime (CLI commands), and fsync
        // blocks anyway.
        let thread = std::thread::Builder::new()
            .name("store-flusher".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while let Ok(w) = rx.try_recv() {
                        batch.push(w);
                    }
                    let res = db.flush().map(|_| ()).map_err(|e| e.to_string());
                    for done in batch {
                        done(res.clone());
                    }
                }
            })
            .expect("spawn the store flusher thread");
        Flusher {
            handle: Some(FlushHandle(tx)),
            thread: Some(thread),
        }
    }

    pub(super) fn handle(&self) -> FlushHandle {
        self.handle
            .clone()
            .expect("the flusher lives as long as the store")
    }

    /// Wait until everything written so far is on disk.
    pub(super) async fn flush(&self) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.handle().after_flush(Box::new(move |r| {
            let _ = tx.send(r);
        }));
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Unavailable(format!("flush failed: {e}"))),
            Err(_) => Err(StoreError::Unavailable(
                "the store flusher has stopped".into(),
            )),
        }
    }
}
