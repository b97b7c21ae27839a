//! Sign-in throttling, kept in the database so every instance sees it. Three limits:
//!
//! - **Account from one address** ([`Keys::lock`]): after `slowdown_after` consecutive
//!   failures each further failure blocks the pair for `2^(n - slowdown_after)` seconds; from
//!   `lock_after` failures it is locked `lock_secs`. Keyed on (account, client address), so a
//!   stranger guessing from elsewhere cannot lock the owner out. A success clears it; a day
//!   without failures forgets it.
//! - **One address across accounts** ([`Keys::address`]): from `address_lock_after` failures
//!   (any e-mail, existing or not) the address is locked `address_lock_secs`: password spraying
//!   stops. A success takes back only its own attempt ([`forgive_address`]): the sign-ins of
//!   many users behind one address never add up to a lock, and one known account cannot
//!   reset a spray. An hour without failures forgets it.
//! - **Global** ([`Pace`]): above `global_slowdown_per_minute` failures in a minute on this
//!   instance, every attempt waits a moment first. It only slows down, never locks.
//!
//! Keys are hashes of the normalised e-mail and of the address, whether or not an account
//! exists, so a lock reveals nothing. Every attempt is counted before its secret is checked
//! ([`reserve`]), so a burst cannot outrun a lock.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::config::AuthConfig;
use crate::db::schema::login_attempts;
use crate::db::{self, DbConn, Pool};
use crate::error::ApiError;
use crate::ledger::{self, Action, NewEntry};
use crate::time;
use medvault_types::UserId;
use serde_json::json;

/// Longest slow-down wait before the full lock.
const MAX_SLOWDOWN_SECS: i64 = 60;
/// What the global limit adds to each attempt while it is exceeded.
const GLOBAL_PAUSE: std::time::Duration = std::time::Duration::from_millis(500);

/// The key of an e-mail (the account part of every key of that account).
pub fn email_key(email: &str) -> String {
    hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
}

fn address_hash(addr: IpAddr) -> String {
    hex::encode(Sha256::digest(format!("addr:{addr}").as_bytes()))
}

/// The throttle keys of one sign-in attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    /// The account part (hash of the e-mail), for the ledger and for unlocking.
    pub account: String,
    /// The (account, address) lock.
    pub lock: String,
    /// The address's lock across accounts.
    pub address: String,
}

impl Keys {
    /// The keys of an attempt on `email` from `addr`.
    pub fn new(email: &str, addr: IpAddr) -> Self {
        let account = email_key(email);
        let address = address_hash(addr);
        Self {
            lock: format!("{account}@{}", &address[..32]),
            address: format!("addr:{address}"),
            account,
        }
    }
}

/// One limit's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures before each further one imposes a wait.
    pub slowdown_after: u32,
    /// Failures before the key is locked.
    pub lock_after: u32,
    /// Lock duration in seconds.
    pub lock_secs: u64,
    /// Failures older than this (without a newer one) are forgotten, in seconds.
    pub forget_after_secs: i64,
}

impl Policy {
    /// The (account, address) policy.
    pub fn account(config: &AuthConfig) -> Self {
        Self {
            slowdown_after: config.slowdown_after,
            lock_after: config.lock_after,
            lock_secs: config.lock_secs,
            forget_after_secs: 24 * 3600,
        }
    }

    /// The per-address policy: no slow-down, a lock at `address_lock_after`.
    pub fn address(config: &AuthConfig) -> Self {
        Self {
            slowdown_after: config.address_lock_after,
            lock_after: config.address_lock_after,
            lock_secs: config.address_lock_secs,
            forget_after_secs: 3600,
        }
    }
}

/// 429 while `key` is blocked.
pub fn check(conn: &mut DbConn, key: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    let locked: Option<Option<NaiveDateTime>> = login_attempts::table
        .find(key)
        .select(login_attempts::locked_until)
        .first(conn)
        .optional()?;
    match locked.flatten() {
        Some(until) if until > now => Err(ApiError::TooManyAttempts {
            retry_after: u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1),
        }),
        _ => Ok(()),
    }
}

/// 429 while either the (account, address) pair or the address is blocked.
pub fn check_keys(conn: &mut DbConn, keys: &Keys, now: NaiveDateTime) -> Result<(), ApiError> {
    check(conn, &keys.lock, now)?;
    check(conn, &keys.address, now)
}

