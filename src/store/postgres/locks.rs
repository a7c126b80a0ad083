//! Named locks across replicas: PostgreSQL session advisory locks, taken on one connection
//! kept for them, so a lock held for a whole step costs no pooled connection.
//!
//! Session locks are re-entrant for their session, so tasks of this process first queue on an
//! in-process lock of the same name; only the head of that queue asks PostgreSQL, with
//! `pg_try_advisory_lock` and a short back-off (a blocking `pg_advisory_lock` would hold the
//! shared connection for everyone). Should that connection break, PostgreSQL drops its locks;
//! the next lock opens a new one, and what the locks protect stays safe on its own (token
//! pairs are written with a compare-and-swap, job writes are fenced).

use crate::store::backend::LockGuard;
use crate::store::Result;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection, PgPool};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Shared = Arc<tokio::sync::Mutex<Option<PgConnection>>>;

pub(super) struct Locks {
    pool: PgPool,
    conn: Shared,
    local: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The advisory lock id of a name: the first 8 bytes of its SHA-256.
fn lock_id(key: &str) -> i64 {
    let d = Sha256::digest(key.as_bytes());
    i64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

async fn with_conn<T>(
    pool: &PgPool,
    shared: &Shared,
    f: impl for<'c> FnOnce(&'c mut PgConnection) -> futures_like::BoxFut<'c, sqlx::Result<T>>,
) -> Result<T> {
    let mut guard = shared.lock().await;
    if guard.is_none() {
        let opts = pool.connect_options();
        *guard = Some(PgConnection::connect_with(&opts).await?);
    }
    let conn = guard.as_mut().expect("connected above");
    match f(conn).await {
        Ok(v) => Ok(v),
        Err(e) => {
            // A broken session has lost its locks anyway; the next call opens a new one.
            tracing::warn!(error = %e, "the advisory-lock connection failed; it is opened again");
            *guard = None;
            Err(e.into())
        }
    }
}

mod futures_like {
    pub type BoxFut<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

impl Locks {
    pub(super) fn new(pool: PgPool) -> Self {
        Locks {
            pool,
            conn: Arc::new(tokio::sync::Mutex::new(None)),
            local: Mutex::new(HashMap::new()),
        }
    }

    pub(super) async fn lock(&self, key: &str) -> Result<LockGuard> {
        let local = {
            let mut map = self.local.lock().unwrap_or_else(|p| p.into_inner());
            map.retain(|_, l| Arc::strong_count(l) > 1);
            map.entry(key.to_string()).or_default().clone()
        };
        let local = local.lock_owned().await;
        let id = lock_id(key);
        let mut wait = Duration::from_millis(10);
        loop {
            let got = with_conn(&self.pool, &self.conn, move |c| {
                Box::pin(async move {
                    sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                        .bind(id)
                        .fetch_one(c)
                        .await
                })
            })
            .await?;
            if got {
                break;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_millis(200));
        }
        Ok(LockGuard::new(Held {
            id,
            pool: self.pool.clone(),
            conn: self.conn.clone(),
            local: Some(local),
        }))
    }
}

struct Held {
    id: i64,
    pool: PgPool,
    conn: Shared,
    local: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for Held {
    /// Unlock in PostgreSQL first, then let the next local waiter ask for it.
    fn drop(&mut self) {
        let (id, pool, conn, local) = (
            self.id,
            self.pool.clone(),
            self.conn.clone(),
            self.local.take(),
        );
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        rt.spawn(async move {
            let unlocked = with_conn(&pool, &conn, move |c| {
                Box::pin(async move {
                    sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1)")
                        .bind(id)
                        .fetch_one(c)
                        .await
                })
            })
            .await;
            if let Err(e) = unlocked {
                tracing::warn!(error = %e, "an advisory lock could not be released; its session is closed instead");
            }
            drop(local);
        });
    }
}
