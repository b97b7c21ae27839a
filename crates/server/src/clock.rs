//! The one clock every expiry decision reads (grants, consent codes, emergency access,
//! sessions, lockouts). It is the system's UTC time plus an offset that only in-process code
//! can move: tests hold a clone of the app's clock and advance it instead of sleeping. No
//! endpoint, configuration key or environment variable reaches the offset, so a running server
//! always reads the system time.
//!
//! Values come back as stored ([`crate::time`]): `NaiveDateTime` in UTC, truncated to
//! microseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SubsecRound, Utc};

/// A cheap, cloneable handle to one clock; clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_micros: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock (offset zero).
    pub fn system() -> Self {
        Self::default()
    }

    /// Now, as an instant.
    pub fn now_utc(&self) -> DateTime<Utc> {
        Utc::now() + Duration::microseconds(self.offset_micros.load(Ordering::Relaxed))
    }

    /// Now, as stored in the database (UTC, microsecond precision).
    pub fn now(&self) -> NaiveDateTime {
        self.now_utc().naive_utc().trunc_subsecs(6)
    }

    /// Today's date in UTC.
    pub fn today(&self) -> NaiveDate {
        self.now_utc().date_naive()
    }

    /// Seconds since the Unix epoch (for JWT claims and TOTP windows).
    pub fn unix_secs(&self) -> i64 {
        self.now_utc().timestamp()
    }

    /// Moves this clock (and every clone of it) forward by `by`. Tests use it to reach an
    /// expiry without sleeping; nothing in the server calls it.
    pub fn advance(&self, by: Duration) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        self.offset_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_offset() {
        let clock = Clock::system();
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(Duration::hours(5));
        let after = copy.now();
        assert!(after - before >= Duration::hours(5));
        assert!(after - before < Duration::hours(5) + Duration::minutes(1));
    }

    #[test]
    fn system_clock_reads_system_time() {
        let drift = Clock::system().now_utc() - Utc::now();
        assert!(drift.num_seconds().abs() < 5);
    }
}
