//! `deskbridge-sim`: in-process HTTP simulators of the upstream systems deskbridge talks to
//! (ServiceNow, Jira Service Management, Zendesk, Freshservice, Splashtop, Sunlogin). Each one is
//! a real axum server on a random `127.0.0.1` port that follows the contract in
//! `shared/contracts/` closely enough that product code cannot tell it from the real service:
//! same paths, auth, payloads, error envelopes, paging and rate-limit answers. Tests and the
//! `demo` command start them, point the product at `base_url()`, inject faults through
//! [`Faults`], and inspect what the product wrote.
//!
//! This is a crate of its own and depends on nothing in deskbridge: every contract (the
//! signatures a sender computes, the payloads, the limits, the header names) is implemented here
//! again from the contracts and the integration guides, so a mistake the product makes cannot be
//! repeated by its simulator and pass unseen. The senders' signatures live in [`signature`] and
//! the system modules ([`servicenow::sign_ui_action`], [`zendesk::sign_webhook`],
//! [`jira::hub_signature`]).
//!
//! This file holds the pieces every simulator shares: binding and serving (with a shutdown that
//! also releases hung connections) and small id/time helpers.

#![forbid(unsafe_code)]

pub mod fault;
pub mod freshservice;
pub mod jira;
pub mod servicenow;
pub mod signature;
pub mod splashtop;
pub mod sunlogin;
pub mod zendesk;

pub use fault::{Fault, FaultAction, Faults, RecordedRequest};
// Per-system record types (SimTicket, SimFile, ...) share names across systems: import them
// by module path (`deskbridge_sim::zendesk::SimTicket`); only each simulator's handle is re-exported here.
pub use freshservice::FreshserviceSim;
pub use jira::{JiraSim, SimIssue, SimJiraAttachment, SimJiraComment, SimWebhook};
pub use servicenow::{JournalEntry, ServiceNowSim, SimAttachment, SimIncident};
pub use splashtop::{ChatLine, LogRow, SessionEnd, SimSession, SplashtopSim, TransferRow};
pub use sunlogin::SunloginSim;
pub use zendesk::{WebhookDelivery, ZendeskSim};

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use rand::Rng;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// A bound but not yet serving listener. Binding comes first because several simulators must
/// know their own address (links, `Location` headers) before they build their router.
pub(crate) struct Bound {
    listener: TcpListener,
    addr: SocketAddr,
}

impl Bound {
    /// Binds `127.0.0.1:0`: simulators never listen on other interfaces.
    pub(crate) async fn loopback() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("simulator: cannot bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("simulator: no local address");
        Bound { listener, addr }
    }

    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves `router` in a background task until `halt` is cancelled.
    pub(crate) fn serve(self, router: Router, halt: CancellationToken) -> Server {
        let listener = HaltableListener {
            inner: self.listener,
            halt: halt.clone(),
        };
        let signal = halt.clone().cancelled_owned();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(signal)
                .await
            {
                tracing::warn!(error = %e, "simulator server stopped with an error");
            }
        });
        Server {
            addr: self.addr,
            halt,
        }
    }
}

/// The running server owned by a simulator handle. Dropping it (when the last handle goes)
/// stops the server.
pub(crate) struct Server {
    addr: SocketAddr,
    halt: CancellationToken,
}

impl Server {
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn shutdown(&self) {
        self.halt.cancel();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.halt.cancel();
    }
}

/// Listener whose connections die when the simulator halts. axum's graceful shutdown waits for
/// every in-flight request, and an injected `Hang` never finishes on its own; failing the socket
/// lets those connections close without ever sending an answer, which is what a crashed upstream
/// looks like to the client.
struct HaltableListener {
    inner: TcpListener,
    halt: CancellationToken,
}

impl axum::serve::Listener for HaltableListener {
    type Io = HaltableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    let io = HaltableStream {
                        inner: stream,
                        halt: self.halt.clone(),
                    };
                    return (io, addr);
                }
                // Accept errors (e.g. too many open files) are transient; back off briefly.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

struct HaltableStream {
    inner: TcpStream,
    halt: CancellationToken,
}

fn halted() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "simulator halted")
}

impl AsyncRead for HaltableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.halt.is_cancelled() {
            return Poll::Ready(Err(halted()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for HaltableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.halt.is_cancelled() {
            return Poll::Ready(Err(halted()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.halt.is_cancelled() {
            return Poll::Ready(Err(halted()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// `n` random lowercase hex characters (ServiceNow sys_ids are 32 of them).
pub(crate) fn random_hex(n: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

pub(crate) fn now_utc() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// Seconds since the Unix epoch, for headers such as `X-RateLimit-Reset`.
pub(crate) fn unix_secs(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
