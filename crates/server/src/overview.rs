//! The admin overview: how many accounts and records there are, how much is stored, how long
//! the ledger is, how many emergency accesses wait for review, and the health of every bucket. Counts come from their own domains.

use medvault_types::{AdminOverview, BucketHealth};

use crate::accounts::users;
use crate::db;
use crate::emergency;
use crate::error::ApiError;
use crate::ledger;
use crate::records::service as records;
use crate::state::SharedState;

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
    })
}