/// How long the `failures`-th consecutive failure blocks a key under `policy`, if at all.
pub fn block_for(failures: i64, policy: &Policy) -> Option<Duration> {
    let slow = i64::from(policy.slowdown_after);
    let lock = i64::from(policy.lock_after);
    if failures >= lock {
        Some(Duration::seconds(
            i64::try_from(policy.lock_secs).unwrap_or(i64::MAX / 2),
        ))
    } else if failures >= slow && failures > 0 {
        let exp = u32::try_from(failures - slow).unwrap_or(u32::MAX).min(6);
        Some(Duration::seconds((1_i64 << exp).min(MAX_SLOWDOWN_SECS)))
    } else {
        None
    }
}

/// The global limit: failed attempts per minute on this instance.
#[derive(Debug, Clone, Default)]
pub struct Pace {
    window: Arc<Mutex<(i64, u32)>>,
}

impl Pace {
    /// Notes one failure at `now`.
    pub fn note_failure(&self, now: NaiveDateTime) {
        let minute = now.and_utc().timestamp() / 60;
        if let Ok(mut w) = self.window.lock() {
            if w.0 == minute {
                w.1 = w.1.saturating_add(1);
            } else {
                *w = (minute, 1);
            }
        }
    }

    /// Whether failures this minute are above `per_minute`.
    pub fn is_busy(&self, now: NaiveDateTime, per_minute: u32) -> bool {
        let minute = now.and_utc().timestamp() / 60;
        self.window
            .lock()
            .is_ok_and(|w| w.0 == minute && w.1 > per_minute)
    }

    /// Waits a moment when the server sees more failures than `per_minute`.
    pub async fn wait_if_busy(&self, now: NaiveDateTime, per_minute: u32) {
        if self.is_busy(now, per_minute) {
            tokio::time::sleep(GLOBAL_PAUSE).await;
        }
    }
}

/// Counts an attempt before its secret is checked, in one write transaction: refused (429)
/// while the (account, address) pair or the address is blocked, else counted as a failure of
/// both up front (an atomic increment that holds the row, so concurrent attempts cannot lose
/// counts) with the blocks they earn set at once. So of any burst at most `lock_after` guesses
/// are ever evaluated, and a right secret that arrives during the lock is refused like any
/// other. A success then clears the pair ([`clear`]); a failure only needs its ledger entry
/// ([`ledger_failure`]). Returns the pair's count including this attempt.
pub async fn reserve(pool: &Pool, keys: &Keys, config: &AuthConfig) -> Result<i64, ApiError> {
    // Two first attempts racing on PostgreSQL both see no row and both insert; the loser's
    // unique violation (409) aborts its transaction, and the row exists now: count again.
    let (account, address) = (Policy::account(config), Policy::address(config));
    let mut attempt = 0;
    loop {
        let k = keys.clone();
        let counted = db::write(pool, move |conn| {
            let now = time::now();
            let failures = reserve_in(conn, &k.lock, now, &account)?;
            reserve_in(conn, &k.address, now, &address)?;
            Ok(failures)
        })
        .await;
        match counted {
            Err(ApiError::Conflict(_)) if attempt < 2 => attempt += 1,
            other => return other,
        }
    }
}

