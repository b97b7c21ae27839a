//! The `record_storage` table: each record's class as its last scrub left it, and the repair
//! queue (downloads that met erasures, scrubs that found damage and uploads that had to
//! misplace shards during a provider outage queue their record; a record at risk goes before a
//! degraded one, a degraded one before a misplaced one).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use medvault_engine::RecordClass;
use medvault_types::{OldestScrub, RecordId, StorageClassCounts};

use crate::db::DbConn;
use crate::db::ids::StoredId;
use crate::db::schema::{record_storage, records};
use crate::error::ApiError;
use crate::time;

/// Why a repair was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueReason {
    /// A download met missing or corrupt shards.
    Download,
    /// A scrub found damage or misplacement it could not fix then.
    Scrub,
    /// An upload placed shards against the rule because a provider was failing.
    Upload,
}

impl QueueReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Download => "download",
            Self::Scrub => "scrub",
            Self::Upload => "upload",
        }
    }
}

/// Repair order: at risk first, then degraded, then misplaced.
fn priority(class: RecordClass) -> i32 {
    match class {
        RecordClass::Healthy => 0,
        RecordClass::Misplaced => 1,
        RecordClass::Degraded => 2,
        RecordClass::AtRisk => 3,
        // A lost stripe cannot be rebuilt, but the record is retried in case a bucket returns.
        RecordClass::Lost => 4,
    }
}

/// Makes sure the record has a row (`record_storage` is filled lazily).
fn ensure_row(conn: &mut DbConn, id: &str) -> Result<(), ApiError> {
    let exists: i64 = record_storage::table
        .filter(record_storage::record_id.eq(id))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        diesel::insert_into(record_storage::table)
            .values(record_storage::record_id.eq(id))
            .execute(conn)?;
    }
    Ok(())
}

