//! The start-up check that every bucket a manifest names is configured: a bucket removed from
//! the configuration while records still have shards in it would make those records read
//! with erasures (or not at all). Drain it first (`medvault storage drain`).

use std::collections::{BTreeMap, HashSet};

use diesel::prelude::*;
use medvault_engine::Manifest;

use crate::db::DbConn;
use crate::db::schema::records;
use crate::error::ApiError;

/// Manifests read per query.
const PAGE: i64 = 1000;

/// Records (live, or deleted with shards not yet collected) per bucket name they reference
/// that `configured` lacks.
fn unknown_buckets(
    conn: &mut DbConn,
    configured: &HashSet<&str>,
) -> Result<BTreeMap<String, u64>, ApiError> {
    let mut missing: BTreeMap<String, u64> = BTreeMap::new();
    let mut after = String::new();
    loop {
        let page: Vec<(String, String)> = records::table
            .filter(records::manifest.is_not_null())
            .filter(records::id.gt(&after))
            .order(records::id.asc())
            .select((records::id, records::manifest.assume_not_null()))
            .limit(PAGE)
            .load(conn)?;
        let Some((last, _)) = page.last() else {
            return Ok(missing);
        };
        after.clone_from(last);
        for (_, text) in &page {
            let manifest: Manifest = serde_json::from_str(text).map_err(ApiError::internal)?;
            let names: HashSet<&str> = manifest.shards.iter().map(|s| s.bucket.as_str()).collect();
            for name in names.into_iter().filter(|n| !configured.contains(n)) {
                *missing.entry(name.to_owned()).or_default() += 1;
            }
        }
    }
}

/// Refuses (with a message naming each bucket and its record count) when a manifest names a
/// bucket the configuration lacks.
pub fn buckets_configured(
    conn: &mut DbConn,
    engine: &medvault_engine::Engine,
) -> anyhow::Result<()> {
    let configured: HashSet<&str> = engine.bucket_names().collect();
    let missing = unknown_buckets(conn, &configured)
        .map_err(|e| anyhow::anyhow!("checking the buckets manifests name: {e}"))?;
    if missing.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = missing
        .iter()
        .map(|(b, n)| format!("bucket {b:?} (still holds shards of {n} records)"))
        .collect();
    anyhow::bail!(
        "the storage configuration lacks {}; put it back in the configuration and drain it \
         with `medvault storage drain` before removing it",
        list.join(", ")
    )
}
