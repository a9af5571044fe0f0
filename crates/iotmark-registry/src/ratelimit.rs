//! Rate limits for the write endpoints: a token bucket per key (an organisation for
//! submissions, a client address for public vulnerability reports). A refused request gets
//! `429 Too Many Requests` with `Retry-After`, and changes nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The registry's limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Submissions per second per organisation, sustained.
    pub submissions_per_second: f64,
    /// How many submissions an organisation may send at once.
    pub submission_burst: f64,
    /// Vulnerability reports per hour per client address, sustained.
    pub reports_per_hour: f64,
    pub report_burst: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // Generous: a lab uploading a season's certificates should not wait.
            submissions_per_second: 2_000.0,
            submission_burst: 4_000.0,
            reports_per_hour: 30.0,
            report_burst: 5.0,
        }
    }
}

/// Token buckets by key.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets idle this long are full again and can be forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Past this many keys, full buckets are swept before adding another.
const SWEEP_AT: usize = 100_000;

impl RateLimiter {
    pub fn new(per_second: f64, burst: f64) -> Self {
        RateLimiter {
            per_second,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`, or says how long to wait for one.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= SWEEP_AT && !buckets.contains_key(key) {
            buckets.retain(|_, b| now.duration_since(b.at) < FORGET_AFTER);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.per_second;
            Err(Duration::from_secs_f64(wait.max(0.001)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_sustained_rate_per_key() {
        let limiter = RateLimiter::new(2.0, 3.0);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_at("a", t0), Ok(()));
        }
        let wait = limiter.check_at("a", t0).unwrap_err();
        assert!(wait > Duration::from_millis(400) && wait <= Duration::from_millis(500));
        // Another key has its own bucket.
        assert_eq!(limiter.check_at("b", t0), Ok(()));
        // Half a second later one token is back, and only one.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(limiter.check_at("a", t1), Ok(()));
        assert!(limiter.check_at("a", t1).is_err());
        // Long idle: the bucket is full, not more.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limiter.check_at("a", t2), Ok(()));
        }
        assert!(limiter.check_at("a", t2).is_err());
    }
}
