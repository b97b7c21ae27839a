//! Scrub passes: the background scrubber (every `scrub.interval_secs`, queued repairs first,
//! rate-limited to `scrub.max_mib_per_sec`) and `medvault storage scrub`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use actix_web::web;
use medvault_engine::{HealOptions, RecordClass};
use medvault_types::RecordId;
use serde::Serialize;

use crate::db;
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::heal::{self, Healed, Why};
use crate::storage::health;
use crate::storage::outages::Outages;

/// What a pass did, summed over its records.
#[derive(Debug, Default, Serialize)]
pub struct PassReport {
    /// Records checked.
    pub records: usize,
    /// Shard objects read and verified.
    pub shards: usize,
    /// Bytes of those shards.
    pub bytes: u64,
    /// Shards rebuilt and written.
    pub rebuilt: usize,
    /// Good shards moved to another bucket.
    pub moved: usize,
    /// Records that got a new manifest.
    pub new_manifests: usize,
    /// Shards that needed a new home and did not get one.
    pub write_failures: usize,
    /// Records by the class the pass left them in.
    pub classes: BTreeMap<&'static str, usize>,
    /// Records that could not be checked (with the reason, logged).
    pub errors: usize,
    /// Seconds the pass took.
    pub seconds: f64,
}

impl PassReport {
    fn add(&mut self, healed: &Healed) {
        let r = &healed.report;
        self.records += 1;
        self.shards += r.shards_checked;
        self.bytes += r.bytes_checked;
        self.rebuilt += r.repaired.len();
        self.moved += r.moved.len();
        self.write_failures += r.write_failures.len();
        self.new_manifests += usize::from(healed.committed);
        *self.classes.entry(healed.class().as_str()).or_default() += 1;
    }

    /// Every record checked is healthy now.
    pub fn all_healthy(&self) -> bool {
        self.errors == 0
            && self
                .classes
                .iter()
                .all(|(c, n)| *n == 0 || *c == RecordClass::Healthy.as_str())
    }
}

/// Heals each record in turn, keeping shard reads under `max_mib_per_sec` (0: no limit);
/// `each` sees every record's outcome (for progress output).
pub async fn pass(
    state: &AppState,
    ids: &[RecordId],
    opts: &HealOptions,
    max_mib_per_sec: u32,
    mut each: impl FnMut(RecordId, &Healed),
) -> PassReport {
    let start = Instant::now();
    let mut report = PassReport::default();
    for &id in ids {
        match heal::heal_record(state, id, opts, Why::Scrub).await {
            Ok(Some(healed)) => {
                report.add(&healed);
                each(id, &healed);
            }
            Ok(None) => {}
            Err(e) => {
                report.errors += 1;
                tracing::warn!(record = %id, error = %e, "scrub of a record failed");
            }
        }
        if max_mib_per_sec > 0 {
            #[allow(clippy::cast_precision_loss)]
            let due = report.bytes as f64 / (f64::from(max_mib_per_sec) * 1024.0 * 1024.0);
            let ahead = due - start.elapsed().as_secs_f64();
            if ahead > 0.0 {
                tokio::time::sleep(Duration::from_secs_f64(ahead)).await;
            }
        }
    }
    report.seconds = start.elapsed().as_secs_f64();
    report
}

/// One background pass: probe the buckets, then repair the next batch.
async fn background_pass(state: &AppState, outages: &mut Outages) -> Result<PassReport, ApiError> {
    let cfg = &state.config.scrub;
    let opts = outages
        .probe(
            &state.engine,
            medvault_engine::ScrubMode::Repair,
            state.clock.now(),
            cfg.outage_grace_secs,
        )
        .await;
    let limit = i64::from(cfg.records_per_pass.max(1));
    let ids = db::run(&state.pool, move |c| health::next_batch(c, limit)).await?;
    Ok(pass(state, &ids, &opts, cfg.max_mib_per_sec, |_, _| {}).await)
}

/// Runs the scrubber forever at the configured interval.
pub async fn run(state: web::Data<AppState>) {
    let every = Duration::from_secs(state.config.scrub.interval_secs.max(1));
    let mut ticker = tokio::time::interval(every);
    let mut outages = Outages::default();
    loop {
        ticker.tick().await;
        match background_pass(&state, &mut outages).await {
            Ok(r) if r.records == 0 => {}
            Ok(r) => tracing::info!(
                records = r.records,
                shards = r.shards,
                rebuilt = r.rebuilt,
                moved = r.moved,
                classes = ?r.classes,
                "scrub pass"
            ),
            Err(e) => tracing::warn!(error = %e, "scrub pass failed"),
        }
    }
}
