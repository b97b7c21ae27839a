//! Scrub, repair, drain and re-spreading: read every shard of a record (data and parity),
//! check length and hash, and in repair mode give every shard that needs one a new home.
//!
//! A get fetches parity only when a data shard is missing, so it sees only part of the damage;
//! a scrub sees all of it. Repair works on ciphertext shards only: Reed-Solomon over the sealed
//! bytes reproduces the exact objects written at upload, so it needs no key and never produces
//! plaintext, and every rebuilt shard is written only when its hash equals the manifest's.
//!
//! Which shards move:
//! - a **damaged** shard (missing, corrupt, or on a bucket marked [`BucketState::Down`]) is
//!   rebuilt from `d` good shards of its stripe and written back to its own bucket under its
//!   own key when the placement rule allows, else to another bucket under a new key;
//! - every shard on a bucket marked [`BucketState::Evict`] (drain) is copied, or rebuilt if it
//!   cannot be read, to another bucket;
//! - in a **misplaced** stripe (two shards in one location, or more than the rule allows on one
//!   provider) the shards that break the rule move to buckets that keep it, where there are any;
//! - shards on a bucket marked [`BucketState::Unavailable`] (a provider that is down right now)
//!   stay where they are: they are neither read nor rebuilt, so an outage causes no mass rebuild.
//!
//! Targets follow [`crate::placement`], the rule uploads use, and are only buckets in
//! [`BucketState::Ok`]. When a shard changes bucket or key, the report carries the new manifest
//! (new root hash) for the caller to commit atomically, the superseded objects to delete after
//! that commit, and the new objects to delete if the commit fails.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{StreamExt, future, stream};
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};

use crate::engine::{Engine, Inner};
use crate::error::{EngineError, Erasure, StoreError};
use crate::get::fetch_verified;
use crate::manifest::{Manifest, ShardEntry};
use crate::{placement, stripe};

/// What [`Engine::scrub`] does with damage it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScrubMode {
    /// Only check and report; nothing is written.
    Check,
    /// Check, then give every shard that needs it a new home (see the module doc).
    Repair,
}

/// How a heal treats one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BucketState {
    /// Read from it and write to it.
    #[default]
    Ok,
    /// Its provider is unreachable right now: its shards are neither read nor rebuilt (repair
    /// of them is deferred) and nothing is written to it.
    Unavailable,
    /// Gone for good (or unreachable for longer than the operator waits): its shards count as
    /// lost and are rebuilt elsewhere; nothing is read from or written to it.
    Down,
    /// Being drained: its shards are read where possible and every one moves elsewhere;
    /// nothing is written to it.
    Evict,
}

/// Options of [`Engine::heal`].
#[derive(Debug, Clone)]
pub struct HealOptions {
    /// Check only, or repair.
    pub mode: ScrubMode,
    /// Buckets not in [`BucketState::Ok`], by name.
    pub buckets: HashMap<String, BucketState>,
}

impl HealOptions {
    /// Every bucket usable.
    pub fn new(mode: ScrubMode) -> Self {
        Self {
            mode,
            buckets: HashMap::new(),
        }
    }

    /// Marks a bucket.
    #[must_use]
    pub fn with(mut self, bucket: impl Into<String>, state: BucketState) -> Self {
        self.buckets.insert(bucket.into(), state);
        self
    }

    fn state(&self, bucket: &str) -> BucketState {
        self.buckets.get(bucket).copied().unwrap_or_default()
    }
}

/// How much redundancy a record has left, worst stripe first. Ordered from best to worst, so
/// the class of a record is the maximum over its stripes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordClass {
    /// Every shard intact and placed by the rule.
    Healthy,
    /// Every shard intact, but some stripe breaks the placement rule: two shards in one
    /// location, or more shards on one provider than the rule allows (e.g. written during a
    /// provider outage). One outage there costs more than the parity covers.
    Misplaced,
    /// Some stripe lost shards but can still lose at least one more: repair soon.
    Degraded,
    /// Some stripe has exactly its data shards left (and had parity): one more loss loses data.
    AtRisk,
    /// Some stripe has fewer good shards than data shards: part of the record cannot be read.
    Lost,
}

