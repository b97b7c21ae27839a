//! The shard collector: a background task that deletes the shards of crypto-shredded records
//! and, less often, objects no manifest references (left by failed uploads) once they are
//! older than a grace period. Idempotent, so every instance may run one.

use std::collections::HashSet;
use std::time::Duration;

use actix_web::web;
use diesel::prelude::*;
use medvault_engine::Manifest;

use crate::db;
use crate::db::schema::records;
use crate::error::ApiError;
use crate::state::AppState;
use crate::time;

/// Deleted records purged per pass.
const PURGE_BATCH: i64 = 100;
/// Every this many passes, the unreferenced-object sweep runs too.
const SWEEP_EVERY: u64 = 10;

/// Deletes the shards of up to [`PURGE_BATCH`] shredded records; returns how many.
pub async fn purge_deleted(state: &AppState) -> Result<usize, ApiError> {
    let pending: Vec<(String, Option<String>)> = db::run(&state.pool, |conn| {
        Ok(records::table
            .filter(records::deleted_at.is_not_null())
            .filter(records::purged_at.is_null())
            .select((records::id, records::manifest))
            .limit(PURGE_BATCH)
            .load(conn)?)
    })
    .await?;
    let mut purged = 0;
    for (id, manifest) in pending {
        if let Some(text) = manifest {
            let manifest: Manifest = serde_json::from_str(&text).map_err(ApiError::internal)?;
            if let Err(e) = state.engine.delete(&manifest).await {
                tracing::warn!(record = %id, error = %e, "purging shards failed; will retry");
                continue;
            }
        }
        db::run(&state.pool, move |conn| {
            diesel::update(records::table.find(id))
                .set((
                    records::purged_at.eq(time::now()),
                    records::manifest.eq(None::<String>),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await?;
        purged += 1;
    }
    Ok(purged)
}

/// Deletes objects that no record's manifest references and that are older than the grace
/// period, and temporary files a crash left (older than the same grace). Returns how many
/// were deleted.
pub async fn sweep_unreferenced(state: &AppState) -> Result<usize, ApiError> {
    let manifests: Vec<String> = db::run(&state.pool, |conn| {
        Ok(records::table
            .filter(records::manifest.is_not_null())
            .select(records::manifest.assume_not_null())
            .load(conn)?)
    })
    .await?;
    let mut referenced: HashSet<(String, String)> = HashSet::new();
    for text in manifests {
        let m: Manifest = serde_json::from_str(&text).map_err(ApiError::internal)?;
        referenced.extend(m.shards.into_iter().map(|s| (s.bucket, s.key)));
    }
    let grace = Duration::from_secs(state.config.records.gc_grace_secs);
    let report = state
        .engine
        .gc(
            |bucket, key| referenced.contains(&(bucket.to_owned(), key.to_owned())),
            grace,
        )
        .await;
    for (bucket, error) in &report.errors {
        tracing::warn!(%bucket, %error, "gc could not list or delete");
    }
    if report.temporary > 0 {
        tracing::info!(
            files = report.temporary,
            "removed temporary files left by a crash"
        );
    }
    Ok(report.deleted.len() + report.temporary)
}

/// Runs the collector forever at the configured interval.
pub async fn run(state: web::Data<AppState>) {
    let every = Duration::from_secs(state.config.records.collector_interval_secs.max(1));
    let mut ticker = tokio::time::interval(every);
    let mut pass: u64 = 0;
    loop {
        ticker.tick().await;
        match purge_deleted(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(records = n, "purged shards of deleted records"),
            Err(e) => tracing::warn!(error = %e, "purge pass failed"),
        }
        if pass.is_multiple_of(SWEEP_EVERY) {
            match sweep_unreferenced(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(objects = n, "collected unreferenced shards"),
                Err(e) => tracing::warn!(error = %e, "gc sweep failed"),
            }
        }
        pass += 1;
    }
}
