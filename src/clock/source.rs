//! The clock job timing runs on: webhook ingest (a job's created and due times), the worker's
//! dispatch, lease and sleep, and the steps' expiry, poll and backoff times.
//!
//! The service runs on the system clock. Tests build the app on a [`ManualClock`] and move time
//! themselves: a jump wakes whoever sleeps on the clock, so a one-hour `give_up_after` or a long
//! backoff passes at once instead of in real time. Due times are durable in the store, so a
//! jump only makes jobs due sooner; nothing is lost or run twice because time moved.

use super::Millis;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Where "now" comes from; cheap to clone, every clone reads the same time.
#[derive(Clone, Debug, Default)]
pub struct Clock(Source);

#[derive(Clone, Debug, Default)]
enum Source {
    #[default]
    System,
    Manual(Arc<Manual>),
}

impl Clock {
    /// The wall clock, as the service runs.
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    pub fn now(&self) -> Millis {
        match &self.0 {
            Source::System => Millis::now(),
            Source::Manual(m) => m.now(),
        }
    }

    /// Sleep until the clock reads `at` or later. On a manual clock this returns as soon as a
    /// jump reaches `at`, however far off it was.
    pub async fn sleep_until(&self, at: Millis) {
        match &self.0 {
            Source::System => tokio::time::sleep(at.since(Millis::now())).await,
            Source::Manual(m) => m.sleep_until(at).await,
        }
    }

    /// Sleep for `d` of this clock's time, counted from the first poll. A caller that computed
    /// its wake-up time from an earlier `now()` uses [`Clock::sleep_until`], so that a jump in
    /// between is not added on top.
    pub async fn sleep(&self, d: Duration) {
        match &self.0 {
            Source::System => tokio::time::sleep(d).await,
            Source::Manual(m) => m.sleep_until(m.now().plus(d)).await,
        }
    }
}

/// A clock a test moves by hand. Hand [`ManualClock::clock`] to the app, keep this to move it.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Manual>);

#[derive(Debug)]
struct Manual {
    /// The time at the last jump, and when (in real time) that jump happened.
    base: Mutex<(Millis, Instant)>,
    /// Whether real time passes between jumps.
    running: bool,
    /// Bumped by every jump; sleepers wait for a bump, then look at the time again.
    jumped: watch::Sender<()>,
}

impl ManualClock {
    /// A clock that stands still at `start` until it is set or advanced: fully deterministic,
    /// but every wait in the service (a poll interval too) passes only when the test moves it.
    pub fn frozen(start: Millis) -> ManualClock {
        ManualClock::build(start, false)
    }

    /// A clock that runs with real time from `start`, plus every jump the test makes: the
    /// service works as usual and the test skips only the long waits.
    pub fn running(start: Millis) -> ManualClock {
        ManualClock::build(start, true)
    }

    fn build(start: Millis, running: bool) -> ManualClock {
        ManualClock(Arc::new(Manual {
            base: Mutex::new((start, Instant::now())),
            running,
            jumped: watch::Sender::new(()),
        }))
    }

    /// The clock to build the app with.
    pub fn clock(&self) -> Clock {
        Clock(Source::Manual(self.0.clone()))
    }

    pub fn now(&self) -> Millis {
        self.0.now()
    }

    /// Move the clock forward by `d` and wake every sleeper.
    pub fn advance(&self, d: Duration) {
        let now = self.0.now();
        self.set(now.plus(d));
    }

    /// Set the clock to `at` (backwards too) and wake every sleeper.
    pub fn set(&self, at: Millis) {
        *self.0.base.lock().unwrap_or_else(|p| p.into_inner()) = (at, Instant::now());
        self.0.jumped.send_replace(());
    }
}

impl Manual {
    fn now(&self) -> Millis {
        let (at, since) = *self.base.lock().unwrap_or_else(|p| p.into_inner());
        if self.running {
            at.plus(since.elapsed())
        } else {
            at
        }
    }

    async fn sleep_until(&self, at: Millis) {
        loop {
            // Subscribe before reading the time: a jump in between is then seen as a change.
            let mut jumped = self.jumped.subscribe();
            let now = self.now();
            if now >= at {
                return;
            }
            if self.running {
                tokio::select! {
                    _ = jumped.changed() => {}
                    _ = tokio::time::sleep(at.since(now)) => {}
                }
            } else {
                // The sender lives as long as `self`, so this only returns on a jump.
                let _ = jumped.changed().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[tokio::test]
    async fn a_sleeper_on_a_frozen_clock_wakes_when_a_jump_reaches_its_time() {
        let manual = ManualClock::frozen(Millis(1_000_000));
        let clock = manual.clock();
        let sleeper = tokio::spawn(async move { clock.sleep(HOUR).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        manual.advance(Duration::from_secs(1800));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!sleeper.is_finished(), "half an hour is not an hour");
        manual.advance(Duration::from_secs(1800));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("the jump to the hour wakes the sleeper")
            .unwrap();
        assert_eq!(manual.now(), Millis(1_000_000).plus(HOUR));
    }

    #[tokio::test]
    async fn a_frozen_clock_stands_still_and_every_clone_sees_a_set() {
        let manual = ManualClock::frozen(Millis(5));
        let clock = manual.clock();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(clock.now(), Millis(5));
        manual.set(Millis(42));
        assert_eq!(clock.clone().now(), Millis(42));
    }

    #[tokio::test]
    async fn a_running_clock_moves_with_real_time_plus_its_jumps() {
        let manual = ManualClock::running(Millis(0));
        let clock = manual.clock();
        manual.advance(HOUR);
        tokio::time::timeout(
            Duration::from_secs(5),
            clock.sleep(Duration::from_millis(30)),
        )
        .await
        .expect("a short sleep passes in real time");
        assert!(clock.now() >= Millis(0).plus(HOUR + Duration::from_millis(30)));
    }

    #[tokio::test]
    async fn sleeping_until_a_time_already_past_returns_at_once() {
        let manual = ManualClock::frozen(Millis(10_000));
        tokio::time::timeout(
            Duration::from_secs(5),
            manual.clock().sleep_until(Millis(9_000)),
        )
        .await
        .unwrap();
        tokio::time::timeout(
            Duration::from_secs(5),
            Clock::system().sleep_until(Millis(0)),
        )
        .await
        .unwrap();
    }
}
