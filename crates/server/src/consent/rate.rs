//! Attempt limits kept in the database (so every instance behind a load balancer sees the
//! same counts): failed code redemptions per doctor, failed authenticator codes per patient.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::rate_events;
use crate::error::ApiError;
use crate::time;

/// Refuses with 429 when `key` recorded `limit` or more events in the last `window`.
pub fn check(conn: &mut DbConn, key: &str, limit: u32, window: Duration) -> Result<(), ApiError> {
    let now = time::now();
    let recent: Vec<NaiveDateTime> = rate_events::table
        .filter(rate_events::key.eq(key))
        .filter(rate_events::at.gt(now - window))
        .select(rate_events::at)
        .order(rate_events::at.asc())
        .load(conn)?;
    if recent.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
        let oldest = recent.first().copied().unwrap_or(now);
        let retry = (oldest + window - now).num_seconds().max(1);
        return Err(ApiError::TooManyAttempts {
            retry_after: u64::try_from(retry).unwrap_or(1),
        });
    }
    Ok(())
}

/// Records one event for `key` (and forgets events older than a day, keeping the table small).
pub fn record(conn: &mut DbConn, key: &str) -> Result<(), ApiError> {
    let now = time::now();
    diesel::insert_into(rate_events::table)
        .values((rate_events::key.eq(key), rate_events::at.eq(now)))
        .execute(conn)?;
    diesel::delete(
        rate_events::table
            .filter(rate_events::key.eq(key))
            .filter(rate_events::at.lt(now - Duration::days(1))),
    )
    .execute(conn)?;
    Ok(())
}
