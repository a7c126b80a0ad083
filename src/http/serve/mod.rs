//! Serving HTTP/1.1 connections so that no client can hold the service: the accept loop with
//! a connection cap, and (in `conn.rs`) one task per connection with a watchdog.
//!
//! `axum::serve` keeps a connection as long as its client likes: one that sends half a request
//! line, or half a body, and stops, held its socket forever, and a few hundred of them used up
//! the process's file descriptors until probes and webhooks timed out. Here every connection is
//! always in one phase with a deadline (SPEC §4: "a client that stalls while sending headers or
//! body: the connection is closed"):
//!
//! | phase | from | closed after |
//! |---|---|---|
//! | reading headers | the connection's opening, or the first byte of its next request | `server.header_read_timeout` |
//! | reading the body | the end of the headers | `server.body_read_timeout` |
//! | handled | the body read (or none) | never: our handlers end on their own |
//! | idle keep-alive | the answer | `server.keep_alive_timeout` |
//!
//! At most `server.max_connections` connections are open. When a new one arrives at the cap, the
//! connection that has waited longest without a request being handled (idle, or stalled in its
//! headers) is closed to make room, so stalled clients can never lock out a webhook; when every
//! open connection has a request being handled, the new one waits for the first to end.

mod conn;

use crate::config::ServerConfig;
use axum::Router;
use conn::{Phase, Registry};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Descriptors kept free for the store, artifacts and outbound calls when the cap is lowered to
/// fit the process's limit.
const RESERVED_FDS: usize = 128;

/// How long connections are given to finish their answer once shutdown began.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

/// The deadlines and the cap, from `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read: Duration,
    pub body_read: Duration,
    pub keep_alive: Duration,
    pub max_connections: usize,
}

impl From<&ServerConfig> for Limits {
    fn from(s: &ServerConfig) -> Self {
        Limits {
            header_read: s.header_read_timeout.0,
            body_read: s.body_read_timeout.0,
            keep_alive: s.keep_alive_timeout.0,
            max_connections: effective_cap(s.max_connections, open_files_limit()),
        }
    }
}

impl Limits {
    /// How long a connection may stay in `phase`; `None` for no limit.
    fn allowed(&self, phase: Phase) -> Option<Duration> {
        match phase {
            Phase::Headers => Some(self.header_read),
            Phase::Body => Some(self.body_read),
            Phase::Handling => None,
            Phase::Idle => Some(self.keep_alive),
        }
    }
}

/// The configured cap, lowered (with a warning) when the process may not open that many files.
fn effective_cap(configured: usize, limit: Option<usize>) -> usize {
    match limit {
        Some(l) if configured + RESERVED_FDS > l => {
            let cap = l.saturating_sub(RESERVED_FDS).max(16);
            tracing::warn!(
                configured,
                open_files_limit = l,
                cap,
                "server.max_connections is above what the open-files limit allows; using the lower cap"
            );
            cap
        }
        _ => configured,
    }
}

/// The soft limit on open files (`ulimit -n`), where the system says (Linux `/proc`).
fn open_files_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Serve `router` on `listener` until `shutdown` resolves; then stop accepting, let answers in
/// progress finish briefly, and return.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let registry = Arc::new(Registry::default());
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let stop = CancellationToken::new();
    let tasks = TaskTracker::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors, say: wait a little instead of spinning.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                registry.evict_longest_waiting();
                tokio::select! {
                    _ = &mut shutdown => break,
                    p = slots.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                }
            }
        };
        let state = registry.open();
        let (router, registry, stop) = (router.clone(), registry.clone(), stop.clone());
        tasks.spawn(async move {
            conn::run(stream, router, state.clone(), limits, stop).await;
            registry.close(&state);
            drop(permit);
        });
    }
    // Refuse new connections at once; those open finish the answer they are giving.
    drop(listener);
    stop.cancel();
    tasks.close();
    let _ = tokio::time::timeout(CLOSE_GRACE, tasks.wait()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_under_the_open_files_limit() {
        assert_eq!(effective_cap(1024, None), 1024);
        assert_eq!(effective_cap(1024, Some(65_536)), 1024);
        assert_eq!(effective_cap(1024, Some(256)), 128);
        assert_eq!(effective_cap(1024, Some(100)), 16);
    }
}
