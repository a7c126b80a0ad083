//! A vendor credential kept in the store (a token pair) that is renewed by one caller at a time
//! and written durably before anyone uses it.
//!
//! Both token-based vendors follow the same discipline (contracts: "persist the new pair
//! atomically, before using it; two concurrent renewals would burn it"):
//! 1. read the pair; if it is fresh, use it;
//! 2. otherwise take the slot's lock (it comes from the store, so it also holds across
//!    configuration reloads, which build new adapters while old steps still run), read again
//!    (someone may have renewed while we waited), and renew only if it is still stale;
//! 3. write the new pair as one value with a compare-and-swap, flush it to disk, and only then
//!    hand it out.
//!
//! A renewal that the vendor applied but that never reached the disk (a crash, a timeout on
//! the answer) leaves the old pair in place; the adapter then finds its refresh token refused
//! and falls back to its own recovery (Sunlogin signs in again from the configured account).

use super::{Result, VendorError};
use crate::outbound::UpstreamError;
use crate::store::Store;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::marker::PhantomData;
use std::sync::Arc;

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
    lock: Arc<tokio::sync::Mutex<()>>,
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

impl<T: Serialize + DeserializeOwned> GrantSlot<T> {
    pub fn new(store: &Store, key: String, what: String) -> Self {
        GrantSlot {
            lock: store.kv_lock(&key),
            store: store.clone(),
            key,
            what,
            _t: PhantomData,
        }
    }

    /// The stored value. One that no longer parses (written by an older version, say) counts as
    /// absent, so the adapter starts over rather than failing every job.
    pub fn load(&self) -> Result<Option<Loaded<T>>> {
        let Some(raw) = self
            .store
            .kv_get(&self.key)
            .map_err(|e| store_error(&self.what, e))?
        else {
            return Ok(None);
        };
        match serde_json::from_slice(&raw) {
            Ok(value) => Ok(Some(Loaded { raw, value })),
            Err(e) => {
                tracing::warn!(key = %self.key, error = %e, "a stored token pair is unreadable; it is ignored");
                Ok(None)
            }
        }
    }

    /// Hold this while deciding to renew and until the new value is stored.
    pub async fn lock(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.lock.clone().lock_owned().await
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
                .map_err(|e| store_error(&self.what, e))?;
            if swapped {
                self.store
                    .flush()
                    .await
                    .map_err(|e| store_error(&self.what, e))?;
                return Ok(Loaded { raw, value });
            }
            tracing::warn!(key = %self.key, "the stored token pair changed outside its lock; the newest pair replaces it");
            expected_raw = self
                .store
                .kv_get(&self.key)
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
        let store = Store::open(dir.path()).unwrap();
        let s = slot(&store);
        assert!(s.load().unwrap().is_none());
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
            again.load().unwrap().unwrap().value,
            Pair {
                access: "a2".into(),
                n: 2
            }
        );
        let _held = s.lock().await;
        assert!(again.lock.try_lock().is_err());
    }

    #[tokio::test]
    async fn a_stale_expectation_still_stores_the_newest_pair() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
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
        assert_eq!(s.load().unwrap().unwrap().value.n, 3);
    }

    #[tokio::test]
    async fn an_unreadable_stored_value_counts_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.kv_put("test/tokens", b"not json").unwrap();
        assert!(slot(&store).load().unwrap().is_none());
    }
}