/// Records the outcome of a scrub (or repair) of `record`. A healthy record leaves the repair
/// queue; any other class stays in it (or joins it) at that class's priority, so the next pass
/// tries again (a `lost` record too: a bucket that comes back may make it whole).
pub fn record_scrub(
    conn: &mut DbConn,
    record: RecordId,
    class: RecordClass,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let id = record.to_string();
    ensure_row(conn, &id)?;
    let queued = class != RecordClass::Healthy;
    diesel::update(record_storage::table.find(&id))
        .set((
            record_storage::class.eq(class.as_str()),
            record_storage::checked_at.eq(now),
            record_storage::repair_priority.eq(queued.then(|| priority(class))),
            record_storage::repair_queued_at.eq(queued.then_some(now)),
            record_storage::repair_reason.eq(queued.then(|| QueueReason::Scrub.as_str())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Queues `record` for repair, unless it is queued already at the same or a higher priority.
/// A download does not know the class: it queues as degraded.
pub fn queue_repair(
    conn: &mut DbConn,
    record: RecordId,
    reason: QueueReason,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    queue_at(conn, record, RecordClass::Degraded, reason, now)
}

/// Queues a record an upload wrote during a provider outage (some stripe breaks the placement
/// rule) at the priority of a misplaced record, in the upload's transaction: the scrubber
/// re-spreads it once the provider answers again.
pub fn queue_misplaced(
    conn: &mut DbConn,
    record: RecordId,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    queue_at(
        conn,
        record,
        RecordClass::Misplaced,
        QueueReason::Upload,
        now,
    )
}

fn queue_at(
    conn: &mut DbConn,
    record: RecordId,
    class: RecordClass,
    reason: QueueReason,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let id = record.to_string();
    ensure_row(conn, &id)?;
    let prio = priority(class);
    diesel::update(
        record_storage::table.find(&id).filter(
            record_storage::repair_priority
                .is_null()
                .or(record_storage::repair_priority.lt(prio)),
        ),
    )
    .set((
        record_storage::repair_priority.eq(prio),
        record_storage::repair_queued_at.eq(now),
        record_storage::repair_reason.eq(reason.as_str()),
    ))
    .execute(conn)?;
    Ok(())
}

/// Up to `limit` live records to scrub next: queued repairs by priority and age, then records
/// never scrubbed (oldest upload first), then the longest unscrubbed.
pub fn next_batch(conn: &mut DbConn, limit: i64) -> Result<Vec<RecordId>, ApiError> {
    let queued: Vec<String> = record_storage::table
        .inner_join(records::table)
        .filter(records::deleted_at.is_null())
        .filter(record_storage::repair_priority.is_not_null())
        .order((
            record_storage::repair_priority.desc(),
            record_storage::repair_queued_at.asc(),
        ))
        .select(records::id)
        .limit(limit)
        .load(conn)?;
    let mut out = queued;
    let room = limit - i64::try_from(out.len()).unwrap_or(limit);
    if room > 0 {
        let never: Vec<String> = records::table
            .left_join(record_storage::table)
            .filter(records::deleted_at.is_null())
            .filter(records::manifest.is_not_null())
            .filter(record_storage::checked_at.is_null())
            .filter(record_storage::repair_priority.is_null())
            .order(records::created_at.asc())
            .select(records::id)
            .limit(room)
            .load(conn)?;
        out.extend(never);
    }
    let room = limit - i64::try_from(out.len()).unwrap_or(limit);
    if room > 0 {
        let oldest: Vec<String> = record_storage::table
            .inner_join(records::table)
            .filter(records::deleted_at.is_null())
            .filter(record_storage::checked_at.is_not_null())
            .filter(record_storage::repair_priority.is_null())
            .order(record_storage::checked_at.asc())
            .select(records::id)
            .limit(room)
            .load(conn)?;
        out.extend(oldest);
    }
    out.iter().map(|s| RecordId::from_stored(s)).collect()
}

/// Live records by class, the repair queue's length, the last scrub and the oldest one.
pub struct Summary {
    /// Live records.
    pub records: u64,
    /// By class.
    pub classes: StorageClassCounts,
    /// Queued repairs.
    pub repairs_queued: u64,
    /// The latest scrub of any record.
    pub last_scrub_at: Option<NaiveDateTime>,
    /// The record scrubbed longest ago (or never).
    pub oldest: Option<OldestScrub>,
}

/// Counts for the admin overview (aggregates in the database: one row per class).
pub fn summary(conn: &mut DbConn) -> Result<Summary, ApiError> {
    use diesel::dsl::{count_star, max};
    let live = || {
        records::table
            .left_join(record_storage::table)
            .filter(records::deleted_at.is_null())
    };
    let by_class: Vec<(Option<String>, i64)> = live()
        .group_by(record_storage::class)
        .select((record_storage::class.nullable(), count_star()))
        .load(conn)?;
    let mut classes = StorageClassCounts::default();
    let mut total = 0;
    for (class, n) in by_class {
        let n = u64::try_from(n).unwrap_or(0);
        total += n;
        let slot = match class.as_deref().and_then(RecordClass::parse) {
            None => &mut classes.unscrubbed,
            Some(RecordClass::Healthy) => &mut classes.healthy,
            Some(RecordClass::Misplaced) => &mut classes.misplaced,
            Some(RecordClass::Degraded) => &mut classes.degraded,
            Some(RecordClass::AtRisk) => &mut classes.at_risk,
            Some(RecordClass::Lost) => &mut classes.lost,
        };
        *slot += n;
    }
    let queued: i64 = live()
        .filter(record_storage::repair_priority.is_not_null())
        .count()
        .get_result(conn)?;
    let last: Option<NaiveDateTime> = live()
        .select(max(record_storage::checked_at.nullable()))
        .first(conn)?;
    // Never scrubbed first (the oldest upload), else the longest unscrubbed.
    let never: Option<(String, NaiveDateTime)> = live()
        .filter(record_storage::checked_at.is_null())
        .order(records::created_at.asc())
        .select((records::id, records::created_at))
        .first(conn)
        .optional()?;
    let oldest = match never {
        Some((id, created)) => Some((id, None, created)),
        None => live()
            .filter(record_storage::checked_at.is_not_null())
            .order(record_storage::checked_at.asc())
            .select((
                records::id,
                record_storage::checked_at.nullable(),
                records::created_at,
            ))
            .first::<(String, Option<NaiveDateTime>, NaiveDateTime)>(conn)
            .optional()?,
    };
    let oldest = oldest
        .map(|(id, checked, created)| -> Result<OldestScrub, ApiError> {
            Ok(OldestScrub {
                record_id: RecordId::from_stored(&id)?,
                checked_at: checked.map(time::utc),
                created_at: time::utc(created),
            })
        })
        .transpose()?;
    Ok(Summary {
        records: total,
        classes,
        repairs_queued: u64::try_from(queued).unwrap_or(0),
        last_scrub_at: last,
        oldest,
    })
}

/// Live records with a manifest, by id, after `after` (paging for whole-store scrubs).
pub fn live_page(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<RecordId>, ApiError> {
    let mut q = records::table
        .filter(records::deleted_at.is_null())
        .filter(records::manifest.is_not_null())
        .select(records::id)
        .order(records::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(records::id.gt(after.to_owned()));
    }
    let ids: Vec<String> = q.load(conn)?;
    ids.iter().map(|s| RecordId::from_stored(s)).collect()
}
