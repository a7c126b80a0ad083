//! How long to wait before the next attempt: exponential backoff with ±25 % jitter, or the
//! upstream's `Retry-After` when it gave one and it is longer; and whether to try again at all:
//! transient failures are retried until the time budget of the job's phase runs out (short
//! while the agent waits for the link, long while the artifacts are collected), not for a
//! count of attempts. Pure, so it is tested without clocks.
//!
//! (The `backoff` crate drives in-process retry loops; our retries are durable due times in the
//! store, so the schedule is a function of the attempt number instead.)

use crate::clock::Millis;
use crate::config::RetryConfig;
use crate::job::Phase;
use std::time::Duration;

/// Longest `Retry-After` honoured; past it the upstream is treated as down for that long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// Delay before attempt `attempt + 1` (attempt counts from 1). `jitter` is in [0, 1).
pub fn delay(
    cfg: &RetryConfig,
    attempt: u32,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Duration {
    let exp = 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
    let base = cfg.base.0.as_secs_f64() * exp;
    let capped = base.min(cfg.max.0.as_secs_f64());
    let factor = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
    let backoff = Duration::from_secs_f64(capped * factor);
    // Never sooner than the upstream asked, nor sooner than backoff would wait: a
    // `Retry-After: 0` (or a date in the past) must not burn every attempt in milliseconds.
    match retry_after {
        Some(after) => after.min(MAX_RETRY_AFTER).max(backoff),
        None => backoff,
    }
}

/// How long transient failures are retried in `phase`, counted from when the job entered it.
pub fn budget(cfg: &RetryConfig, phase: Phase) -> (Duration, &'static str) {
    match phase {
        Phase::Link => (cfg.link_budget.0, "worker.retry.link_budget"),
        Phase::Wait | Phase::Artifacts | Phase::Ended => {
            (cfg.artifacts_budget.0, "worker.retry.artifacts_budget")
        }
    }
}

/// What to do after a transient failure.
#[derive(Debug, Clone, PartialEq)]
pub enum NextTry {
    /// Try again after this long.
    At(Duration),
    /// The phase's budget is used up: why, for the job's error.
    GiveUp(String),
}

/// After transient failure number `attempt` of a step in `phase`, entered at `since`.
pub fn next_try(
    cfg: &RetryConfig,
    phase: Phase,
    since: Millis,
    now: Millis,
    attempt: u32,
    retry_after: Option<Duration>,
) -> NextTry {
    let (budget, key) = budget(cfg, phase);
    let spent = now.since(since);
    if spent >= budget {
        return NextTry::GiveUp(format!(
            "gave up after {} of retries in the {} phase, {attempt} attempts at this step; {key} = {}",
            humantime::format_duration(round(spent)),
            phase.as_str(),
            humantime::format_duration(budget)
        ));
    }
    // No wait longer than a twentieth of the budget (give or take the jitter): a phase always
    // gets a score of tries, and
    // the agent waiting for the link sees one every few seconds to a minute, not every 5 minutes.
    let capped = RetryConfig {
        max: crate::config::Dur(cfg.max.0.min(budget / 20)),
        ..cfg.clone()
    };
    NextTry::At(delay(&capped, attempt, retry_after, rand::random()))
}

fn round(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Dur;

    fn cfg() -> RetryConfig {
        RetryConfig {
            base: Dur::secs(2),
            max: Dur::secs(60),
            link_budget: Dur::secs(600),
            artifacts_budget: Dur::secs(3 * 86_400),
            attempts: None,
        }
    }

    #[test]
    fn transient_failures_are_retried_until_the_phases_budget_not_a_count() {
        let t0 = Millis::from_unix_secs(1_000_000);
        let at = |s: u64| t0.plus(Duration::from_secs(s));
        // The 50th failure nine minutes into the link phase is still retried...
        assert!(matches!(
            next_try(&cfg(), Phase::Link, t0, at(540), 50, None),
            NextTry::At(_)
        ));
        // ...but not once ten minutes are spent, however few attempts.
        let NextTry::GiveUp(why) = next_try(&cfg(), Phase::Link, t0, at(600), 2, None) else {
            panic!("retried past the link budget")
        };
        assert!(
            why.contains("worker.retry.link_budget") && why.contains("10m"),
            "{why}"
        );
        // Waits within the link phase stay short: a twentieth of its budget at most.
        let NextTry::At(wait) = next_try(&cfg(), Phase::Link, t0, at(300), 20, None) else {
            panic!()
        };
        assert!(wait <= Duration::from_millis(37_500), "{wait:?}");
        // Collecting after a day-long outage: still retried.
        assert!(matches!(
            next_try(&cfg(), Phase::Artifacts, t0, at(86_400 + 1), 300, None),
            NextTry::At(_)
        ));
        assert!(matches!(
            next_try(&cfg(), Phase::Artifacts, t0, at(3 * 86_400), 300, None),
            NextTry::GiveUp(_)
        ));
    }

    #[test]
    fn backoff_doubles_per_attempt_up_to_the_cap() {
        let d: Vec<u64> = (1..=7)
            .map(|a| delay(&cfg(), a, None, 0.5).as_secs())
            .collect();
        assert_eq!(d, vec![2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn jitter_stays_within_a_quarter_either_way() {
        assert_eq!(delay(&cfg(), 3, None, 0.0), Duration::from_secs(6));
        assert!(delay(&cfg(), 3, None, 0.999) < Duration::from_secs(10));
        assert!(delay(&cfg(), 3, None, 0.999) > Duration::from_millis(9_900));
    }

    #[test]
    fn a_zero_retry_after_still_backs_off() {
        assert_eq!(
            delay(&cfg(), 3, Some(Duration::ZERO), 0.0),
            Duration::from_secs(6)
        );
    }

    #[test]
    fn a_retry_after_is_honoured_as_given_within_a_bound() {
        assert_eq!(
            delay(&cfg(), 1, Some(Duration::from_secs(90)), 0.5),
            Duration::from_secs(90)
        );
        assert_eq!(
            delay(&cfg(), 1, Some(Duration::from_secs(999_999)), 0.5),
            MAX_RETRY_AFTER
        );
    }
}