fn reserve_in(
    conn: &mut DbConn,
    key: &str,
    now: NaiveDateTime,
    policy: &Policy,
) -> Result<i64, ApiError> {
    // A quiet spell forgets the failures.
    diesel::update(login_attempts::table.find(key).filter(
        login_attempts::last_failure.lt(now - Duration::seconds(policy.forget_after_secs)),
    ))
    .set((
        login_attempts::failures.eq(0),
        login_attempts::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    let counted = diesel::update(
        login_attempts::table.find(key).filter(
            login_attempts::locked_until
                .is_null()
                .or(login_attempts::locked_until.le(now)),
        ),
    )
    .set((
        login_attempts::failures.eq(login_attempts::failures + 1),
        login_attempts::last_failure.eq(now),
    ))
    .execute(conn)?;
    if counted == 0 {
        // Blocked (the row exists and is locked), or the first attempt for this key.
        check(conn, key, now)?;
        diesel::insert_into(login_attempts::table)
            .values((
                login_attempts::email_hash.eq(key),
                login_attempts::failures.eq(1_i64),
                login_attempts::last_failure.eq(now),
                login_attempts::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
    }
    let failures: i64 = login_attempts::table
        .find(key)
        .select(login_attempts::failures)
        .first(conn)?;
    if let Some(block) = block_for(failures, policy) {
        diesel::update(login_attempts::table.find(key))
            .set(login_attempts::locked_until.eq(now + block))
            .execute(conn)?;
    }
    Ok(failures)
}

/// A failed sign-in step as the ledger records it.
#[derive(Debug, Clone, Copy)]
pub struct Failure {
    /// The account, when the e-mail names one.
    pub account: Option<UserId>,
    /// The (account, address) count including this failure.
    pub failures: i64,
    /// Which step failed: `password` or `second_factor` of sign-in, or `current_password`,
    /// `current_second_factor` or `second_factor_setup` when a signed-in user confirms them.
    pub step: &'static str,
}

/// The ledger entry of a sign-in step that failed after [`reserve`] counted it.
pub async fn ledger_failure(
    pool: &Pool,
    keys: &Keys,
    failure: Failure,
    config: &AuthConfig,
) -> Result<(), ApiError> {
    let (account, policy) = (keys.account.clone(), Policy::account(config));
    db::write(pool, move |conn| {
        failure_entry(conn, &account, failure, &policy)
    })
    .await
}

/// The `auth.login_failed` entry: the account when the e-mail names one, else the e-mail's
/// hash; ids, counts and the step only, never the e-mail, the address, the password or the
/// code.
fn failure_entry(
    conn: &mut DbConn,
    account_key: &str,
    failure: Failure,
    policy: &Policy,
) -> Result<(), ApiError> {
    let subject = failure
        .account
        .map_or_else(|| format!("login:{account_key}"), |id| format!("user:{id}"));
    ledger::append(
        conn,
        &NewEntry::new(None, Action::AuthLoginFailed, subject).payload(json!({
            "failures": failure.failures,
            "locked": block_for(failure.failures, policy).is_some(),
            "step": failure.step,
        })),
    )?;
    Ok(())
}

/// Counts a failure of a signed-in user's confirmation (current password, second factor) on
/// both keys, in its own write transaction, with its `auth.login_failed` entry.
pub async fn record_failure(
    pool: &Pool,
    keys: &Keys,
    account: Option<UserId>,
    step: &'static str,
    config: &AuthConfig,
) -> Result<(), ApiError> {
    // Two first failures racing on PostgreSQL both see no row and both insert; the loser's
    // unique violation (409) aborts its transaction, and the row exists now: count again, in a
    // fresh transaction, as an update.
    let (policy, address) = (Policy::account(config), Policy::address(config));
    let mut attempt = 0;
    loop {
        let k = keys.clone();
        let counted = db::write(pool, move |conn| {
            let now = time::now();
            let failures = count_failure(conn, &k.lock, now, &policy)?;
            count_failure(conn, &k.address, now, &address)?;
            let failure = Failure {
                account,
                failures,
                step,
            };
            failure_entry(conn, &k.account, failure, &policy)
        })
        .await;
        match counted {
            Err(ApiError::Conflict(_)) if attempt < 2 => attempt += 1,
            other => return other,
        }
    }
}

fn count_failure(
    conn: &mut DbConn,
    key: &str,
    now: NaiveDateTime,
    policy: &Policy,
) -> Result<i64, ApiError> {
    let previous: Option<(i64, NaiveDateTime)> = login_attempts::table
        .find(key)
        .select((login_attempts::failures, login_attempts::last_failure))
        .first(conn)
        .optional()?;
    let failures = match previous {
        Some((n, last)) if (now - last).num_seconds() < policy.forget_after_secs => n + 1,
        _ => 1,
    };
    let locked_until = block_for(failures, policy).map(|d| now + d);
    if previous.is_some() {
        diesel::update(login_attempts::table.find(key))
            .set((
                login_attempts::failures.eq(failures),
                login_attempts::last_failure.eq(now),
                login_attempts::locked_until.eq(locked_until),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(login_attempts::table)
            .values((
                login_attempts::email_hash.eq(key),
                login_attempts::failures.eq(failures),
                login_attempts::last_failure.eq(now),
                login_attempts::locked_until.eq(locked_until),
            ))
            .execute(conn)?;
    }
    Ok(failures)
}

/// Forgets the failures of the (account, address) pair after a success. The address's count
/// stays: one known account must not wipe out a spray.
pub fn clear(conn: &mut DbConn, keys: &Keys) -> Result<(), ApiError> {
    diesel::delete(login_attempts::table.find(&keys.lock)).execute(conn)?;
    Ok(())
}

/// Takes back the address's count of an attempt that [`reserve`] counted and that then
/// succeeded (a right password, a right second factor): the address limit counts failures, so
/// the sign-ins of a ward behind one address (a hospital's NAT) never lock it, while every
/// failure of a spray stays counted. Lifts the address's lock only when the count left no
/// longer earns one (a success raced past the failure that set it).
pub fn forgive_address(
    conn: &mut DbConn,
    keys: &Keys,
    config: &AuthConfig,
) -> Result<(), ApiError> {
    diesel::update(
        login_attempts::table
            .find(&keys.address)
            .filter(login_attempts::failures.gt(0)),
    )
    .set(login_attempts::failures.eq(login_attempts::failures - 1))
    .execute(conn)?;
    let left: Option<i64> = login_attempts::table
        .find(&keys.address)
        .select(login_attempts::failures)
        .first(conn)
        .optional()?;
    if let Some(left) = left
        && block_for(left, &Policy::address(config)).is_none()
    {
        diesel::update(login_attempts::table.find(&keys.address))
            .set(login_attempts::locked_until.eq(None::<NaiveDateTime>))
            .execute(conn)?;
    }
    Ok(())
}

/// The rows of the account with this e-mail (from any address).
fn account_rows(email: &str) -> (String, String) {
    let account = email_key(email);
    let pattern = format!("{account}@%");
    (account, pattern)
}

/// Forgets every failure of the account with `email`, from every address (an unlock, a
/// password reset).
pub fn clear_account(conn: &mut DbConn, email: &str) -> Result<(), ApiError> {
    let (account, pattern) = account_rows(email);
    diesel::delete(
        login_attempts::table.filter(
            login_attempts::email_hash
                .eq(account)
                .or(login_attempts::email_hash.like(pattern)),
        ),
    )
    .execute(conn)?;
    Ok(())
}

/// Whether the account with `email` is blocked at `now` from some address.
pub fn is_account_blocked(
    conn: &mut DbConn,
    email: &str,
    now: NaiveDateTime,
) -> Result<bool, ApiError> {
    let (account, pattern) = account_rows(email);
    let blocked: i64 = login_attempts::table
        .filter(
            login_attempts::email_hash
                .eq(account)
                .or(login_attempts::email_hash.like(pattern)),
        )
        .filter(login_attempts::locked_until.gt(now))
        .count()
        .get_result(conn)?;
    Ok(blocked > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slows_down_then_locks() {
        let config = AuthConfig {
            slowdown_after: 3,
            lock_after: 6,
            lock_secs: 900,
            ..AuthConfig::default()
        };
        let policy = Policy::account(&config);
        assert_eq!(block_for(1, &policy), None);
        assert_eq!(block_for(2, &policy), None);
        assert_eq!(block_for(3, &policy), Some(Duration::seconds(1)));
        assert_eq!(block_for(4, &policy), Some(Duration::seconds(2)));
        assert_eq!(block_for(5, &policy), Some(Duration::seconds(4)));
        assert_eq!(block_for(6, &policy), Some(Duration::seconds(900)));
        assert_eq!(block_for(60, &policy), Some(Duration::seconds(900)));
    }

    #[test]
    fn an_address_locks_without_slowing_down_first() {
        let config = AuthConfig {
            address_lock_after: 30,
            address_lock_secs: 600,
            ..AuthConfig::default()
        };
        let policy = Policy::address(&config);
        assert_eq!(block_for(29, &policy), None);
        assert_eq!(block_for(30, &policy), Some(Duration::seconds(600)));
    }

    #[test]
    fn keys_hide_the_email_and_address_and_separate_addresses() {
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        assert_eq!(email_key("A@B.org "), email_key("a@b.org"));
        assert!(!email_key("a@b.org").contains("b.org"));
        let (ka, kb) = (Keys::new("a@b.org", a), Keys::new("A@b.org", b));
        assert_eq!(ka.account, kb.account);
        assert_ne!(ka.lock, kb.lock);
        assert_ne!(ka.address, kb.address);
        assert!(ka.lock.starts_with(&ka.account));
        assert!(!ka.lock.contains("127.0.0"));
        assert_eq!(Keys::new("other@b.org", a).address, ka.address);
    }

    #[test]
    fn the_global_pace_counts_per_minute() {
        let pace = Pace::default();
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        for _ in 0..3 {
            pace.note_failure(t);
        }
        assert!(pace.is_busy(t, 2));
        assert!(!pace.is_busy(t, 3));
        assert!(!pace.is_busy(t + Duration::minutes(1), 2));
        pace.note_failure(t + Duration::minutes(1));
        assert!(!pace.is_busy(t + Duration::minutes(1), 2));
    }
}
