//! The storage overview an administrator sees: how much redundancy the records have left.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::RecordId;

/// Live records by the class their last scrub found (`GET /api/v1/admin/storage`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StorageClassCounts {
    /// Every shard intact and placed by the rule.
    pub healthy: u64,
    /// Every shard intact, but a stripe breaks the placement rule (re-spread pending).
    pub misplaced: u64,
    /// Some shards lost; more can be lost before data is.
    pub degraded: u64,
    /// A stripe has exactly its data shards left: one more loss loses data.
    pub at_risk: u64,
    /// A stripe has fewer than its data shards: part of the record cannot be read.
    pub lost: u64,
    /// Never scrubbed yet.
    pub unscrubbed: u64,
}

/// The live record scrubbed longest ago (or never).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OldestScrub {
    /// The record.
    pub record_id: RecordId,
    /// Its last scrub; `None` when it was never scrubbed.
    pub checked_at: Option<DateTime<Utc>>,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
}

/// Storage health for administrators (`GET /api/v1/admin/storage`, and in the overview):
/// what the scrubber found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StorageOverview {
    /// Live (not deleted) records.
    pub records: u64,
    /// Live records by class.
    pub classes: StorageClassCounts,
    /// Records waiting for a repair.
    pub repairs_queued: u64,
    /// When the most recent scrub of any record ended; `None` before the first.
    pub last_scrub_at: Option<DateTime<Utc>>,
    /// The record whose scrub is the oldest (or that was never scrubbed); `None` without
    /// records.
    pub oldest_scrub: Option<OldestScrub>,
}
