//! `medvault storage ...`: scrub (and repair) every shard, drain buckets or a provider, show
//! the storage health. Part of the binary only; the work is in [`medvault_server::storage`].

use std::io::Write;

use anyhow::Context;
use clap::Subcommand;
use medvault_engine::ScrubMode;
use medvault_server::config::Config;
use medvault_server::db;
use medvault_server::state::AppState;
use medvault_server::storage::{drain, health, outages::Outages, scrubber};
use medvault_types::RecordId;

/// The storage commands.
#[derive(Subcommand)]
pub enum StorageAction {
    /// Check every shard of every live record (present, length, hash; no key needed) and
    /// print each record that is not healthy; with --repair, rebuild and re-spread. Exit
    /// status 1 when a record is left not healthy.
    Scrub {
        /// Rebuild damaged shards and re-spread misplaced ones.
        #[arg(long)]
        repair: bool,
        /// Only this record.
        #[arg(long)]
        record: Option<RecordId>,
    },
    /// Move every shard out of the named buckets (or all buckets of --provider) into the
    /// other configured buckets; unreachable buckets have their shards rebuilt. Resumable:
    /// run it again after a crash. Afterwards the buckets can leave the configuration.
    Drain {
        /// Bucket names.
        buckets: Vec<String>,
        /// Every bucket of this provider.
        #[arg(long)]
        provider: Option<String>,
    },
    /// Records by storage class, queued repairs, last and oldest scrub (JSON).
    Status,
}

/// Runs a storage command.
pub fn run(action: StorageAction) -> anyhow::Result<()> {
    let state = AppState::from_config(Config::load()?)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    match action {
        StorageAction::Scrub { repair, record } => rt.block_on(scrub(&state, repair, record)),
        StorageAction::Drain { buckets, provider } => {
            rt.block_on(drain_buckets(&state, buckets, provider.as_deref()))
        }
        StorageAction::Status => {
            let summary = rt.block_on(medvault_server::overview::storage(&std::sync::Arc::new(
                state,
            )))?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(())
        }
    }
}

async fn scrub(state: &AppState, repair: bool, record: Option<RecordId>) -> anyhow::Result<()> {
    let mode = if repair {
        ScrubMode::Repair
    } else {
        ScrubMode::Check
    };
    let opts = Outages::default()
        .probe(
            &state.engine,
            mode,
            state.clock.now(),
            state.config.scrub.outage_grace_secs,
        )
        .await;
    for (bucket, st) in &opts.buckets {
        eprintln!("bucket {bucket}: unreachable ({st:?}); its shards are not checked");
    }
    let mut total = scrubber::PassReport::default();
    let mut after: Option<String> = None;
    loop {
        let ids = match record {
            Some(id) if after.is_none() => vec![id],
            Some(_) => Vec::new(),
            None => {
                let from = after.clone();
                db::run(&state.pool, move |c| {
                    health::live_page(c, from.as_deref(), 500)
                })
                .await?
            }
        };
        let Some(last) = ids.last() else { break };
        after = Some(last.to_string());
        let r = scrubber::pass(state, &ids, &opts, 0, |id, healed| {
            let r = &healed.report;
            let class = healed.class();
            if class != medvault_engine::RecordClass::Healthy
                || !r.erasures.is_empty()
                || !r.moved.is_empty()
            {
                println!(
                    "record {id}: {} (damaged {}, rebuilt {}, moved {}, unavailable {}{})",
                    class.as_str(),
                    r.erasures.len(),
                    r.repaired.len(),
                    r.moved.len(),
                    r.unavailable(),
                    if healed.committed {
                        ", new manifest"
                    } else {
                        ""
                    }
                );
            }
        })
        .await;
        merge(&mut total, r);
    }
    #[allow(clippy::cast_precision_loss)] // display only
    let (mib, shards) = (total.bytes as f64 / (1024.0 * 1024.0), total.shards as f64);
    eprintln!(
        "scrubbed {} records, {} shards, {mib:.1} MiB in {:.1} s ({:.0} shards/s, {:.1} MiB/s)",
        total.records,
        total.shards,
        total.seconds,
        rate(shards, total.seconds),
        rate(mib, total.seconds),
    );
    println!("{}", serde_json::to_string_pretty(&total)?);
    std::io::stdout().flush().ok();
    if total.all_healthy() {
        Ok(())
    } else {
        std::process::exit(1)
    }
}

fn rate(n: f64, secs: f64) -> f64 {
    if secs > 0.0 { n / secs } else { 0.0 }
}

fn merge(total: &mut scrubber::PassReport, r: scrubber::PassReport) {
    total.records += r.records;
    total.shards += r.shards;
    total.bytes += r.bytes;
    total.rebuilt += r.rebuilt;
    total.moved += r.moved;
    total.new_manifests += r.new_manifests;
    total.write_failures += r.write_failures;
    total.errors += r.errors;
    total.seconds += r.seconds;
    for (c, n) in r.classes {
        *total.classes.entry(c).or_default() += n;
    }
}

async fn drain_buckets(
    state: &AppState,
    mut buckets: Vec<String>,
    provider: Option<&str>,
) -> anyhow::Result<()> {
    if let Some(p) = provider {
        let of_provider: Vec<String> = state
            .engine
            .config()
            .buckets
            .iter()
            .filter(|b| b.provider() == p)
            .map(|b| b.name().to_owned())
            .collect();
        anyhow::ensure!(
            !of_provider.is_empty(),
            "no configured bucket has provider {p:?}"
        );
        buckets.extend(of_provider);
    }
    buckets.sort();
    buckets.dedup();
    anyhow::ensure!(
        !buckets.is_empty(),
        "name the buckets to drain, or --provider"
    );
    let report = drain::drain(state, &buckets, |done, total, r| {
        eprintln!(
            "drain: {done}/{total} records, {} shards moved, {} rebuilt",
            r.moved, r.rebuilt
        );
    })
    .await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if report.remaining == 0 {
        eprintln!(
            "drained: no record references {} any more; it can be removed from the configuration",
            buckets.join(", ")
        );
        Ok(())
    } else {
        eprintln!(
            "{} records still reference the buckets: run the drain again",
            report.remaining
        );
        std::process::exit(1)
    }
}
