//! The durable store: the only module that touches sled.
//!
//! Trees (all keys are bytes; see `keys.rs`):
//! - `jobs`: job id → job JSON. Ids are UUIDv7, so key order is creation order.
//! - `due`: due time (u64 BE) ++ job id → (): what the worker should look at next.
//! - `leased`: job id → lease end: jobs a worker holds now. At open, every entry goes back to
//!   `due`, because sled's file lock means the previous holder is gone.
//! - `dedup`: connection ++ delivery id → job id.
//! - `open`: connection ++ ticket → job id of the ticket's live session (second clicks).
//! - `tickets`: connection ++ ticket ++ job id → (): every job ever run for a ticket.
//! - `states`: state code ++ job id → (): counts and state filters without reading jobs.
//! - `attached`: connection ++ ticket ++ file name → what was attached where, by which job.
//! - `kv`: small named values (vendor token pairs, cached team ids).
//!
//! Every state change is one sled transaction over the trees it touches, and callers that answer
//! the outside world (a 202, a step that is about to call out) wait for [`Store::flush`], which
//! batches concurrent flushes into one fsync.

mod flusher;
mod ingest;
mod jobs;
mod keys;

pub use jobs::{Enqueued, JobFilter, SaveError};

use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store cannot be opened at {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: sled::Error,
    },
    #[error("the store cannot write: {0}")]
    Io(#[from] sled::Error),
    #[error("a stored record is corrupt: {0}")]
    Corrupt(String),
    /// A job that breaks a rule of `Job::check` (a bug): refused, so it never reaches the disk.
    #[error("refusing to store it: {0}")]
    Invalid(#[from] crate::job::Broken),
}

impl<E: std::fmt::Display> From<sled::transaction::TransactionError<E>> for StoreError {
    fn from(e: sled::transaction::TransactionError<E>) -> Self {
        match e {
            sled::transaction::TransactionError::Storage(e) => StoreError::Io(e),
            sled::transaction::TransactionError::Abort(e) => StoreError::Corrupt(e.to_string()),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

// Indices into `Store::trees`, which is passed whole to multi-tree transactions.
const JOBS: usize = 0;
const DUE: usize = 1;
const LEASED: usize = 2;
const DEDUP: usize = 3;
const OPEN: usize = 4;
const TICKETS: usize = 5;
const STATES: usize = 6;
const ATTACHED: usize = 7;
const TREE_NAMES: [&str; 8] = [
    "jobs", "due", "leased", "dedup", "open", "tickets", "states", "attached",
];

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    kv: sled::Tree,
    ingest: ingest::Ingest,
    flusher: flusher::Flusher,
    /// One async lock per kv key that asks for one (see [`Store::kv_lock`]).
    kv_locks: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Store {
    /// Open (or create) the store under `dir` and put back to work every job that a previous
    /// process held when it stopped.
    pub fn open(dir: &Path) -> Result<Store> {
        let db = sled::Config::new()
            .path(dir.join("store"))
            // The default 1 GiB page cache is far more than a job queue needs; this keeps RSS low.
            .cache_capacity(32 * 1024 * 1024)
            .flush_every_ms(Some(1000))
            .open()
            .map_err(|source| StoreError::Open {
                path: dir.display().to_string(),
                source,
            })?;
        let trees = TREE_NAMES
            .iter()
            .map(|n| db.open_tree(n))
            .collect::<Result<Vec<_>, _>>()?;
        let kv = db.open_tree("kv")?;
        let flusher = flusher::Flusher::spawn(db.clone());
        let ingest = ingest::Ingest::spawn(trees.clone(), flusher.handle());
        let store = Store {
            inner: Arc::new(Inner {
                db,
                trees,
                kv,
                ingest,
                flusher,
                kv_locks: Default::default(),
            }),
        };
        store.recover_leases()?;
        Ok(store)
    }

    fn tree(&self, i: usize) -> &sled::Tree {
        &self.inner.trees[i]
    }

    /// Wait until everything written so far is on disk.
    pub async fn flush(&self) -> Result<()> {
        self.inner.flusher.flush().await
    }

    /// A synchronous flush, for shutdown.
    pub fn flush_blocking(&self) -> Result<()> {
        self.inner.db.flush()?;
        Ok(())
    }

    pub fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.inner.kv.get(key)?.map(|v| v.to_vec()))
    }

    pub fn kv_put(&self, key: &str, value: &[u8]) -> Result<()> {
        self.inner.kv.insert(key, value)?;
        Ok(())
    }

    /// Replace `key` only if it still holds `expected` (None = absent). Returns false when
    /// another writer got there first: the way concurrent token renewals are told apart.
    pub fn kv_compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool> {
        Ok(self
            .inner
            .kv
            .compare_and_swap(key, expected, Some(new))?
            .is_ok())
    }

    /// Remove `key`, returning what it held: taking a single-use value (an OAuth `state`) is
    /// one atomic step, so two callbacks cannot both consume it.
    pub fn kv_take(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.inner.kv.remove(key)?.map(|v| v.to_vec()))
    }

    /// Every key under `prefix` with its value, in key order (housekeeping of short-lived values).
    pub fn kv_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = vec![];
        for kv in self.inner.kv.scan_prefix(prefix) {
            let (k, v) = kv?;
            out.push((String::from_utf8_lossy(&k).into_owned(), v.to_vec()));
        }
        Ok(out)
    }

    /// The async lock of a kv key, the same for every holder of this store. Writers that must
    /// not overlap (renewing a single-use refresh token) take it around read-call-write. It lives
    /// here, not in the adapter, because a configuration reload builds new adapters while steps
    /// on the old ones are still running; the store is the one thing they all share.
    pub fn kv_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .inner
            .kv_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        locks.entry(key.to_string()).or_default().clone()
    }

    /// Size of the store on disk, for metrics.
    pub fn size_on_disk(&self) -> u64 {
        self.inner.db.size_on_disk().unwrap_or(0)
    }

    /// Whether the store answers: `/readyz`.
    pub fn is_healthy(&self) -> bool {
        self.inner.db.get(b"\0ready-probe").is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_kv_lock_is_shared_by_every_clone_of_the_store_and_only_for_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let other = store.clone();
        let a = store.kv_lock("vendor/x/tokens");
        assert!(Arc::ptr_eq(&a, &other.kv_lock("vendor/x/tokens")));
        assert!(!Arc::ptr_eq(&a, &store.kv_lock("vendor/y/tokens")));
        let _held = a.lock().await;
        assert!(
            other.kv_lock("vendor/x/tokens").try_lock().is_err(),
            "held through the clone"
        );
        assert!(store.kv_lock("vendor/y/tokens").try_lock().is_ok());
    }

    #[test]
    fn compare_and_swap_refuses_a_stale_expectation() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.kv_compare_and_swap("k", None, b"one").unwrap());
        assert!(!store.kv_compare_and_swap("k", None, b"two").unwrap());
        assert!(store
            .kv_compare_and_swap("k", Some(b"one"), b"two")
            .unwrap());
        assert_eq!(store.kv_get("k").unwrap().as_deref(), Some(&b"two"[..]));
    }

    #[test]
    fn a_taken_value_is_gone_for_the_next_taker_and_scans_see_only_their_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.kv_put("oauth/state/a", b"1").unwrap();
        store.kv_put("oauth/state/b", b"2").unwrap();
        store.kv_put("other", b"3").unwrap();
        let keys: Vec<String> = store
            .kv_scan("oauth/state/")
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["oauth/state/a", "oauth/state/b"]);
        assert_eq!(
            store.kv_take("oauth/state/a").unwrap().as_deref(),
            Some(&b"1"[..])
        );
        assert_eq!(store.kv_take("oauth/state/a").unwrap(), None);
    }
}
