//! Numbers and times as people read them.

use chrono::{DateTime, Utc};

/// A byte count in B, KiB, MiB or GiB with one decimal above bytes.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    #[expect(clippy::cast_precision_loss, reason = "display only")]
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Time left until `until`, as of `now`: "2 h 05 min", "4 min 10 s", or "expired".
pub fn time_left(until: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (until - now).num_seconds();
    if secs <= 0 {
        return "expired".into();
    }
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min {s:02} s")
    } else {
        format!("{s} s")
    }
}

/// A timestamp in UTC, to the minute: "2026-11-24 00:41 UTC".
pub fn datetime(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Upload progress as a whole percentage, clamped to 0..=100; 0 when the total is unknown.
pub fn percent(loaded: f64, total: f64) -> u8 {
    if total <= 0.0 || !loaded.is_finite() || !total.is_finite() {
        return 0;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped to 0..=100 first"
    )]
    let p = (loaded / total * 100.0).clamp(0.0, 100.0).floor() as u8;
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn bytes_scale() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(100 * 1024 * 1024), "100.0 MiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024 * 1024), "3072.0 GiB");
    }

    #[test]
    fn time_left_reads_naturally() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap();
        let at = |s: i64| now + chrono::Duration::seconds(s);
        assert_eq!(time_left(at(-5), now), "expired");
        assert_eq!(time_left(at(0), now), "expired");
        assert_eq!(time_left(at(42), now), "42 s");
        assert_eq!(time_left(at(250), now), "4 min 10 s");
        assert_eq!(time_left(at(2 * 3600 + 5 * 60 + 7), now), "2 h 05 min");
        assert_eq!(time_left(at(2 * 86_400 + 3 * 3600), now), "2 d 3 h");
        assert_eq!(datetime(now), "2026-11-24 00:00 UTC");
    }

    #[test]
    fn percent_is_clamped() {
        assert_eq!(percent(0.0, 0.0), 0);
        assert_eq!(percent(50.0, 200.0), 25);
        assert_eq!(percent(300.0, 200.0), 100);
        assert_eq!(percent(f64::NAN, 1.0), 0);
    }
}
