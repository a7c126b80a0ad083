//! Group commit: many callers waiting for durability share one fsync.
//!
//! A webhook is answered 202 only after its job is on disk. With 64 concurrent senders, one
//! fsync each would serialise them all behind the disk; instead every caller that arrives while
//! a flush is running waits for the next one, which covers all of them at once. Correct because
//! each caller has finished its writes before it asks.

use super::{Result, StoreError};
use tokio::sync::{mpsc, oneshot};

type Waiter = oneshot::Sender<Result<(), String>>;

pub(super) struct Flusher {
    tx: Option<mpsc::UnboundedSender<Waiter>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Flusher {
    /// Close the channel and wait for the thread, which holds a handle on the database: once
    /// the store is dropped, its files are unlocked for the next opener.
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Flusher {
    pub(super) fn spawn(db: sled::Db) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Waiter>();
        // A plain thread: the store may be opened outside a runtime (CLI commands), and fsync
        // blocks anyway.
        let thread = std::thread::Builder::new()
            .name("store-flusher".into())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut batch = vec![first];
                    while let Ok(w) = rx.try_recv() {
                        batch.push(w);
                    }
                    let res = db.flush().map(|_| ()).map_err(|e| e.to_string());
                    for w in batch {
                        let _ = w.send(res.clone());
                    }
                }
            })
            .expect("spawn the store flusher thread");
        Flusher {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    pub(super) async fn flush(&self) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        let closed = || StoreError::Corrupt("the store flusher has stopped".into());
        self.tx
            .as_ref()
            .ok_or_else(closed)?
            .send(tx)
            .map_err(|_| closed())?;
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Io(sled::Error::Io(std::io::Error::other(e)))),
            Err(_) => Err(closed()),
        }
    }
}
