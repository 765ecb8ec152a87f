//! Throttling of password logons, per account name and per client address.
//!
//! After a few failed logons within [`WINDOW`], each further attempt for that name (or from that address) is refused
//! with 429 for a time that doubles with every failure ([`FIRST_LOCK`], 2 s, 4 s, … up to [`MAX_LOCK`]); no
//! password is checked while locked, so a locked guess costs no argon2 work. A successful logon clears the name's
//! count (not the address's: one valid account must not reset an address that is guessing others).
//!
//! State lives in the catalog table `api_logon_failures(subject, failures, locked_until, last_failure)` (migration
//! V2), so every node of a cluster sees the same counts. Subjects are `user:<name key>` for the name as presented
//! (also for names that do not exist, so 429 does not reveal which names do) and `addr:<ip>` for the address the TCP
//! connection came from (IPv6 by /64, the block one subscriber gets). Forwarded-for headers are ignored: anyone can
//! write them.

use std::net::{IpAddr, Ipv6Addr};

use chrono::{Duration, Utc};
use sqlx::{AnyPool, Row};

use crate::store::accounts::name_key;

/// Failed logons of one name tolerated within [`WINDOW`] before it is locked: enough for a few typos, too few for
/// guessing (with the doubling lock a guesser gets about 15 tries in the first half hour, then 4 an hour).
pub const ACCOUNT_FREE_FAILURES: i64 = 5;
/// Failed logons from one address tolerated within [`WINDOW`]: higher than per name because an office behind one
/// NAT address shares it, and locking the address locks everyone there; still far too few to guess.
pub const ADDRESS_FREE_FAILURES: i64 = 20;
/// How long failures are remembered: a count whose last failure is older than this starts again at zero. Longer
/// than [`MAX_LOCK`], so a guesser who waits out a full lock is locked again by the next failure.
pub const WINDOW: Duration = Duration::hours(1);
/// The lock after the last tolerated failure; it doubles with each further failure.
pub const FIRST_LOCK: Duration = Duration::seconds(1);
/// The longest lock: long enough to make guessing useless, short enough that a locked-out user is not stuck for
/// the day when no administrator is around (`vault365 user unlock` clears it at once).
pub const MAX_LOCK: Duration = Duration::minutes(15);

/// The throttle subject of an account name (any case, as presented).
pub fn account_subject(name: &str) -> String {
    format!("user:{}", name_key(name))
}

