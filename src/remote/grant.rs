//! A vendor credential kept in the store (a token pair) that is renewed by one caller at a time
//! and written durably before anyone uses it.
//!
//! Both token-based vendors follow the same discipline (contracts: "persist the new pair
//! atomically, before using it; two concurrent renewals would burn it"):
//! 1. read the pair; if it is fresh, use it;
//! 2. otherwise take the slot's lock (a named lock of the store: it holds across configuration
//!    reloads, which build new adapters while old steps still run, and across every replica
//!    sharing a PostgreSQL store), read again
//!    (someone may have renewed while we waited), and renew only if it is still stale;
//! 3. write the new pair as one value with a compare-and-swap, flush it to disk, and only then
//!    hand it out.
//!
//! A renewal that the vendor applied but that never reached the disk (a crash, a timeout on
//! the answer) leaves the old pair in place; the adapter then finds its refresh token refused
//! and falls back to its own recovery (Sunlogin signs in again from the configured account).

use super::{Result, VendorError};
use crate::outbound::UpstreamError;
use crate::store::{LockGuard, Store};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::marker::PhantomData;
use std::sync::Mutex;

/// A stored value with the exact bytes it was read from (the compare-and-swap expectation).
#[derive(Clone)]
pub struct Loaded<T> {
    pub raw: Vec<u8>,
    pub value: T,
}

pub struct GrantSlot<T> {
    store: Store,
    key: String,
    /// For messages: "Sunlogin sunlogin-cn".
    what: String,
    /// The last value read or written, for status pages that cannot wait on the store.
    last: Mutex<Option<T>>,
    _t: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for GrantSlot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key names the vendor only; the value (tokens) is never printed.
        f.debug_struct("GrantSlot").field("key", &self.key).finish()
    }
}

fn store_error(what: &str, e: impl std::fmt::Display) -> VendorError {
    UpstreamError::transient(format!("{what}: the token store cannot be used: {e}")).into()
}

impl<T: Serialize + DeserializeOwned + Clone> GrantSlot<T> {
    pub fn new(store: &Store, key: String, what: String) -> Self {
        GrantSlot {
            store: store.clone(),
            key,
            what,
            last: Mutex::new(None),
            _t: PhantomData,
        }
    }

    /// The value last seen by [`GrantSlot::load`] or [`GrantSlot::replace`], if any.
    pub fn last_seen(&self) -> Option<T> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn remember(&self, value: Option<&T>) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = value.cloned();
    }

    /// The stored value. One that no longer parses (written by an older version, say) counts as
    /// absent, so the adapter starts over rather than failing every job.
    pub async fn load(&self) -> Result<Option<Loaded<T>>> {
        let Some(raw) = self
            .store
            .kv_get(&self.key)
            .await
            .map_err(|e| store_error(&self.what, e))?
        else {
            self.remember(None);
            return Ok(None);
        };
        match serde_json::from_slice::<T>(&raw) {
            Ok(value) => {
                self.remember(Some(&value));
                Ok(Some(Loaded { raw, value }))
            }
            Err(e) => {
                tracing::warn!(key = %self.key, error = %e, "a stored token pair is unreadable; it is ignored");
                Ok(None)
            }
        }
    }

    /// Hold this while deciding to renew and until the new value is stored: one holder among
    /// every process sharing the store.
    pub async fn lock(&self) -> Result<LockGuard> {
        self.store
            .lock(&self.key)
            .await
            .map_err(|e| store_error(&self.what, e))
    }

    /// Write `value` in place of `expected` (what the caller read under the lock) and wait until
    /// it is on disk. Should another writer have got there first, the value just obtained from
    /// the vendor is still the newest one issued, so it replaces whatever is there.
    pub async fn replace(&self, expected: Option<&Loaded<T>>, value: T) -> Result<Loaded<T>> {
        let raw = serde_json::to_vec(&value).map_err(|e| store_error(&self.what, e))?;
        let mut expected_raw = expected.map(|l| l.raw.clone());
        for _ in 0..3 {
            let swapped = self
                .store
                .kv_compare_and_swap(&self.key, expected_raw.as_deref(), &raw)
                .await
                .map_err(|e| store_error(&self.what, e))?;
            if swapped {
                self.remember(Some(&value));
                return Ok(Loaded { raw, value });
            }
            tracing::warn!(key = %self.key, "the stored token pair changed outside its lock; the newest pair replaces it");
            expected_raw = self
                .store
                .kv_get(&self.key)
                .await
                .map_err(|e| store_error(&self.what, e))?;
        }
        Err(store_error(
            &self.what,
            "the stored token pair keeps changing under a compare-and-swap",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Pair {
        access: String,
        n: u32,
    }

    fn slot(store: &Store) -> GrantSlot<Pair> {
        GrantSlot::new(store, "test/tokens".into(), "Test".into())
    }

    #[tokio::test]
    async fn a_replaced_pair_is_what_a_new_slot_on_the_store_loads() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sled(dir.path()).unwrap();
        let s = slot(&store);
        assert!(s.load().await.unwrap().is_none());
        let first = s
            .replace(
                None,
                Pair {
                    access: "a1".into(),
                    n: 1,
                },
            )
            .await
            .unwrap();
        s.replace(
            Some(&first),
            Pair {
                access: "a2".into(),
                n: 2,
            },
        )
        .await
        .unwrap();
        // A reload builds a new adapter, hence a new slot: it sees the pair and shares the lock.
        let again = slot(&store);
        assert_eq!(
            again.load().await.unwrap().unwrap().value,
            Pair {
                access: "a2".into(),
                n: 2
            }
        );
        let _held = s.lock().await.unwrap();
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), again.lock())
                .await
                .is_err(),
            "the lock is held through the other slot"
        );
    }

    #[tokio::test]
    async fn a_stale_expectation_still_stores_the_newest_pair() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sled(dir.path()).unwrap();
        let s = slot(&store);
        let first = s
            .replace(
                None,
                Pair {
                    access: "a1".into(),
                    n: 1,
                },
            )
            .await
            .unwrap();
        s.replace(
            Some(&first),
            Pair {
                access: "a2".into(),
                n: 2,
            },
        )
        .await
        .unwrap();
        // A writer that still expects the first pair: the pair it got from the vendor is newer.
        s.replace(
            Some(&first),
            Pair {
                access: "a3".into(),
                n: 3,
            },
        )
        .await
        .unwrap();
        assert_eq!(s.load().await.unwrap().unwrap().value.n, 3);
    }

    #[tokio::test]
    async fn an_unreadable_stored_value_counts_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sled(dir.path()).unwrap();
        store.kv_put("test/tokens", b"not json").await.unwrap();
        assert!(slot(&store).load().await.unwrap().is_none());
    }
}
