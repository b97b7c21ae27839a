//! Scrub and repair: read every shard of a record (data and parity), check length and hash,
//! and optionally write each damaged shard back with its original bytes.
//!
//! A get fetches parity only when a data shard is missing, so it sees only part of the damage;
//! a scrub sees all of it. Repair rebuilds shards from the sealed bytes with Reed-Solomon, so
//! it needs no key and never produces plaintext; a rebuilt shard is written only when its
//! hash equals the manifest's, under the same bucket and object key. The manifest (and the
//! root hash the server's ledger recorded) therefore stays valid.

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{StreamExt, future, stream};
use serde::{Deserialize, Serialize};

use crate::engine::{Engine, Inner};
use crate::error::{EngineError, Erasure};
use crate::get::fetch_verified;
use crate::manifest::{Manifest, ShardEntry};
use crate::stripe;

/// What [`Engine::scrub`] does with damage it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScrubMode {
    /// Only check and report; nothing is written.
    Check,
    /// Check, then rewrite every repairable damaged shard with its original bytes.
    Repair,
}

/// How much redundancy a record has left, worst stripe first. Ordered from best to worst, so
/// the class of a record is the maximum over its stripes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordClass {
    /// Every shard intact, every shard of a stripe in its own bucket.
    Healthy,
    /// Every shard intact, but two shards of some stripe live in the same bucket (the same
    /// directory or S3 bucket under two names): one outage there costs two shards.
    Misplaced,
    /// Some stripe lost shards but can still lose at least one more: repair soon.
    Degraded,
    /// Some stripe has exactly its data shards left (and had parity): one more loss loses data.
    AtRisk,
    /// Some stripe has fewer good shards than data shards: part of the record cannot be read.
    Lost,
}

/// The state of one stripe after a scrub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeHealth {
    /// Stripe number.
    pub stripe: u64,
    /// Data shards of the stripe (`k`, or fewer in the last stripe).
    pub data_shards: usize,
    /// All shards of the stripe, data and parity.
    pub shards: usize,
    /// Shards intact when the scrub ended (in repair mode: after the repair).
    pub good: usize,
    /// Two shards of this stripe share a bucket location.
    pub shared_bucket: bool,
}

impl StripeHealth {
    /// The class of this stripe alone.
    pub fn class(&self) -> RecordClass {
        let has_parity = self.shards > self.data_shards;
        if self.good < self.data_shards {
            RecordClass::Lost
        } else if has_parity && self.good == self.data_shards {
            RecordClass::AtRisk
        } else if self.good < self.shards {
            RecordClass::Degraded
        } else if self.shared_bucket {
            RecordClass::Misplaced
        } else {
            RecordClass::Healthy
        }
    }
}

/// Outcome of [`Engine::scrub`] for one record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScrubReport {
    /// Shard objects fetched and checked.
    pub shards_checked: usize,
    /// Missing or corrupt shards found, in stripe and index order.
    pub erasures: Vec<Erasure>,
    /// Of those, the shards written back with their original bytes (repair mode only).
    pub repaired: Vec<Erasure>,
    /// Stripes with more erasures than parity shards: part of the record is lost.
    pub lost_stripes: Vec<u64>,
    /// Damaged shards that could be rebuilt but not written back, with the reason.
    pub write_failures: Vec<(Erasure, String)>,
    /// Every stripe, in order, as the scrub left it.
    pub stripes: Vec<StripeHealth>,
}

impl ScrubReport {
    /// Every shard was present and intact.
    pub fn is_healthy(&self) -> bool {
        self.erasures.is_empty()
    }

    /// No data is lost and every damaged shard was repaired, so the record again tolerates
    /// `m` erasures per stripe.
    pub fn is_whole(&self) -> bool {
        self.lost_stripes.is_empty() && self.erasures.len() == self.repaired.len()
    }

    /// The record's class: the worst of its stripes. After [`ScrubMode::Check`] it describes
    /// the record as found; after [`ScrubMode::Repair`], as left by the repair.
    pub fn class(&self) -> RecordClass {
        self.stripes
            .iter()
            .map(StripeHealth::class)
            .max()
            .unwrap_or(RecordClass::Healthy)
    }

    fn merge(&mut self, s: StripeOutcome) {
        self.shards_checked += s.health.shards;
        self.erasures.extend(s.erasures);
        self.repaired.extend(s.repaired);
        self.lost_stripes.extend(s.lost);
        self.write_failures.extend(s.write_failures);
        self.stripes.push(s.health);
    }
}

struct StripeOutcome {
    health: StripeHealth,
    erasures: Vec<Erasure>,
    repaired: Vec<Erasure>,
    lost: Option<u64>,
    write_failures: Vec<(Erasure, String)>,
}

impl Engine {
    /// Fetches and checks every shard of the record; in [`ScrubMode::Repair`] rebuilds the
    /// damaged ones and writes them back. Needs no key: it verifies shard hashes, never opens
    /// chunks. `parallelism` stripes are handled at once and shard I/O shares the engine's
    /// `concurrency` bound, so memory stays bounded by configuration.
    ///
    /// Errors only when the manifest is invalid or names an unknown bucket; damage, lost
    /// stripes and failed writes are reported, not returned as errors.
    pub async fn scrub(
        &self,
        manifest: &Manifest,
        mode: ScrubMode,
    ) -> Result<ScrubReport, EngineError> {
        manifest.validate()?;
        for s in &manifest.shards {
            self.inner.store_index(&s.bucket)?;
        }
        let manifest = Arc::new(manifest.clone());
        let stripes = manifest.layout().stripe_count();
        let outcomes: Vec<StripeOutcome> = stream::iter(0..stripes)
            .map(|s| scrub_stripe(&self.inner, Arc::clone(&manifest), s, mode))
            .buffered(self.inner.cfg.parallelism.max(1))
            .collect()
            .await;
        let mut report = ScrubReport::default();
        for o in outcomes {
            report.merge(o);
        }
        Ok(report)
    }
}

