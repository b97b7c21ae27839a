//! The one "recently authenticated" rule. Sensitive actions (opening emergency access today;
//! later approving consent, deactivating users, resetting a second factor) need the account's
//! password confirmed in this session within the last `auth.recent_auth_secs` (default five
//! minutes): at sign-in, or again by `POST /api/v1/auth/reauthenticate`. The time is kept on
//! the session row, so it ends with the session, and is read through the injectable clock.
//! When sign-in gains a second factor, confirming it will be part of the same rule here.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use medvault_types::SessionId;

use crate::db::DbConn;
use crate::db::schema::sessions;
use crate::error::ApiError;

/// Notes that the password was confirmed in `session` at `now`.
pub fn mark(conn: &mut DbConn, session: SessionId, now: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(sessions::table.find(session.to_string()))
        .set(sessions::authenticated_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// When the password was last confirmed in `session`, if ever.
pub fn last(conn: &mut DbConn, session: SessionId) -> Result<Option<NaiveDateTime>, ApiError> {
    Ok(sessions::table
        .find(session.to_string())
        .select(sessions::authenticated_at)
        .first::<Option<NaiveDateTime>>(conn)
        .optional()?
        .flatten())
}

/// Whether a confirmation at `at` still counts at `now` under a window of `window_secs`.
pub fn is_recent(at: Option<NaiveDateTime>, now: NaiveDateTime, window_secs: u64) -> bool {
    let window = Duration::seconds(i64::try_from(window_secs).unwrap_or(i64::MAX / 1000));
    at.is_some_and(|at| at <= now && now - at <= window)
}

/// Refuses with 403 `reauth_required` unless the password was confirmed in `session` within
/// `window_secs` before `now`.
pub fn require(
    conn: &mut DbConn,
    session: SessionId,
    now: NaiveDateTime,
    window_secs: u64,
) -> Result<(), ApiError> {
    if is_recent(last(conn, session)?, now, window_secs) {
        Ok(())
    } else {
        Err(ApiError::ReauthRequired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_means_within_the_window_and_not_in_the_future() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        assert!(is_recent(Some(now), now, 300));
        assert!(is_recent(Some(now - Duration::seconds(300)), now, 300));
        assert!(!is_recent(Some(now - Duration::seconds(301)), now, 300));
        assert!(!is_recent(Some(now + Duration::seconds(1)), now, 300));
        assert!(!is_recent(None, now, 300));
    }
}
