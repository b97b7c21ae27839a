//! Draining buckets: every shard in them moves to the other configured buckets, by the
//! placement rule; a bucket that cannot be reached has its shards rebuilt from the rest of
//! their stripes instead. Each record is committed on its own, so a drain that is killed or
//! restarted simply runs again over the records that still reference the buckets. Afterwards
//! the buckets can be removed from the configuration.

use std::collections::HashSet;

use diesel::prelude::*;
use medvault_engine::{BucketState, HealOptions, Manifest, ScrubMode};
use medvault_types::RecordId;
use serde::Serialize;
use serde_json::json;

use crate::db::ids::StoredId;
use crate::db::schema::records;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::ledger::{self, Action, NewEntry};
use crate::records::collector;
use crate::state::AppState;
use crate::storage::heal::{self, Why};

/// What a drain did.
#[derive(Debug, Default, Serialize)]
pub struct DrainReport {
    /// The drained buckets.
    pub buckets: Vec<String>,
    /// Of those, the ones that could not be reached (their shards were rebuilt).
    pub unreachable: Vec<String>,
    /// Live records that referenced them when the drain started.
    pub records: usize,
    /// Shards copied out.
    pub moved: usize,
    /// Shards rebuilt from the rest of their stripe.
    pub rebuilt: usize,
    /// Records still referencing a drained bucket at the end (0 when done).
    pub remaining: usize,
}

/// Live records whose manifests reference one of `buckets`.
fn referencing(conn: &mut DbConn, buckets: &HashSet<String>) -> Result<Vec<RecordId>, ApiError> {
    let mut out = Vec::new();
    for b in buckets {
        // A cheap pre-filter on the JSON text, confirmed by parsing below (LIKE's `_` and `%`
        // only widen it); a name JSON escapes matches every manifest instead.
        let plain = !b.contains(['"', '\\']);
        let pattern = if plain {
            format!("%\"bucket\":\"{b}\"%")
        } else {
            "%".to_owned()
        };
        let rows: Vec<(String, String)> = records::table
            .filter(records::deleted_at.is_null())
            .filter(records::manifest.like(pattern))
            .select((records::id, records::manifest.assume_not_null()))
            .load(conn)?;
        for (id, text) in rows {
            let m: Manifest = serde_json::from_str(&text).map_err(ApiError::internal)?;
            let id = RecordId::from_stored(&id)?;
            if m.shards.iter().any(|s| buckets.contains(&s.bucket)) && !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out.sort_unstable_by_key(ToString::to_string);
    Ok(out)
}

/// Drains `buckets`; `progress(done, total, report)` after each record.
pub async fn drain(
    state: &AppState,
    buckets: &[String],
    mut progress: impl FnMut(usize, usize, &DrainReport),
) -> anyhow::Result<DrainReport> {
    let cfg = state.engine.config();
    let names: HashSet<String> = buckets.iter().cloned().collect();
    for b in &names {
        anyhow::ensure!(
            state.engine.bucket_names().any(|n| n == b),
            "bucket {b:?} is not in the storage configuration"
        );
    }
    let remaining = state
        .engine
        .bucket_names()
        .filter(|n| !names.contains(*n))
        .count();
    anyhow::ensure!(
        remaining >= cfg.k + cfg.m,
        "draining {} leaves {remaining} buckets, but every stripe needs k + m = {}: add buckets \
         (elsewhere, to leave a provider) first",
        buckets.join(", "),
        cfg.k + cfg.m
    );
    // Shards of deleted records are collected, not moved.
    while collector::purge_deleted(state).await? > 0 {}
    let mut report = DrainReport {
        buckets: buckets.to_vec(),
        ..DrainReport::default()
    };
    let mut opts = HealOptions::new(ScrubMode::Repair);
    for b in state.engine.health().await {
        match (names.contains(&b.name), b.ok) {
            (true, true) => opts = opts.with(b.name, BucketState::Evict),
            (true, false) => {
                report.unreachable.push(b.name.clone());
                opts = opts.with(b.name, BucketState::Down);
            }
            (false, false) => opts = opts.with(b.name, BucketState::Unavailable),
            (false, true) => {}
        }
    }
    let todo = {
        let names = names.clone();
        db::run(&state.pool, move |c| referencing(c, &names)).await?
    };
    report.records = todo.len();
    for (i, &id) in todo.iter().enumerate() {
        match heal::heal_record(state, id, &opts, Why::Drain).await {
            Ok(Some(h)) => {
                report.moved += h.report.moved.len();
                report.rebuilt += h.report.repaired.len();
                for (e, why) in &h.report.write_failures {
                    tracing::warn!(record = %id, shard = %e, %why, "shard not moved");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(record = %id, error = %e, "record not drained"),
        }
        progress(i + 1, todo.len(), &report);
    }
    report.remaining = {
        let names = names.clone();
        db::run(&state.pool, move |c| referencing(c, &names))
            .await?
            .len()
    };
    let entry = json!({
        "buckets": report.buckets,
        "unreachable": report.unreachable,
        "records": report.records,
        "moved": report.moved,
        "rebuilt": report.rebuilt,
        "remaining": report.remaining,
    });
    db::write(&state.pool, move |c| {
        ledger::append(
            c,
            &NewEntry::new(None, Action::StorageDrain, "storage").payload(entry),
        )
    })
    .await?;
    Ok(report)
}