impl RecordClass {
    /// Every class, best first.
    pub const ALL: [Self; 5] = [
        Self::Healthy,
        Self::Misplaced,
        Self::Degraded,
        Self::AtRisk,
        Self::Lost,
    ];

    /// The name used in reports and the database (`at_risk`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Misplaced => "misplaced",
            Self::Degraded => "degraded",
            Self::AtRisk => "at_risk",
            Self::Lost => "lost",
        }
    }

    /// The class with this name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
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
    /// Shards read and verified intact (in repair mode: after the repair).
    pub good: usize,
    /// Shards not read because their bucket is [`BucketState::Unavailable`].
    pub unavailable: usize,
    /// The stripe breaks the placement rule (see [`RecordClass::Misplaced`]).
    pub misplaced: bool,
}

impl StripeHealth {
    /// The class of this stripe alone. Unavailable shards are not counted as good: the class
    /// says what could be read now.
    pub fn class(&self) -> RecordClass {
        let has_parity = self.shards > self.data_shards;
        if self.good < self.data_shards {
            RecordClass::Lost
        } else if has_parity && self.good == self.data_shards {
            RecordClass::AtRisk
        } else if self.good < self.shards {
            RecordClass::Degraded
        } else if self.misplaced {
            RecordClass::Misplaced
        } else {
            RecordClass::Healthy
        }
    }
}

/// A good shard moved to another bucket (drain, re-spreading).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// Stripe number.
    pub stripe: u64,
    /// Shard index within the stripe.
    pub index: u32,
    /// The bucket it left.
    pub from: String,
    /// The bucket it went to.
    pub to: String,
}

/// Outcome of [`Engine::scrub`] / [`Engine::heal`] for one record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScrubReport {
    /// Shard objects fetched and checked.
    pub shards_checked: usize,
    /// Bytes of the shard objects fetched.
    pub bytes_checked: u64,
    /// Missing or corrupt shards found (and shards on a `Down` bucket), in stripe and index
    /// order.
    pub erasures: Vec<Erasure>,
    /// Of those, the shards rebuilt and written (repair mode only).
    pub repaired: Vec<Erasure>,
    /// Good shards moved to another bucket (repair mode only).
    pub moved: Vec<Move>,
    /// Stripes with more erasures than parity shards: part of the record is lost.
    pub lost_stripes: Vec<u64>,
    /// Shards that needed a new home but did not get one, with the reason.
    pub write_failures: Vec<(Erasure, String)>,
    /// Every stripe, in order, as the scrub left it.
    pub stripes: Vec<StripeHealth>,
    /// The manifest after the repair, when a shard changed bucket or key: the caller commits
    /// it (it has a new root hash), then deletes [`ScrubReport::superseded`].
    pub manifest: Option<Manifest>,
    /// `(bucket, key)` of objects the new manifest no longer references: delete them after
    /// committing it.
    pub superseded: Vec<(String, String)>,
    /// `(bucket, key)` of objects written for the new manifest: delete them if it is not
    /// committed.
    pub written: Vec<(String, String)>,
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

    /// Shards not read because their bucket was unavailable.
    pub fn unavailable(&self) -> usize {
        self.stripes.iter().map(|s| s.unavailable).sum()
    }

    fn merge(&mut self, s: StripeOutcome) {
        self.shards_checked += s.checked;
        self.bytes_checked += s.bytes;
        self.erasures.extend(s.erasures);
        self.repaired.extend(s.repaired);
        self.moved.extend(s.moved);
        self.lost_stripes.extend(s.lost);
        self.write_failures.extend(s.write_failures);
        self.stripes.push(s.health);
    }
}

struct StripeOutcome {
    health: StripeHealth,
    checked: usize,
    bytes: u64,
    erasures: Vec<Erasure>,
    repaired: Vec<Erasure>,
    moved: Vec<Move>,
    lost: Option<u64>,
    write_failures: Vec<(Erasure, String)>,
    /// New `(bucket, key)` per shard position that changed.
    relocated: Vec<(usize, String, String)>,
}

