//! Throttling discipline (graph-notes §9.2): on 429/503 wait exactly `Retry-After`, pause *all*
//! requests to the tenant meanwhile, otherwise back off exponentially; never retry early.

use std::time::Duration;

use parking_lot::Mutex;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts per request, including the first.
    pub max_attempts: u32,
    /// First back-off when the service gives no Retry-After.
    pub base_delay: Duration,
    /// Ceiling for any single wait (a larger Retry-After is still honoured up to this).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 8, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(300) }
    }
}

impl RetryPolicy {
    /// Back-off before attempt `attempt` (1-based count of failures so far).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(10);
        (self.base_delay * factor).min(self.max_delay)
    }
}

/// Statuses worth retrying: throttling and transient server errors.
pub fn is_retryable(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.signed_duration_since(chrono::Utc::now());
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// Tenant-wide pause shared by every request of one client.
#[derive(Debug, Default)]
pub struct ThrottleGate {
    until: Mutex<Option<Instant>>,
}

impl ThrottleGate {
    /// Hold every request until `now + d` (extends, never shortens, a running pause).
    pub fn pause_for(&self, d: Duration) {
        let target = Instant::now() + d;
        let mut u = self.until.lock();
        if u.is_none_or(|cur| cur < target) {
            *u = Some(target);
        }
    }

    /// Wait while a pause is in force.
    pub async fn wait(&self) {
        let until = *self.until.lock();
        if let Some(t) = until {
            tokio::time::sleep_until(t).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn backoff_grows_and_caps() {
        let p =
            RetryPolicy { max_attempts: 5, base_delay: Duration::from_millis(100), max_delay: Duration::from_secs(1) };
        assert_eq!(p.backoff(1), Duration::from_millis(100));
        assert_eq!(p.backoff(3), Duration::from_millis(400));
        assert_eq!(p.backoff(9), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn gate_holds_requests() {
        let g = ThrottleGate::default();
        g.pause_for(Duration::from_millis(80));
        g.pause_for(Duration::from_millis(10)); // a shorter pause does not cut the longer one
        let t = std::time::Instant::now();
        g.wait().await;
        assert!(t.elapsed() >= Duration::from_millis(70));
    }
}

/// A per-tenant request budget (token bucket): at most `per_minute` requests a minute on
/// average, with bursts of up to one second's worth. Microsoft budgets per app and tenant
/// (graph-notes §9.2); staying under it avoids throttling instead of recovering from it.
#[derive(Debug)]
pub struct RequestBudget {
    per_sec: f64,
    capacity: f64,
    state: Mutex<(f64, Instant)>,
}

impl RequestBudget {
    pub fn per_minute(per_minute: u32) -> Self {
        let per_sec = f64::from(per_minute.max(1)) / 60.0;
        let capacity = per_sec.max(1.0);
        Self { per_sec, capacity, state: Mutex::new((capacity, Instant::now())) }
    }

    /// Take one request from the budget, waiting until one is available.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut st = self.state.lock();
                let now = Instant::now();
                let refill = now.duration_since(st.1).as_secs_f64() * self.per_sec;
                st.0 = (st.0 + refill).min(self.capacity);
                st.1 = now;
                if st.0 >= 1.0 {
                    st.0 -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - st.0) / self.per_sec)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    #[tokio::test]
    async fn budget_spaces_requests() {
        let b = RequestBudget::per_minute(1200); // 20/s, burst 20
        let t = std::time::Instant::now();
        for _ in 0..40 {
            b.acquire().await;
        }
        // 20 from the burst, 20 more at 20/s: about one second.
        let e = t.elapsed();
        assert!(e >= Duration::from_millis(900), "{e:?}");
        assert!(e < Duration::from_secs(3), "{e:?}");
    }
}
