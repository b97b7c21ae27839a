//! Sign-in throttling per email, kept in the database so every instance sees it. Keyed by a
//! hash of the normalised email whether or not an account exists, so a lock reveals nothing.
//!
//! Policy: after `slowdown_after` consecutive failures each further failure blocks the email
//! for `2^(n - slowdown_after)` seconds; from `lock_after` failures it is locked `lock_secs`.
//! A success clears the counter; a day without failures forgets it.

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

/// Failures older than this are forgotten.
const FORGET_AFTER_SECS: i64 = 24 * 3600;
/// Longest slow-down wait before the full lock.
const MAX_SLOWDOWN_SECS: i64 = 60;

/// The key for an email.
pub fn email_key(email: &str) -> String {
    hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
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

/// How long the `failures`-th consecutive failure blocks the email, if at all.
pub fn block_for(failures: i64, config: &AuthConfig) -> Option<Duration> {
    let slow = i64::from(config.slowdown_after);
    let lock = i64::from(config.lock_after);
    if failures >= lock {
        Some(Duration::seconds(
            i64::try_from(config.lock_secs).unwrap_or(i64::MAX / 2),
        ))
    } else if failures >= slow && failures > 0 {
        let exp = u32::try_from(failures - slow).unwrap_or(u32::MAX).min(6);
        Some(Duration::seconds((1_i64 << exp).min(MAX_SLOWDOWN_SECS)))
    } else {
        None
    }
}

/// Counts a sign-in attempt before its password is checked, in one write transaction: refused
/// (429) while `key` is blocked, else counted as a failure up front (an atomic increment that
/// holds the row, so concurrent attempts cannot lose counts) with the block it earns set at
/// once. So of any burst of guesses at most `lock_after` are ever evaluated, and a right
/// password that arrives during the lock is refused like any other. A successful sign-in then
/// clears the count ([`clear`]); a failed one only needs its ledger entry ([`ledger_failure`]).
/// Returns the count including this attempt.
pub async fn reserve(pool: &Pool, key: String, config: AuthConfig) -> Result<i64, ApiError> {
    // Two first attempts racing on PostgreSQL both see no row and both insert; the loser's
    // unique violation (409) aborts its transaction, and the row exists now: count again.
    let mut attempt = 0;
    loop {
        let (k, c) = (key.clone(), config.clone());
        let counted = db::write(pool, move |conn| reserve_in(conn, &k, time::now(), &c)).await;
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
    config: &AuthConfig,
) -> Result<i64, ApiError> {
    // A day without failures forgets them.
    diesel::update(
        login_attempts::table
            .find(key)
            .filter(login_attempts::last_failure.lt(now - Duration::seconds(FORGET_AFTER_SECS))),
    )
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
    if let Some(block) = block_for(failures, config) {
        diesel::update(login_attempts::table.find(key))
            .set(login_attempts::locked_until.eq(now + block))
            .execute(conn)?;
    }
    Ok(failures)
}

/// The ledger entry of a sign-in that failed after [`reserve`] counted it: `auth.login_failed`
/// naming the account when one exists (`account`), else the e-mail's hash.
pub async fn ledger_failure(
    pool: &Pool,
    key: String,
    account: Option<UserId>,
    failures: i64,
    config: AuthConfig,
) -> Result<(), ApiError> {
    db::write(pool, move |conn| {
        failure_entry(conn, &key, account, failures, &config)
    })
    .await
}

/// The `auth.login_failed` entry: the account when the e-mail names one, else the e-mail's
/// hash; ids and counts only, never the e-mail or the password.
fn failure_entry(
    conn: &mut DbConn,
    key: &str,
    account: Option<UserId>,
    failures: i64,
    config: &AuthConfig,
) -> Result<(), ApiError> {
    let subject = account.map_or_else(|| format!("login:{key}"), |id| format!("user:{id}"));
    ledger::append(
        conn,
        &NewEntry::new(None, Action::AuthLoginFailed, subject).payload(json!({
            "failures": failures,
            "locked": block_for(failures, config).is_some(),
        })),
    )?;
    Ok(())
}

/// Counts a failure and sets the block it earns, in its own write transaction, with an
/// `auth.login_failed` ledger entry naming the account when one exists (`account`), else the
/// e-mail's hash: ids and counts only, never the e-mail or the password.
pub async fn record_failure(
    pool: &Pool,
    key: String,
    account: Option<UserId>,
    config: AuthConfig,
) -> Result<(), ApiError> {
    // Two first failures racing on PostgreSQL both see no row and both insert; the loser's
    // unique violation (409) aborts its transaction, and the row exists now: count again, in a
    // fresh transaction, as an update.
    let mut attempt = 0;
    loop {
        let (k, c) = (key.clone(), config.clone());
        let counted = db::write(pool, move |conn| {
            let failures = count_failure(conn, &k, time::now(), &c)?;
            failure_entry(conn, &k, account, failures, &c)
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
    config: &AuthConfig,
) -> Result<i64, ApiError> {
    let previous: Option<(i64, NaiveDateTime)> = login_attempts::table
        .find(key)
        .select((login_attempts::failures, login_attempts::last_failure))
        .first(conn)
        .optional()?;
    let failures = match previous {
        Some((n, last)) if (now - last).num_seconds() < FORGET_AFTER_SECS => n + 1,
        _ => 1,
    };
    let locked_until = block_for(failures, config).map(|d| now + d);
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

/// Forgets the failures of `key` after a successful sign-in.
pub fn clear(conn: &mut DbConn, key: &str) -> Result<(), ApiError> {
    diesel::delete(login_attempts::table.find(key)).execute(conn)?;
    Ok(())
}

/// Whether `key` is blocked at `now` (locked or slowed down).
pub fn is_blocked(conn: &mut DbConn, key: &str, now: NaiveDateTime) -> Result<bool, ApiError> {
    Ok(matches!(
        check(conn, key, now),
        Err(ApiError::TooManyAttempts { .. })
    ))
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
        assert_eq!(block_for(1, &config), None);
        assert_eq!(block_for(2, &config), None);
        assert_eq!(block_for(3, &config), Some(Duration::seconds(1)));
        assert_eq!(block_for(4, &config), Some(Duration::seconds(2)));
        assert_eq!(block_for(5, &config), Some(Duration::seconds(4)));
        assert_eq!(block_for(6, &config), Some(Duration::seconds(900)));
        assert_eq!(block_for(60, &config), Some(Duration::seconds(900)));
    }

    #[test]
    fn key_is_case_insensitive_and_not_the_email() {
        assert_eq!(email_key("A@B.org "), email_key("a@b.org"));
        assert!(!email_key("a@b.org").contains("b.org"));
    }
}
