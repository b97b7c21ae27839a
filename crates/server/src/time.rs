//! UTC time as stored (decisions that expire read [`crate::clock::Clock`] instead): `NaiveDateTime` in UTC, truncated to microseconds (PostgreSQL's
//! precision) so values read back equal values written on both backends.

use chrono::{DateTime, NaiveDateTime, SubsecRound, TimeZone, Utc};

/// Now, as stored in the database.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// A stored timestamp as a UTC instant for the API.
pub fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&at)
}