impl Engine {
    /// Fetches and checks every shard of the record; in [`ScrubMode::Repair`] rebuilds the
    /// damaged ones. Same as [`Engine::heal`] with every bucket usable.
    pub async fn scrub(
        &self,
        manifest: &Manifest,
        mode: ScrubMode,
    ) -> Result<ScrubReport, EngineError> {
        self.heal(manifest, &HealOptions::new(mode)).await
    }

    /// Checks every shard of the record and, in repair mode, moves every shard that needs it
    /// (module doc). Needs no key: it verifies shard hashes, never opens chunks.
    /// `parallelism` stripes are handled at once and shard I/O shares the engine's
    /// `concurrency` bound, so memory stays bounded by configuration.
    ///
    /// Errors only when the manifest is invalid or names an unknown bucket; damage, lost
    /// stripes and failed writes are reported, not returned as errors.
    pub async fn heal(
        &self,
        manifest: &Manifest,
        opts: &HealOptions,
    ) -> Result<ScrubReport, EngineError> {
        manifest.validate()?;
        for s in &manifest.shards {
            self.inner.store_index(&s.bucket)?;
        }
        let original = Arc::new(manifest.clone());
        let opts = Arc::new(opts.clone());
        let stripes = original.layout().stripe_count();
        let outcomes: Vec<StripeOutcome> = stream::iter(0..stripes)
            .map(|s| heal_stripe(&self.inner, Arc::clone(&original), s, Arc::clone(&opts)))
            .buffered(self.inner.cfg.parallelism.max(1))
            .collect()
            .await;
        let mut report = ScrubReport::default();
        let mut updated = manifest.clone();
        let mut changed = false;
        for o in outcomes {
            let base = updated
                .shards
                .partition_point(|e| e.stripe < o.health.stripe);
            for (pos, bucket, key) in &o.relocated {
                let entry = &mut updated.shards[base + pos];
                report
                    .superseded
                    .push((entry.bucket.clone(), entry.key.clone()));
                report.written.push((bucket.clone(), key.clone()));
                entry.bucket.clone_from(bucket);
                entry.key.clone_from(key);
                changed = true;
            }
            report.merge(o);
        }
        if changed {
            updated.root_hash = updated.compute_root();
            updated.validate()?;
            report.manifest = Some(updated);
        }
        Ok(report)
    }

