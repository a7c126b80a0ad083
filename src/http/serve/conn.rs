//! One client connection: hyper serves it, a watchdog closes it when it overstays its phase.
//!
//! The phase is kept in a [`ConnState`] that three small pieces move forward: the socket
//! wrapper ([`Watched`]) sees the first byte of a new request, the service sees the end of the
//! headers and the answer, and the body wrapper ([`BodyWatch`]) sees the end of the body.

use super::Limits;
use axum::body::Body;
use axum::Router;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Where a connection is in its request cycle (the table in `mod.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Headers,
    Body,
    Handling,
    Idle,
}

/// One connection's phase, since when, and the means to close it from outside.
#[derive(Debug)]
pub(super) struct ConnState {
    id: u64,
    phase: Mutex<(Phase, Instant)>,
    /// Woken on every change of phase, so the watchdog recomputes its deadline.
    changed: Notify,
    /// Cancelled to close the connection at once (evicted to make room).
    evict: CancellationToken,
}

impl ConnState {
    fn new(id: u64) -> Self {
        ConnState {
            id,
            phase: Mutex::new((Phase::Headers, Instant::now())),
            changed: Notify::new(),
            evict: CancellationToken::new(),
        }
    }

    fn get(&self) -> (Phase, Instant) {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Move to `to`, when the connection is in one of `from` (an answer sent while hyper still
    /// reads a pipelined request must not undo what the reader saw, and so on).
    fn advance(&self, from: &[Phase], to: Phase) {
        let mut p = self.phase.lock().unwrap_or_else(|p| p.into_inner());
        if from.contains(&p.0) {
            *p = (to, Instant::now());
            drop(p);
            self.changed.notify_one();
        }
    }
}

/// Every open connection, for the cap's eviction.
#[derive(Debug, Default)]
pub(super) struct Registry {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Arc<ConnState>>>,
}

impl Registry {
    pub(super) fn open(&self) -> Arc<ConnState> {
        let state = Arc::new(ConnState::new(self.next.fetch_add(1, Ordering::Relaxed)));
        self.lock().insert(state.id, state.clone());
        state
    }

    pub(super) fn close(&self, state: &ConnState) {
        self.lock().remove(&state.id);
    }

    /// Close the connection that has waited longest with no request being handled (idle, or
    /// stalled in its headers); whether there was one.
    pub(super) fn evict_longest_waiting(&self) -> bool {
        let open = self.lock();
        let victim = open
            .values()
            .filter(|c| matches!(c.get().0, Phase::Headers | Phase::Idle))
            .min_by_key(|c| c.get().1);
        match victim {
            Some(c) => {
                tracing::debug!(
                    "at server.max_connections: closing the longest-waiting connection"
                );
                c.evict.cancel();
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ConnState>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Serve one connection until it ends, overstays its phase, is evicted, or shutdown began and
/// its answer in progress is sent.
pub(super) async fn run(
    stream: TcpStream,
    router: Router,
    state: Arc<ConnState>,
    limits: Limits,
    stop: CancellationToken,
) {
    let io = TokioIo::new(Watched {
        inner: stream,
        state: state.clone(),
    });
    let svc_state = state.clone();
    let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
        let (router, state) = (router.clone(), svc_state.clone());
        async move {
            state.advance(&[Phase::Headers, Phase::Idle], Phase::Body);
            let req = req.map(|body| Body::new(BodyWatch::new(body, state.clone())));
            let resp = router.oneshot(req).await;
            state.advance(&[Phase::Body, Phase::Handling], Phase::Idle);
            resp
        }
    });
    let mut builder = http1::Builder::new();
    // The watchdog keeps the header deadline; hyper's own would also cut idle keep-alives short.
    builder.keep_alive(true).header_read_timeout(None);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        let (phase, since) = state.get();
        let deadline = limits.allowed(phase).map(|d| since + d);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = state.changed.notified() => {}
            _ = state.evict.cancelled() => return,
            _ = stop.cancelled(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = sleep_until(deadline) => {
                tracing::debug!(?phase, "closing a connection that stalled");
                return;
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// The socket, noting the first byte of a request that follows an answer.
struct Watched {
    inner: TcpStream,
    state: Arc<ConnState>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.state.advance(&[Phase::Idle], Phase::Headers);
        }
        res
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A request body that moves the connection on to "handled" once it has all arrived, or once
/// the handler drops it unread.
struct BodyWatch {
    inner: Incoming,
    state: Arc<ConnState>,
}

impl BodyWatch {
    fn new(inner: Incoming, state: Arc<ConnState>) -> Self {
        if http_body::Body::is_end_stream(&inner) {
            state.advance(&[Phase::Body], Phase::Handling);
        }
        BodyWatch { inner, state }
    }
}

impl http_body::Body for BodyWatch {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let res = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(res, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.state.advance(&[Phase::Body], Phase::Handling);
        }
        res
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for BodyWatch {
    fn drop(&mut self) {
        self.state.advance(&[Phase::Body], Phase::Handling);
    }
}
