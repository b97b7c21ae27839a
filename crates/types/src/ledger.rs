//! The tamper-evident ledger as the admin API shows it.

use crate::ids::UserId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One ledger entry. `hash = SHA-256(prev_hash || canonical(entry))`; payloads hold ids and
/// hashes only, never health data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LedgerEntry {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// When it was written (UTC, microseconds).
    pub at: DateTime<Utc>,
    /// Who acted (user id), or `null` for the system.
    pub actor: Option<UserId>,
    /// What happened, e.g. `record.upload`.
    pub action: String,
    /// What it happened to, e.g. `record:<uuid>`.
    pub subject: String,
    /// Ids and hashes only.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Hash of the previous entry (hex; 64 zeros for the first).
    pub prev_hash: String,
    /// This entry's hash (hex).
    pub hash: String,
}

/// Query of `GET /api/v1/admin/ledger`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// Entries with `seq` below this (for paging backwards); default: from the newest.
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// How many (default 50, at most 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Only this action.
    #[param(max_length = 64)]
    pub action: Option<String>,
}

/// A page of the ledger, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LedgerPage {
    /// Entries, newest first.
    pub items: Vec<LedgerEntry>,
    /// Entries in the whole ledger.
    pub total: u64,
    /// Pass as `before` to get the next (older) page; `null` at the start of the chain.
    pub next_before: Option<i64>,
}

/// Result of recomputing the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LedgerVerification {
    /// Every link holds.
    pub ok: bool,
    /// Entries checked.
    pub entries: u64,
    /// The first entry whose link is broken (edited, deleted neighbour, reordered).
    pub first_broken_seq: Option<i64>,
    /// What is wrong there.
    pub reason: Option<String>,
    /// Hash of the last entry (the chain's head), to compare with a copy kept elsewhere.
    pub head_hash: Option<String>,
}

/// Health of one storage bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BucketHealth {
    /// Bucket name from the configuration.
    pub name: String,
    /// Reachable and usable.
    pub ok: bool,
    /// Why not.
    pub error: Option<String>,
}

/// `GET /api/v1/admin/overview`: counts and health for the admin's first screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdminOverview {
    /// Doctors (active and not).
    pub doctors: u64,
    /// Patients (active and not).
    pub patients: u64,
    /// Live records.
    pub records: u64,
    /// Bytes stored in live records (plaintext sizes).
    pub stored_bytes: u64,
    /// Ledger entries.
    pub ledger_entries: u64,
    /// Per-bucket health.
    pub buckets: Vec<BucketHealth>,
    /// Erasure coding in use: data shards per stripe.
    pub k: u32,
    /// Parity shards per stripe.
    pub m: u32,
    /// Emergency accesses not yet reviewed by an administrator.
    pub unreviewed_emergencies: u64,
    /// Records by storage health, as the scrubber found them.
    pub storage: crate::storage::StorageOverview,
}
