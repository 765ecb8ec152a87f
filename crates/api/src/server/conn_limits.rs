//! Caps on open connections, in total and per client address. A connection holds a [`ConnectionPermit`] from TCP
//! accept to close (its TLS handshake included); without a permit the server closes it at once. The per-address cap
//! keeps one flooding client from taking every slot, so other clients are still served while it is at its cap.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The live connection counts and their caps.
#[derive(Debug)]
pub struct ConnectionCaps {
    max_total: usize,
    max_per_address: usize,
    counts: Mutex<Counts>,
    refusals: Mutex<RefusalLog>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `max_connections` reached.
    Total,
    /// `max_connections_per_address` reached for the client's address.
    PerAddress,
}

impl ConnectionCaps {
    /// Caps of `max_total` connections, `max_per_address` of them from one address.
    pub fn new(max_total: usize, max_per_address: usize) -> Arc<ConnectionCaps> {
        Arc::new(ConnectionCaps {
            max_total,
            max_per_address,
            counts: Mutex::new(Counts::default()),
            refusals: Mutex::new(RefusalLog::default()),
        })
    }

    /// A permit for one more connection from `peer`, or why not. Refusals are logged, at most one line per 10 s.
    pub fn try_acquire(self: &Arc<Self>, peer: IpAddr) -> Result<ConnectionPermit, Refusal> {
        let key = address_key(peer);
        let refusal = {
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            let from_key = counts.per_address.get(&key).copied().unwrap_or(0);
            if counts.total >= self.max_total {
                Refusal::Total
            } else if from_key >= self.max_per_address {
                Refusal::PerAddress
            } else {
                counts.total += 1;
                counts.per_address.insert(key, from_key + 1);
                return Ok(ConnectionPermit { caps: self.clone(), key });
            }
        };
        self.log_refusal(peer, refusal);
        Err(refusal)
    }

    /// Open connections (total, from `peer`'s address).
    pub fn open(&self, peer: IpAddr) -> (usize, usize) {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        (counts.total, counts.per_address.get(&address_key(peer)).copied().unwrap_or(0))
    }

    fn release(&self, key: IpAddr) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_address.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                counts.per_address.remove(&key);
            }
        }
    }

    fn log_refusal(&self, peer: IpAddr, refusal: Refusal) {
        let mut log = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        log.refused += 1;
        let now = Instant::now();
        if log.last_warning.is_some_and(|t| now.duration_since(t) < REFUSAL_LOG_INTERVAL) {
            tracing::debug!("connection from {peer} refused: {refusal:?} cap reached");
            return;
        }
        let what = match refusal {
            Refusal::Total => format!("max_connections ({})", self.max_total),
            Refusal::PerAddress => format!("max_connections_per_address ({})", self.max_per_address),
        };
        tracing::warn!(
            "connection from {peer} refused: {what} reached; {} connection(s) refused since the last warning",
            log.refused
        );
        log.refused = 0;
        log.last_warning = Some(now);
    }
}

/// At most one warning per interval about refused connections (a flood would otherwise flood the log).
const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
struct RefusalLog {
    last_warning: Option<Instant>,
    refused: u64,
}

/// One counted connection; released when dropped (when the connection's task ends).
#[derive(Debug)]
pub struct ConnectionPermit {
    caps: Arc<ConnectionCaps>,
    key: IpAddr,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.caps.release(self.key);
    }
}

/// The address a per-address cap counts against: IPv4 (also when IPv4-mapped) as is, IPv6 by its /64 network,
/// because one IPv6 client usually owns a whole /64.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let net = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(net))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn per_address_and_total_caps_release_on_drop() {
        let caps = ConnectionCaps::new(3, 2);
        let a1 = caps.try_acquire(ip("10.0.0.1")).unwrap();
        let _a2 = caps.try_acquire(ip("10.0.0.1")).unwrap();
        assert_eq!(caps.try_acquire(ip("10.0.0.1")).unwrap_err(), Refusal::PerAddress);
        let _b1 = caps.try_acquire(ip("10.0.0.2")).unwrap();
        assert_eq!(caps.try_acquire(ip("10.0.0.3")).unwrap_err(), Refusal::Total);
        assert_eq!(caps.open(ip("10.0.0.1")), (3, 2));
        drop(a1);
        assert_eq!(caps.open(ip("10.0.0.1")), (2, 1));
        let _a3 = caps.try_acquire(ip("10.0.0.1")).unwrap();
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let caps = ConnectionCaps::new(100, 1);
        let _p = caps.try_acquire(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(caps.try_acquire(ip("2001:db8:1:2:ffff::9")).unwrap_err(), Refusal::PerAddress);
        let _q = caps.try_acquire(ip("2001:db8:1:3::1")).unwrap();
        let _r = caps.try_acquire(ip("192.0.2.7")).unwrap();
        assert_eq!(caps.try_acquire(ip("::ffff:192.0.2.7")).unwrap_err(), Refusal::PerAddress);
    }
}
