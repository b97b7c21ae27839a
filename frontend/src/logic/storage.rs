//! Storage health in words for administrators: the scrubber's classes with their labels, the
//! warnings for records at risk or lost, and the oldest scrub.

use chrono::{DateTime, Utc};
use medvault_types::{OldestScrub, RecordId, StorageClassCounts};

use super::format;

/// The scrubber's classes as (id suffix, label, count), in display order: `healthy`,
/// `misplaced`, `degraded`, `at_risk`, `lost`, `unscrubbed`.
pub fn class_rows(counts: &StorageClassCounts) -> [(&'static str, &'static str, u64); 6] {
    [
        ("healthy", "Healthy", counts.healthy),
        ("misplaced", "Misplaced", counts.misplaced),
        ("degraded", "Degraded", counts.degraded),
        ("at_risk", "At risk", counts.at_risk),
        ("lost", "Lost", counts.lost),
        ("unscrubbed", "Never scrubbed", counts.unscrubbed),
    ]
}

/// Warnings for records at risk (one more lost shard loses data) and records that lost data;
/// none when both counts are zero.
pub fn warnings(counts: &StorageClassCounts) -> Vec<String> {
    let mut out = Vec::new();
    if counts.at_risk > 0 {
        out.push(format!(
            "{} at risk: one more lost shard loses data. Run `medvault storage scrub --repair`.",
            records_are(counts.at_risk)
        ));
    }
    if counts.lost > 0 {
        let have = if counts.lost == 1 { "has" } else { "have" };
        out.push(format!(
            "{} {have} lost data that cannot be rebuilt.",
            records(counts.lost)
        ));
    }
    out
}

/// When the most recent scrub ended, or "never".
pub fn last_scrub(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "never".into(), format::datetime)
}

/// The record scrubbed longest ago: "record 1a2b3c4d, last checked <date>" or "record 1a2b3c4d,
/// never checked (uploaded <date>)".
pub fn oldest_scrub(oldest: &OldestScrub) -> String {
    let id = short_id(oldest.record_id);
    match oldest.checked_at {
        Some(at) => format!("record {id}, last checked {}", format::datetime(at)),
        None => format!(
            "record {id}, never checked (uploaded {})",
            format::datetime(oldest.created_at)
        ),
    }
}

/// The first eight characters of a record id, enough to tell records apart on screen.
pub fn short_id(id: RecordId) -> String {
    id.to_string().chars().take(8).collect()
}

/// "1 record" / "3 records".
fn records(n: u64) -> String {
    if n == 1 {
        "1 record".into()
    } else {
        format!("{n} records")
    }
}

/// "1 record is" / "3 records are".
fn records_are(n: u64) -> String {
    if n == 1 {
        "1 record is".into()
    } else {
        format!("{n} records are")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn no_warning_without_records_at_risk_or_lost() {
        let counts = StorageClassCounts {
            healthy: 5,
            misplaced: 1,
            degraded: 2,
            unscrubbed: 3,
            ..StorageClassCounts::default()
        };
        assert!(warnings(&counts).is_empty());
    }

    #[test]
    fn warnings_name_the_counts() {
        let counts = StorageClassCounts {
            at_risk: 2,
            lost: 1,
            ..StorageClassCounts::default()
        };
        assert_eq!(
            warnings(&counts),
            [
                "2 records are at risk: one more lost shard loses data. Run `medvault storage scrub --repair`.",
                "1 record has lost data that cannot be rebuilt.",
            ]
        );
        let counts = StorageClassCounts {
            at_risk: 1,
            lost: 3,
            ..StorageClassCounts::default()
        };
        let w = warnings(&counts);
        assert!(w[0].starts_with("1 record is at risk:"));
        assert_eq!(w[1], "3 records have lost data that cannot be rebuilt.");
    }

    #[test]
    fn rows_keep_their_order_and_ids() {
        let counts = StorageClassCounts {
            healthy: 1,
            misplaced: 2,
            degraded: 3,
            at_risk: 4,
            lost: 5,
            unscrubbed: 6,
        };
        let rows = class_rows(&counts);
        let ids: Vec<_> = rows.iter().map(|r| r.0).collect();
        assert_eq!(
            ids,
            [
                "healthy",
                "misplaced",
                "degraded",
                "at_risk",
                "lost",
                "unscrubbed"
            ]
        );
        assert_eq!(rows[5].1, "Never scrubbed");
        assert_eq!(rows.map(|r| r.2), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn scrub_times_read_naturally() {
        let created = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 0).unwrap();
        let checked = Utc.with_ymd_and_hms(2026, 2, 3, 4, 5, 0).unwrap();
        assert_eq!(last_scrub(None), "never");
        assert_eq!(last_scrub(Some(checked)), "2026-02-03 04:05 UTC");
        let record_id: RecordId = "0123abcd-0000-4000-8000-000000000001".parse().unwrap();
        let mut oldest = OldestScrub {
            record_id,
            checked_at: Some(checked),
            created_at: created,
        };
        assert_eq!(
            oldest_scrub(&oldest),
            "record 0123abcd, last checked 2026-02-03 04:05 UTC"
        );
        oldest.checked_at = None;
        assert_eq!(
            oldest_scrub(&oldest),
            "record 0123abcd, never checked (uploaded 2026-01-02 03:04 UTC)"
        );
    }
}