    /// Deletes the given `(bucket, key)` objects (missing ones are fine): the superseded or
    /// written objects of a [`ScrubReport`]. Returns the failures as `(bucket, key, error)`.
    pub async fn discard(&self, objects: &[(String, String)]) -> Vec<(String, String, StoreError)> {
        let mut targets = Vec::with_capacity(objects.len());
        let mut unknown = Vec::new();
        for (bucket, key) in objects {
            match self.inner.store_index(bucket) {
                Ok(i) => targets.push((i, key.clone())),
                Err(_) => unknown.push((
                    bucket.clone(),
                    key.clone(),
                    StoreError::S3("bucket not configured".to_owned()),
                )),
            }
        }
        let mut failed = self.inner.delete_all(targets).await;
        failed.extend(unknown);
        failed
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

/// What one shard position of a stripe was found to be.
enum Found {
    Good(Bytes),
    Damaged,
    Unavailable,
}

async fn heal_stripe(
    inner: &Inner,
    manifest: Arc<Manifest>,
    s: u64,
    opts: Arc<HealOptions>,
) -> StripeOutcome {
    let entries = manifest.stripe_shards(s);
    let d = usize::try_from(manifest.layout().data_shards(s)).unwrap_or(usize::MAX);
    // `heal` checked every bucket name.
    let stores: Vec<usize> = entries
        .iter()
        .map(|e| inner.store_index(&e.bucket).unwrap_or(0))
        .collect();
    let states: Vec<BucketState> = entries.iter().map(|e| opts.state(&e.bucket)).collect();
    let alg = manifest.shard_hash;
    let fetched = future::join_all(entries.iter().zip(&states).map(|(e, st)| async move {
        match st {
            BucketState::Ok | BucketState::Evict => Some(fetch_verified(inner, e, alg).await),
            BucketState::Unavailable | BucketState::Down => None,
        }
    }))
    .await;
    let mut out = StripeOutcome {
        health: StripeHealth {
            stripe: s,
            data_shards: d,
            shards: entries.len(),
            good: 0,
            unavailable: 0,
            misplaced: !placement::misplaced(inner, &stores).is_empty(),
        },
        checked: 0,
        bytes: 0,
        erasures: Vec::new(),
        repaired: Vec::new(),
        moved: Vec::new(),
        lost: None,
        write_failures: Vec::new(),
        relocated: Vec::new(),
    };
    let mut found = Vec::with_capacity(entries.len());
    for ((e, res), st) in entries.iter().zip(fetched).zip(&states) {
        found.push(match (res, st) {
            (Some(Ok(b)), _) => {
                out.checked += 1;
                out.bytes += b.len() as u64;
                Found::Good(b)
            }
            (Some(Err(reason)), _) => {
                out.checked += 1;
                tracing::warn!(stripe = s, index = e.index, bucket = %e.bucket, %reason, "scrub found a damaged shard");
                out.erasures.push(erasure(e, reason));
                Found::Damaged
            }
            (None, BucketState::Down) => {
                out.erasures.push(erasure(e, "bucket down".to_owned()));
                Found::Damaged
            }
            (None, _) => Found::Unavailable,
        });
    }
    out.health.good = found.iter().filter(|f| matches!(f, Found::Good(_))).count();
    out.health.unavailable = found
        .iter()
        .filter(|f| matches!(f, Found::Unavailable))
        .count();
    if out.health.good < d && !out.erasures.is_empty() {
        out.lost = Some(s);
    }
    if opts.mode == ScrubMode::Check || out.health.good < d {
        return out;
    }
    let homeless = homeless(inner, &found, &states, &stores);
    if homeless.is_empty() {
        return out;
    }
    let usable: Vec<bool> = inner
        .stores
        .iter()
        .map(|(name, _)| opts.state(name) == BucketState::Ok)
        .collect();
    let place = Placed {
        entries,
        stores: &stores,
        states: &states,
        usable: &usable,
    };
    rehome(inner, &place, found, &homeless, alg, out).await
}

/// Shard positions that need a new home: damaged ones, every one on an evicted bucket, and
/// the good ones that break the placement rule among those that stay.
fn homeless(
    inner: &Inner,
    found: &[Found],
    states: &[BucketState],
    stores: &[usize],
) -> Vec<usize> {
    let mut out: Vec<usize> = (0..found.len())
        .filter(|&p| matches!(found[p], Found::Damaged) || states[p] == BucketState::Evict)
        .collect();
    let staying: Vec<usize> = (0..found.len()).filter(|p| !out.contains(p)).collect();
    let staying_stores: Vec<usize> = staying.iter().map(|&p| stores[p]).collect();
    for i in placement::misplaced(inner, &staying_stores) {
        let p = staying[i];
        if matches!(found[p], Found::Good(_)) {
            out.push(p);
        }
    }
    out.sort_unstable();
    out
}

/// Where a stripe's shards are: entries, their stores and bucket states, and which stores may
/// receive a shard.
struct Placed<'a> {
    entries: &'a [ShardEntry],
    stores: &'a [usize],
    states: &'a [BucketState],
    usable: &'a [bool],
}

/// Rebuilds (where needed) and writes the homeless shards of a stripe.
async fn rehome(
    inner: &Inner,
    place: &Placed<'_>,
    found: Vec<Found>,
    homeless: &[usize],
    alg: crate::manifest::ShardHash,
    mut out: StripeOutcome,
) -> StripeOutcome {
    let entries = place.entries;
    let s = out.health.stripe;
    let d = out.health.data_shards;
    let slots: Vec<Option<Bytes>> = found
        .into_iter()
        .map(|f| match f {
            Found::Good(b) => Some(b),
            Found::Damaged | Found::Unavailable => None,
        })
        .collect();
    let mut bytes: HashMap<usize, Bytes> = homeless
        .iter()
        .filter_map(|&p| slots[p].clone().map(|b| (p, b)))
        .collect();
    let damaged: HashSet<usize> = homeless
        .iter()
        .copied()
        .filter(|&p| slots[p].is_none())
        .collect();
    if !damaged.is_empty() {
        let input = slots.clone();
        let rebuilt = tokio::task::spawn_blocking(move || stripe::rebuild(s, d, alg, &input)).await;
        let rebuilt = match rebuilt {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return fail_all(out, &e.to_string()),
            Err(_) => return fail_all(out, "worker task failed"),
        };
        for (i, b, digest) in rebuilt {
            if !damaged.contains(&i) {
                continue;
            }
            if entries[i].digest() == Some(digest) {
                bytes.insert(i, b);
            } else {
                let e = erasure(&entries[i], "rebuilt shard does not match its hash".into());
                out.write_failures.push((e.clone(), e.reason));
            }
        }
    }
    let movers: Vec<usize> = homeless
        .iter()
        .copied()
        .filter(|p| bytes.contains_key(p))
        .collect();
    write_homes(inner, place, homeless, &movers, bytes, &damaged, out).await
}

/// Chooses a bucket for each shard in `movers` by the placement rule and writes it there.
async fn write_homes(
    inner: &Inner,
    place: &Placed<'_>,
    homeless: &[usize],
    movers: &[usize],
    mut bytes: HashMap<usize, Bytes>,
    damaged: &HashSet<usize>,
    mut out: StripeOutcome,
) -> StripeOutcome {
    let Placed {
        entries,
        stores,
        states,
        usable,
    } = *place;
    let s = out.health.stripe;
    let staying: Vec<usize> = (0..entries.len())
        .filter(|p| !homeless.contains(p))
        .map(|p| stores[p])
        .collect();
    // A damaged shard goes back under its own key when its bucket is usable and keeps the rule.
    let prefer: Vec<Option<usize>> = movers
        .iter()
        .map(|&p| (damaged.contains(&p) && states[p] == BucketState::Ok).then_some(stores[p]))
        .collect();
    let targets = placement::choose(
        inner,
        &staying,
        |i| usable[i],
        &prefer,
        placement::Spread::Distinct,
    );
    let writes = movers.iter().zip(targets).map(|(&p, target)| {
        let e = &entries[p];
        let data = bytes.remove(&p);
        async move {
            let (Some(target), Some(data)) = (target, data) else {
                return (p, Err("no bucket left for this shard".to_owned()));
            };
            let key = if target == stores[p] {
                e.key.clone()
            } else {
                let mut raw = [0u8; 16];
                OsRng.fill_bytes(&mut raw);
                hex::encode(raw)
            };
            let written = {
                let _permit = inner.io.acquire().await;
                inner.stores[target].1.put(&key, data).await
            };
            (
                p,
                written
                    .map(|()| (target, key))
                    .map_err(|err| err.to_string()),
            )
        }
    });
    let mut final_stores = stores.to_vec();
    for (p, r) in future::join_all(writes).await {
        let e = &entries[p];
        let (target, key) = match r {
            Ok(placed) => placed,
            Err(reason) => {
                out.write_failures
                    .push((erasure(e, reason.clone()), reason));
                continue;
            }
        };
        let to = inner.stores[target].0.clone();
        if target != stores[p] || key != e.key {
            out.relocated.push((p, to.clone(), key));
            final_stores[p] = target;
        }
        if damaged.contains(&p) {
            out.repaired.push(erasure(e, "rebuilt".to_owned()));
            out.health.good += 1;
        } else {
            out.moved.push(Move {
                stripe: s,
                index: e.index,
                from: e.bucket.clone(),
                to,
            });
        }
    }
    out.health.misplaced = !placement::misplaced(inner, &final_stores).is_empty();
    out
}

/// Records every damaged shard of the stripe as a failure (the rebuild itself failed).
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
            unavailable: 0,
            misplaced: shared,
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
                    unavailable: 0,
                    misplaced: true,
                },
                StripeHealth {
                    stripe: 1,
                    data_shards: 2,
                    shards: 4,
                    good: 3,
                    unavailable: 0,
                    misplaced: false,
                },
            ],
            ..ScrubReport::default()
        };
        assert_eq!(report.class(), Degraded, "the worst stripe wins");
        assert_eq!(ScrubReport::default().class(), Healthy);
    }
}
