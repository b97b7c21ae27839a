//! Which buckets are unreachable, and since when. Each scrub pass probes every bucket first:
//! a bucket that fails its probe is [`BucketState::Unavailable`] (its shards are left alone,
//! their repair waits) until it has failed for longer than `scrub.outage_grace_secs`; then it is
//! [`BucketState::Down`] and its shards are rebuilt elsewhere. An outage therefore never
//! triggers a mass rebuild by itself, and a provider that is gone for good is healed around.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use medvault_engine::{BucketState, Engine, HealOptions, ScrubMode};

/// Outages seen by this process.
#[derive(Debug, Default)]
pub struct Outages {
    since: HashMap<String, NaiveDateTime>,
}

impl Outages {
    /// Probes every bucket and returns heal options marking the unreachable ones.
    pub async fn probe(
        &mut self,
        engine: &Engine,
        mode: ScrubMode,
        now: NaiveDateTime,
        grace_secs: u64,
    ) -> HealOptions {
        let mut opts = HealOptions::new(mode);
        let grace = chrono::Duration::seconds(i64::try_from(grace_secs).unwrap_or(i64::MAX));
        for b in engine.health().await {
            if b.ok {
                if self.since.remove(&b.name).is_some() {
                    tracing::info!(bucket = %b.name, "bucket reachable again");
                }
                continue;
            }
            let since = *self.since.entry(b.name.clone()).or_insert_with(|| {
                tracing::warn!(bucket = %b.name, error = ?b.error, "bucket unreachable; repairs of its shards wait");
                now
            });
            let state = if now.signed_duration_since(since) >= grace {
                BucketState::Down
            } else {
                BucketState::Unavailable
            };
            opts = opts.with(b.name, state);
        }
        opts
    }
}
