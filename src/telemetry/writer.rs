//! The log's way to stderr that can never stop the service (SPEC §5).
//!
//! A formatted event is handed to a bounded queue with `try_send` and written by one thread of
//! its own. When stderr is closed (the reader of the pipe has gone), the write fails and the
//! line is counted as dropped; when it is full or slow, that thread waits in `write` while the
//! queue fills, and further lines are dropped and counted at once. No task, no worker and no
//! shutdown ever waits on stderr. The count is `deskbridge_log_lines_dropped_total`.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::time::{Duration, Instant};

/// Lines waiting for stderr at most; past this, new lines are dropped.
const QUEUE: usize = 4096;

static DROPPED: AtomicU64 = AtomicU64::new(0);
static QUEUED: AtomicU64 = AtomicU64::new(0);
static DONE: AtomicU64 = AtomicU64::new(0);

/// Lines dropped since the start because stderr could not take them.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Where formatted events go: a queue in front of the stderr thread.
#[derive(Clone)]
pub struct Lines {
    tx: SyncSender<Vec<u8>>,
}

impl Lines {
    /// Start the thread that writes to stderr; `sink` is stderr in the service, a test's
    /// writer in tests.
    pub fn start(mut sink: impl Write + Send + 'static) -> Lines {
        let (tx, rx) = sync_channel::<Vec<u8>>(QUEUE);
        let spawned = std::thread::Builder::new()
            .name("deskbridge-log".into())
            .spawn(move || {
                for line in rx {
                    if sink.write_all(&line).and_then(|_| sink.flush()).is_err() {
                        DROPPED.fetch_add(1, Ordering::Relaxed);
                    }
                    DONE.fetch_add(1, Ordering::Relaxed);
                }
            });
        if spawned.is_err() {
            // No thread, no log: the queue's receiver is gone, so every line counts as dropped.
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
        Lines { tx }
    }

    /// Queue one line; never waits.
    pub fn send(&self, line: Vec<u8>) {
        match self.tx.try_send(line) {
            Ok(()) => {
                QUEUED.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Wait until the lines queued so far are written, for at most `limit` (at exit, so the last
/// lines are not lost to a healthy stderr, and a stuck one costs at most `limit`).
pub fn flush(limit: Duration) {
    let until = Instant::now() + limit;
    let target = QUEUED.load(Ordering::Relaxed);
    while DONE.load(Ordering::Relaxed) < target && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// One event as `tracing-subscriber` formats it, sent whole when it is dropped.
pub struct Line {
    buf: Vec<u8>,
    to: Lines,
}

impl Write for Line {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            self.to.send(std::mem::take(&mut self.buf));
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
    type Writer = Line;
    fn make_writer(&'a self) -> Line {
        Line {
            buf: Vec::new(),
            to: self.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink that takes nothing, like a pipe nobody reads: it blocks until released.
    struct Stuck(std::sync::mpsc::Receiver<()>);
    impl Write for Stuck {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let _ = self.0.recv();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_sink_never_holds_the_sender_and_lines_past_the_queue_are_counted() {
        let (release, stuck) = std::sync::mpsc::channel();
        let lines = Lines::start(Stuck(stuck));
        let before = dropped();
        let started = Instant::now();
        for _ in 0..QUEUE + 100 {
            lines.send(b"line\n".to_vec());
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "sending never waits"
        );
        assert!(dropped() - before >= 99, "{} dropped", dropped() - before);
        drop(release);
    }

    #[test]
    fn a_closed_sink_counts_every_line_it_refuses() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::start(Closed);
        let before = dropped();
        for _ in 0..10 {
            lines.send(b"x\n".to_vec());
        }
        flush(Duration::from_secs(2));
        assert!(dropped() - before >= 10);
    }
}
