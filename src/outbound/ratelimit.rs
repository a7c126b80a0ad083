//! A token bucket per upstream: `requests` per `per`, bursting up to `requests`. Callers wait
//! their turn rather than fail, because a rate limit we set ourselves is a pace, not an error.

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

pub struct RateLimiter {
    capacity: f64,
    per_token: Duration,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    pub fn new(requests: u32, per: Duration) -> Self {
        let requests = requests.max(1);
        RateLimiter {
            capacity: requests as f64,
            per_token: per / requests,
            state: Mutex::new((requests as f64, Instant::now())),
        }
    }

    /// Wait until one request may go out, and take its token.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut st = self.state.lock().await;
                let now = Instant::now();
                let refill = now.duration_since(st.1).as_secs_f64() / self.per_token.as_secs_f64();
                st.0 = (st.0 + refill).min(self.capacity);
                st.1 = now;
                if st.0 >= 1.0 {
                    st.0 -= 1.0;
                    return;
                }
                self.per_token.mul_f64(1.0 - st.0)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_bucket_allows_a_burst_then_paces_requests() {
        let l = RateLimiter::new(3, Duration::from_secs(3));
        let start = tokio::time::Instant::now();
        for _ in 0..3 {
            l.acquire().await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(10),
            "the burst is immediate"
        );
        l.acquire().await;
        l.acquire().await;
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(1900),
            "two more tokens take ~2 s, took {waited:?}"
        );
        assert!(waited < Duration::from_millis(2100), "{waited:?}");
    }
}
