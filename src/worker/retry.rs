//! How long to wait before the next attempt: exponential backoff with ±25 % jitter, or the
//! upstream's `Retry-After` when it gave one and it is longer. Pure, so it is tested without clocks.
//!
//! (The `backoff` crate drives in-process retry loops; our retries are durable due times in the
//! store, so the schedule is a function of the attempt number instead.)

use crate::config::RetryConfig;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Dur;

    fn cfg() -> RetryConfig {
        RetryConfig {
            base: Dur::secs(2),
            max: Dur::secs(60),
            attempts: 5,
        }
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
