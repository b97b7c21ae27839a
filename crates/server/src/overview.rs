//! The admin overview: how many accounts and records there are, how much is stored, how long
//! the ledger is, how many emergency accesses wait for review, the health of every bucket and of the records' shards. Counts come from their own domains.

use medvault_types::{AdminOverview, BucketHealth, StorageOverview};

use crate::accounts::users;
use crate::db;
use crate::emergency;
use crate::error::ApiError;
use crate::ledger;
use crate::records::service as records;
use crate::state::SharedState;
use crate::storage::health;
use crate::time;

/// The dashboard numbers.
pub async fn build(state: &SharedState) -> Result<AdminOverview, ApiError> {
    let (doctors, patients, stored, entries, unreviewed) = db::run(&state.pool, |conn| {
        Ok((
            users::count_with_role(conn, medvault_types::Role::Doctor)?,
            users::count_with_role(conn, medvault_types::Role::Patient)?,
            records::live_totals(conn)?,
            ledger::length(conn)?,
            emergency::views::unreviewed_count(conn)?,
        ))
    })
    .await?;
    let storage = storage(state).await?;
    let buckets = state
        .engine
        .health()
        .await
        .into_iter()
        .map(|h| BucketHealth {
            name: h.name,
            ok: h.ok,
            error: h.error,
        })
        .collect();
    let cfg = state.engine.config();
    Ok(AdminOverview {
        doctors,
        patients,
        records: stored.records,
        stored_bytes: stored.bytes,
        ledger_entries: entries,
        buckets,
        k: u32::try_from(cfg.k).unwrap_or(0),
        m: u32::try_from(cfg.m).unwrap_or(0),
        unreviewed_emergencies: unreviewed,
        storage,
    })
}

/// What the scrubber found: records by class, queued repairs, the last and the oldest scrub.
pub async fn storage(state: &SharedState) -> Result<StorageOverview, ApiError> {
    let s = db::run(&state.pool, health::summary).await?;
    Ok(StorageOverview {
        records: s.records,
        classes: s.classes,
        repairs_queued: s.repairs_queued,
        last_scrub_at: s.last_scrub_at.map(time::utc),
        oldest_scrub: s.oldest,
    })
}