fn erasure(e: &ShardEntry, reason: String) -> Erasure {
    Erasure {
        stripe: e.stripe,
        index: e.index,
        bucket: e.bucket.clone(),
        key: e.key.clone(),
        reason,
    }
}

async fn scrub_stripe(
    inner: &Inner,
    manifest: Arc<Manifest>,
    s: u64,
    mode: ScrubMode,
) -> StripeOutcome {
    let entries = manifest.stripe_shards(s);
    let d = usize::try_from(manifest.layout().data_shards(s)).unwrap_or(usize::MAX);
    let mut places = HashSet::new();
    let shared_bucket = !entries.iter().all(|e| {
        let place = inner
            .store_index(&e.bucket)
            .map_or(e.bucket.as_str(), |i| inner.locations[i].as_str());
        places.insert(place)
    });
    let alg = manifest.shard_hash;
    let fetched = future::join_all(entries.iter().map(|e| fetch_verified(inner, e, alg))).await;
    let mut out = StripeOutcome {
        health: StripeHealth {
            stripe: s,
            data_shards: d,
            shards: entries.len(),
            good: 0,
            shared_bucket,
        },
        erasures: Vec::new(),
        repaired: Vec::new(),
        lost: None,
        write_failures: Vec::new(),
    };
    let mut slots: Vec<Option<Bytes>> = Vec::with_capacity(entries.len());
    for (e, res) in entries.iter().zip(fetched) {
        match res {
            Ok(b) => slots.push(Some(b)),
            Err(reason) => {
                tracing::warn!(stripe = s, index = e.index, bucket = %e.bucket, %reason, "scrub found a damaged shard");
                out.erasures.push(erasure(e, reason));
                slots.push(None);
            }
        }
    }
    out.health.good = slots.iter().filter(|x| x.is_some()).count();
    if out.erasures.is_empty() {
        return out;
    }
    if out.health.good < d {
        out.lost = Some(s);
        return out;
    }
    if mode == ScrubMode::Check {
        return out;
    }
    let rebuilt = tokio::task::spawn_blocking(move || stripe::rebuild(s, d, alg, &slots)).await;
    let rebuilt = match rebuilt {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return fail_all(out, &e.to_string()),
        Err(_) => return fail_all(out, "worker task failed"),
    };
    let writes = rebuilt.into_iter().map(|(i, bytes, digest)| {
        let e = &entries[i];
        async move {
            if e.digest() != Some(digest) {
                return (e, Err("rebuilt shard does not match its hash".to_owned()));
            }
            let r = match inner.store_index(&e.bucket) {
                Ok(idx) => {
                    let _permit = inner.io.acquire().await;
                    inner.stores[idx].1.put(&e.key, bytes).await
                }
                Err(err) => return (e, Err(err.to_string())),
            };
            (e, r.map_err(|err| err.to_string()))
        }
    });
    for (e, r) in future::join_all(writes).await {
        let Some(found) = out.erasures.iter().find(|x| x.index == e.index).cloned() else {
            continue;
        };
        match r {
            Ok(()) => {
                out.repaired.push(found);
                out.health.good += 1;
            }
            Err(reason) => out.write_failures.push((found, reason)),
        }
    }
    out
}

/// Records every erasure of the stripe as a failure (the rebuild itself failed).
fn fail_all(mut out: StripeOutcome, reason: &str) -> StripeOutcome {
    out.write_failures = out
        .erasures
        .iter()
        .map(|e| (e.clone(), reason.to_owned()))
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripe(data_shards: usize, shards: usize, good: usize, shared: bool) -> RecordClass {
        StripeHealth {
            stripe: 0,
            data_shards,
            shards,
            good,
            shared_bucket: shared,
        }
        .class()
    }

    #[test]
    fn stripe_classes() {
        use RecordClass::{AtRisk, Degraded, Healthy, Lost, Misplaced};
        assert_eq!(stripe(4, 6, 6, false), Healthy);
        assert_eq!(stripe(4, 6, 6, true), Misplaced);
        assert_eq!(stripe(4, 6, 5, true), Degraded);
        assert_eq!(stripe(4, 6, 4, false), AtRisk);
        assert_eq!(stripe(4, 6, 3, false), Lost);
        // m = 0: no "at risk" state, any loss is a loss.
        assert_eq!(stripe(3, 3, 3, false), Healthy);
        assert_eq!(stripe(3, 3, 2, false), Lost);
        // A partial last stripe counts its own data shards.
        assert_eq!(stripe(1, 3, 1, false), AtRisk);
        assert!(Healthy < Misplaced && Misplaced < Degraded && Degraded < AtRisk && AtRisk < Lost);
        let report = ScrubReport {
            stripes: vec![
                StripeHealth {
                    stripe: 0,
                    data_shards: 4,
                    shards: 6,
                    good: 6,
                    shared_bucket: true,
                },
                StripeHealth {
                    stripe: 1,
                    data_shards: 2,
                    shards: 4,
                    good: 3,
                    shared_bucket: false,
                },
            ],
            ..ScrubReport::default()
        };
        assert_eq!(report.class(), Degraded, "the worst stripe wins");
        assert_eq!(ScrubReport::default().class(), Healthy);
    }
}