/// The throttle subject of an address: IPv4 (also IPv4-mapped IPv6) as is, IPv6 by its /64 network.
pub fn address_subject(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => format!("addr:{v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("addr:{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

/// What is locked, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lock {
    /// The address is locked (else the account name).
    pub by_address: bool,
    /// Seconds until the lock ends (at least 1).
    pub retry_after_secs: i64,
}

impl Lock {
    /// The message for the client.
    pub fn message(&self) -> String {
        let what = if self.by_address { "Logons from this address are" } else { "The account is" };
        format!(
            "{what} temporarily locked after repeated failed logons; try again in {} seconds.",
            self.retry_after_secs
        )
    }
}

/// The lock after `failures` failures with `free` tolerated: none below `free`, then 1 s doubling up to the cap.
pub fn lock_duration(failures: i64, free: i64) -> Option<Duration> {
    if failures < free {
        return None;
    }
    // 2^10 s already exceeds the cap; clamping the exponent keeps the shift in range.
    let exponent = (failures - free).min(20) as u32;
    Some((FIRST_LOCK * 2i32.pow(exponent)).min(MAX_LOCK))
}

/// The longest lock currently on `name` or `ip`, if any.
pub async fn check(pool: &AnyPool, name: &str, ip: Option<IpAddr>) -> Result<Option<Lock>, sqlx::Error> {
    let now = Utc::now().timestamp_micros();
    let account = account_subject(name);
    let address = ip.map(address_subject).unwrap_or_else(|| account.clone());
    let rows = sqlx::query(
        "SELECT subject, locked_until FROM api_logon_failures WHERE subject IN ($1, $2) AND locked_until > $3",
    )
    .bind(&account)
    .bind(&address)
    .bind(now)
    .fetch_all(pool)
    .await?;
    let mut lock: Option<Lock> = None;
    for r in rows {
        let subject: String = r.try_get("subject")?;
        let until: i64 = r.try_get("locked_until")?;
        let secs = ((until - now) as f64 / 1e6).ceil().max(1.0) as i64;
        if lock.is_none_or(|l| secs > l.retry_after_secs) {
            lock = Some(Lock { by_address: subject != account, retry_after_secs: secs });
        }
    }
    Ok(lock)
}

/// Counts a failed logon for `name` and `ip`; locks them when their counts call for it (and logs each lock).
pub async fn record_failure(pool: &AnyPool, name: &str, ip: Option<IpAddr>) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let shown_ip = ip.map_or_else(|| "unknown".to_string(), |i| i.to_string());
    let mut subjects = vec![(account_subject(name), ACCOUNT_FREE_FAILURES)];
    if let Some(ip) = ip {
        subjects.push((address_subject(ip), ADDRESS_FREE_FAILURES));
    }
    for (subject, free) in subjects {
        let failures = count_failure(pool, &subject, now.timestamp_micros()).await?;
        if let Some(lock) = lock_duration(failures, free) {
            let until = (now + lock).timestamp_micros();
            sqlx::query("UPDATE api_logon_failures SET locked_until = $1 WHERE subject = $2 AND locked_until < $1")
                .bind(until)
                .bind(&subject)
                .execute(pool)
                .await?;
            tracing::warn!(
                account = name,
                address = %shown_ip,
                subject = %subject,
                failures,
                lock_secs = lock.num_seconds(),
                "API logons locked after repeated failures"
            );
        }
    }
    // Forget subjects that are neither locked nor within the window (names that were tried once, long ago).
    sqlx::query("DELETE FROM api_logon_failures WHERE last_failure < $1 AND locked_until < $2")
        .bind((now - WINDOW).timestamp_micros())
        .bind(now.timestamp_micros())
        .execute(pool)
        .await?;
    Ok(())
}

/// Adds one failure to `subject` atomically (concurrent failures on other nodes are all counted), restarting from
/// zero when the last one is older than [`WINDOW`]; returns the new count.
async fn count_failure(pool: &AnyPool, subject: &str, now: i64) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO api_logon_failures (subject, failures, locked_until, last_failure) VALUES ($1, 1, 0, $2)
         ON CONFLICT (subject) DO UPDATE SET
           failures = CASE WHEN api_logon_failures.last_failure < $3 THEN 1 ELSE api_logon_failures.failures + 1 END,
           last_failure = $2
         RETURNING failures",
    )
    .bind(subject)
    .bind(now)
    .bind(now - WINDOW.num_microseconds().unwrap_or(i64::MAX))
    .fetch_one(pool)
    .await?;
    row.try_get("failures")
}

/// A successful logon: the name's failures are forgotten.
pub async fn record_success(pool: &AnyPool, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM api_logon_failures WHERE subject = $1").bind(account_subject(name)).execute(pool).await?;
    Ok(())
}

/// Clears the failures and lock of an account name (administrator's `vault365 user unlock --name`). Returns whether
/// there was anything to clear.
pub async fn unlock_account(pool: &AnyPool, name: &str) -> Result<bool, sqlx::Error> {
    unlock(pool, &account_subject(name)).await
}

/// Clears the failures and lock of an address (`vault365 user unlock --address`).
pub async fn unlock_address(pool: &AnyPool, ip: IpAddr) -> Result<bool, sqlx::Error> {
    unlock(pool, &address_subject(ip)).await
}

async fn unlock(pool: &AnyPool, subject: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM api_logon_failures WHERE subject = $1").bind(subject).execute(pool).await?;
    Ok(done.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_double_from_the_threshold_up_to_the_cap() {
        assert_eq!(lock_duration(4, 5), None);
        assert_eq!(lock_duration(5, 5), Some(Duration::seconds(1)));
        assert_eq!(lock_duration(6, 5), Some(Duration::seconds(2)));
        assert_eq!(lock_duration(9, 5), Some(Duration::seconds(16)));
        assert_eq!(lock_duration(15, 5), Some(MAX_LOCK));
        assert_eq!(lock_duration(i64::MAX, 5), Some(MAX_LOCK));
    }

    #[test]
    fn subjects() {
        assert_eq!(account_subject(" DOMAIN\\Admin "), "user:domain\\admin");
        assert_eq!(address_subject("192.0.2.7".parse().unwrap()), "addr:192.0.2.7");
        assert_eq!(address_subject("::ffff:192.0.2.7".parse().unwrap()), "addr:192.0.2.7");
        assert_eq!(address_subject("2001:db8:1:2:3:4:5:6".parse().unwrap()), "addr:2001:db8:1:2::/64");
    }

    #[test]
    fn messages_name_what_is_locked() {
        let l = Lock { by_address: false, retry_after_secs: 8 };
        assert!(l.message().starts_with("The account is temporarily locked"), "{}", l.message());
        assert!(l.message().contains("8 seconds"));
        assert!(Lock { by_address: true, retry_after_secs: 1 }.message().contains("this address"));
    }
}
