//! Scrub and repair on `DirStore`: damage (deleted, flipped, truncated shards, data and parity)
//! is found by a check, rewritten byte for byte by a repair without any key, and the record
//! reads back identical; beyond `m` erasures a stripe is reported lost.

mod common;

use std::collections::BTreeSet;

use bytes::Bytes;
use common::{Fixture, SMALL_CHUNK, data, get, put, sha};
use medvault_engine::{
    BucketConfig, BucketState, Engine, EngineError, HealOptions, KeyRing, Manifest, RecordClass,
    ScrubMode, ShardEntry, StorageConfig,
};
use uuid::Uuid;

const C: usize = SMALL_CHUNK;

#[derive(Clone, Copy)]
enum Damage {
    Delete,
    Flip,
    Truncate,
}

async fn damage(f: &Fixture, e: &ShardEntry, how: Damage) {
    match how {
        Damage::Delete => f.delete_shard(e).await,
        Damage::Flip => f.flip_bit(e).await,
        Damage::Truncate => {
            let d = f.read_shard(e).await;
            f.write_shard(e, d.slice(..d.len() - 2)).await;
        }
    }
}

/// Up to `m` shards of each stripe to damage, varying data/parity and the kind of damage:
/// stripe 0 loses `m` shards (data first), stripe 1 its last parity shard, stripe 2 one data
/// and one parity shard, and so on.
fn victims(man: &Manifest) -> Vec<(ShardEntry, Damage)> {
    let kinds = [Damage::Delete, Damage::Flip, Damage::Truncate];
    let mut out = Vec::new();
    let stripes = man.shards.last().map_or(0, |x| x.stripe + 1);
    for (nth, s) in (0..stripes).enumerate() {
        let shards: Vec<&ShardEntry> = man.shards.iter().filter(|x| x.stripe == s).collect();
        let n = shards.len();
        let d = n - man.m as usize;
        let picks: Vec<usize> = match nth % 3 {
            _ if man.m == 0 => Vec::new(),
            0 => (0..man.m as usize).collect(),
            1 => vec![n - 1],
            _ if man.m >= 2 => vec![d - 1, d],
            _ => vec![d - 1],
        };
        for (j, i) in picks.into_iter().enumerate() {
            out.push((shards[i].clone(), kinds[(nth + j) % kinds.len()]));
        }
    }
    out
}

fn positions<'a>(
    it: impl IntoIterator<Item = &'a medvault_engine::Erasure>,
) -> BTreeSet<(u64, u32)> {
    it.into_iter().map(|x| (x.stripe, x.index)).collect()
}

/// The class the damage plan implies for the record (worst stripe).
fn expected_class(man: &Manifest, victims: &[(ShardEntry, Damage)]) -> RecordClass {
    let stripes = man.shards.last().map_or(0, |x| x.stripe + 1);
    (0..stripes)
        .map(|s| {
            let n = man.shards.iter().filter(|x| x.stripe == s).count();
            let d = n - man.m as usize;
            let good = n - victims.iter().filter(|(e, _)| e.stripe == s).count();
            if good < d {
                RecordClass::Lost
            } else if man.m > 0 && good == d {
                RecordClass::AtRisk
            } else if good < n {
                RecordClass::Degraded
            } else {
                RecordClass::Healthy
            }
        })
        .max()
        .unwrap_or(RecordClass::Healthy)
}

/// An engine over the same buckets whose key ring cannot unwrap anything: scrub needs no key.
fn keyless(f: &Fixture, k: usize, m: usize) -> Engine {
    let cfg = StorageConfig {
        chunk_size: C,
        k,
        m,
        buckets: f.buckets.clone(),
        ..StorageConfig::default()
    };
    let other = KeyRing::parse("x9:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=").expect("ring");
    Engine::new(cfg, other).expect("engine")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrub_finds_and_repairs_up_to_m_erasures_per_stripe() {
    for (k, m) in [(4, 2), (3, 1), (2, 3), (3, 0)] {
        let f = Fixture::dir(k + m);
        let e = f.engine(k, m, C);
        let scrubber = keyless(&f, k, m);
        for len in [0, 1, C, 4 * C, 9 * C + 1001, 14 * C + 17] {
            let ctx = format!("k={k} m={m} len={len}");
            let id = Uuid::new_v4();
            let bytes = data(len, len as u64 + 3);
            let (man, w) = put(&e, id, &bytes).await;

            let clean = scrubber.scrub(&man, ScrubMode::Check).await.expect("scrub");
            assert!(clean.is_healthy() && clean.is_whole(), "{ctx}: {clean:?}");
            assert_eq!(clean.shards_checked, man.shards.len(), "{ctx}");
            assert_eq!(clean.class(), RecordClass::Healthy, "{ctx}");

            let mut originals: Vec<Bytes> = Vec::new();
            for s in &man.shards {
                originals.push(f.read_shard(s).await);
            }
            let plan = victims(&man);
            for (s, how) in &plan {
                damage(&f, s, *how).await;
            }
            let want = positions(
                &plan
                    .iter()
                    .map(|(s, _)| medvault_engine::Erasure {
                        stripe: s.stripe,
                        index: s.index,
                        bucket: s.bucket.clone(),
                        key: s.key.clone(),
                        reason: String::new(),
                    })
                    .collect::<Vec<_>>(),
            );

            let found = scrubber.scrub(&man, ScrubMode::Check).await.expect("check");
            assert_eq!(positions(&found.erasures), want, "{ctx}");
            assert!(
                found.repaired.is_empty() && found.lost_stripes.is_empty(),
                "{ctx}"
            );
            assert_eq!(found.class(), expected_class(&man, &plan), "{ctx}");
            if !plan.is_empty() {
                assert!(!found.is_whole(), "{ctx}");
                // Check mode wrote nothing: the damage is still there.
                let again = scrubber.scrub(&man, ScrubMode::Check).await.expect("check");
                assert_eq!(positions(&again.erasures), want, "{ctx}");
            }

            let fixed = scrubber
                .scrub(&man, ScrubMode::Repair)
                .await
                .expect("repair");
            assert_eq!(positions(&fixed.erasures), want, "{ctx}");
            assert_eq!(positions(&fixed.repaired), want, "{ctx}");
            assert!(fixed.write_failures.is_empty(), "{ctx}: {fixed:?}");
            assert!(fixed.is_whole(), "{ctx}");
            assert_eq!(fixed.class(), RecordClass::Healthy, "{ctx}");

            let after = scrubber.scrub(&man, ScrubMode::Check).await.expect("check");
            assert!(after.is_healthy(), "{ctx}: {after:?}");
            for (s, orig) in man.shards.iter().zip(&originals) {
                assert_eq!(
                    &f.read_shard(s).await,
                    orig,
                    "{ctx}: shard rewritten exactly"
                );
            }
            let back = get(&e, &man, &w, id).await.expect("get");
            assert_eq!(sha(&back), sha(&bytes), "{ctx}");
            e.delete(&man).await.expect("delete");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrub_reports_lost_stripes_and_repairs_the_rest() {
    let f = Fixture::dir(6);
    let e = f.engine(4, 2, C);
    let id = Uuid::new_v4();
    let bytes = data(9 * C + 1001, 11); // stripes of 4, 4 and 2 chunks
    let (man, w) = put(&e, id, &bytes).await;
    let stripe = |s: u64| -> Vec<ShardEntry> {
        man.shards
            .iter()
            .filter(|x| x.stripe == s)
            .cloned()
            .collect()
    };
    // Stripe 1 loses three shards (m = 2): lost. Stripe 2 loses one parity shard: repairable.
    let s1 = stripe(1);
    f.delete_shard(&s1[0]).await;
    f.flip_bit(&s1[2]).await;
    f.delete_shard(&s1[5]).await;
    let s2 = stripe(2);
    f.delete_shard(&s2[3]).await;

    let found = e.scrub(&man, ScrubMode::Check).await.expect("check");
    assert_eq!(found.lost_stripes, vec![1]);
    assert_eq!(found.erasures.len(), 4);
    assert_eq!(found.class(), RecordClass::Lost);
    let classes: Vec<RecordClass> = found
        .stripes
        .iter()
        .map(medvault_engine::StripeHealth::class)
        .collect();
    assert_eq!(
        classes,
        [
            RecordClass::Healthy,
            RecordClass::Lost,
            RecordClass::Degraded
        ]
    );

    let fixed = e.scrub(&man, ScrubMode::Repair).await.expect("repair");
    assert_eq!(fixed.lost_stripes, vec![1]);
    assert_eq!(
        positions(&fixed.repaired),
        BTreeSet::from([(2, s2[3].index)])
    );
    assert!(!fixed.is_whole());
    assert_eq!(fixed.class(), RecordClass::Lost);
    assert_eq!(fixed.stripes[2].class(), RecordClass::Healthy);
    assert!(matches!(
        get(&e, &man, &w, id).await,
        Err(EngineError::TooManyErasures { stripe: 1, .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrub_with_m0_reports_any_erasure_as_lost() {
    let f = Fixture::dir(3);
    let e = f.engine(3, 0, C);
    let id = Uuid::new_v4();
    let bytes = data(4 * C + 5, 12); // stripes of 3 and 2 chunks
    let (man, _) = put(&e, id, &bytes).await;
    assert_eq!(
        e.scrub(&man, ScrubMode::Check)
            .await
            .expect("check")
            .class(),
        RecordClass::Healthy
    );
    f.flip_bit(&man.shards[4]).await; // stripe 1, chunk 4
    let r = e.scrub(&man, ScrubMode::Repair).await.expect("repair");
    assert_eq!(r.lost_stripes, vec![1]);
    assert!(r.repaired.is_empty());
    assert_eq!(r.class(), RecordClass::Lost);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrub_classifies_at_risk_and_misplaced() {
    // Three bucket names, two of them the same directory: every stripe of k=2, m=1 uses all
    // three names, so two of its shards always share a location.
    let f = Fixture::dir(2);
    let BucketConfig::Dir { path, .. } = &f.buckets[1] else {
        unreachable!()
    };
    let mut buckets = f.buckets.clone();
    buckets.push(BucketConfig::Dir {
        name: "alias".to_owned(),
        path: path.join("."),
        provider: None,
    });
    let cfg = StorageConfig {
        chunk_size: C,
        k: 2,
        m: 1,
        buckets,
        ..StorageConfig::default()
    };
    let e = Engine::new(cfg, common::keyring()).expect("engine");
    let id = Uuid::new_v4();
    let bytes = data(4 * C, 13); // two full stripes
    let (man, w) = put(&e, id, &bytes).await;
    let r = e.scrub(&man, ScrubMode::Check).await.expect("check");
    assert!(r.is_healthy());
    assert_eq!(r.class(), RecordClass::Misplaced);
    assert!(r.stripes.iter().all(|s| s.misplaced));

    // One lost shard with m = 1: exactly k good shards left. (Deleted through both
    // directories, whichever name it was written under.)
    let victim = &man.shards[0];
    for store in f.stores.values() {
        store.delete(&victim.key).await.expect("delete");
    }
    let r = e.scrub(&man, ScrubMode::Check).await.expect("check");
    assert_eq!(r.class(), RecordClass::AtRisk);
    let r = e.scrub(&man, ScrubMode::Repair).await.expect("repair");
    assert_eq!(
        r.class(),
        RecordClass::Misplaced,
        "repair keeps the placement"
    );
    let back = get(&e, &man, &w, id).await.expect("get");
    assert_eq!(sha(&back), sha(&bytes));
}

/// `(stripe) -> buckets` of a manifest.
fn stripe_buckets(m: &Manifest) -> Vec<Vec<String>> {
    let stripes = m.shards.last().map_or(0, |x| x.stripe + 1);
    (0..stripes)
        .map(|s| {
            m.shards
                .iter()
                .filter(|e| e.stripe == s)
                .map(|e| e.bucket.clone())
                .collect()
        })
        .collect()
}

/// Draining a bucket (evict) copies every shard it holds elsewhere, rebuilding the damaged
/// one, into buckets holding no other shard of the stripe; the new manifest reads back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evicting_a_bucket_moves_its_shards_and_rebuilds_the_damaged_one() {
    let f = Fixture::dir(8);
    let e = f.engine(4, 2, C);
    let id = Uuid::new_v4();
    let bytes = data(C * 9 + 17, 7);
    let (man, w) = put(&e, id, &bytes).await;
    let drained = man.shards[0].bucket.clone();
    let in_drained: Vec<ShardEntry> = man
        .shards
        .iter()
        .filter(|s| s.bucket == drained)
        .cloned()
        .collect();
    f.delete_shard(&in_drained[0]).await;
    let opts = HealOptions::new(ScrubMode::Repair).with(drained.clone(), BucketState::Evict);
    let r = e.heal(&man, &opts).await.expect("heal");
    assert_eq!(r.repaired.len(), 1, "{r:?}");
    assert_eq!(r.moved.len(), in_drained.len() - 1, "{r:?}");
    assert_eq!(r.class(), RecordClass::Healthy);
    let new = r.manifest.clone().expect("a new manifest");
    new.validate().expect("valid");
    assert_ne!(new.root_hash, man.root_hash);
    for buckets in stripe_buckets(&new) {
        assert!(!buckets.contains(&drained));
        let distinct: BTreeSet<&String> = buckets.iter().collect();
        assert_eq!(distinct.len(), buckets.len());
    }
    // Only the moved shards changed; each kept its length and hash.
    for (a, b) in man.shards.iter().zip(&new.shards) {
        assert_eq!((a.len, &a.hash), (b.len, &b.hash));
        assert_eq!(a.bucket == drained, a.key != b.key || a.bucket != b.bucket);
    }
    assert_eq!(r.superseded.len(), in_drained.len());
    assert!(e.discard(&r.superseded).await.is_empty());
    assert_eq!(
        sha(&get(&e, &new, &w, id).await.expect("read")),
        sha(&bytes)
    );
    // The old manifest lost the drained shards (at most one per stripe): it still reads.
    assert_eq!(
        sha(&get(&e, &man, &w, id).await.expect("old read")),
        sha(&bytes)
    );
    let again = e.scrub(&new, ScrubMode::Check).await.expect("check");
    assert!(again.is_healthy() && again.class() == RecordClass::Healthy);
}

/// An unavailable bucket (provider down now) defers: nothing of it is read, rebuilt or
/// written; a bucket down for good has its shards rebuilt elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_defers_and_down_rebuilds_elsewhere() {
    let f = Fixture::dir(7);
    let e = f.engine(4, 2, C);
    let id = Uuid::new_v4();
    let bytes = data(C * 6 + 3, 11);
    let (man, w) = put(&e, id, &bytes).await;
    let gone = man.shards[1].bucket.clone();
    let held = man.shards.iter().filter(|s| s.bucket == gone).count();
    let wait = HealOptions::new(ScrubMode::Repair).with(gone.clone(), BucketState::Unavailable);
    let r = e.heal(&man, &wait).await.expect("heal");
    assert_eq!(r.unavailable(), held);
    assert!(
        r.repaired.is_empty() && r.moved.is_empty() && r.manifest.is_none(),
        "{r:?}"
    );
    assert_eq!(r.class(), RecordClass::Degraded);
    let down = HealOptions::new(ScrubMode::Repair).with(gone.clone(), BucketState::Down);
    let r = e.heal(&man, &down).await.expect("heal");
    assert_eq!(r.repaired.len(), held, "{r:?}");
    let new = r.manifest.clone().expect("new manifest");
    assert!(new.shards.iter().all(|s| s.bucket != gone));
    assert_eq!(
        sha(&get(&e, &new, &w, id).await.expect("read")),
        sha(&bytes)
    );
}

/// Uploads and repairs keep at most `m` shards of a stripe on one provider where the
/// providers allow it; a stripe that breaks the rule is misplaced and re-spread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placement_keeps_m_per_provider_and_respreads_misplaced_stripes() {
    let f = Fixture::dir(8);
    let label = |spec: &dyn Fn(usize) -> &'static str| -> Vec<BucketConfig> {
        f.buckets
            .iter()
            .enumerate()
            .map(|(i, b)| match b {
                BucketConfig::Dir { name, path, .. } => BucketConfig::Dir {
                    name: name.clone(),
                    path: path.clone(),
                    provider: Some(spec(i).to_owned()),
                },
                BucketConfig::S3 { .. } => unreachable!(),
            })
            .collect()
    };
    let engine_with = |buckets: Vec<BucketConfig>| {
        let cfg = StorageConfig {
            chunk_size: C,
            k: 4,
            m: 2,
            buckets,
            ..StorageConfig::default()
        };
        Engine::new(cfg, common::keyring()).expect("engine")
    };
    // Four providers of two buckets: every stripe of every upload has at most two per provider.
    let four = label(&|i| ["p1", "p2", "p3", "p4"][i / 2]);
    let provider_of = |buckets: &[BucketConfig], name: &str| {
        buckets
            .iter()
            .find(|b| b.name() == name)
            .expect("bucket")
            .provider()
    };
    let e = engine_with(four.clone());
    for n in 0..5 {
        let (man, _) = put(&e, Uuid::new_v4(), &data(C * 8, n)).await;
        for buckets in stripe_buckets(&man) {
            let mut per = std::collections::BTreeMap::new();
            for b in &buckets {
                *per.entry(provider_of(&four, b)).or_insert(0) += 1;
            }
            assert!(per.values().all(|&c| c <= 2), "{per:?}");
        }
    }
    // Written while buckets 0..6 counted as separate providers, read while 0..3 are one.
    let id = Uuid::new_v4();
    let bytes = data(C * 4 * 3, 5);
    let six = engine_with(label(&|i| ["a", "b", "c", "d", "e", "f", "x", "x"][i]));
    let (man, w) = put(&six, id, &bytes).await;
    let regrouped = label(&|i| ["p1", "p1", "p1", "p1", "p2", "p2", "p3", "p3"][i]);
    let e = engine_with(regrouped.clone());
    let found = e.scrub(&man, ScrubMode::Check).await.expect("check");
    let over = stripe_buckets(&man).iter().any(|bs| {
        bs.iter()
            .filter(|b| provider_of(&regrouped, b) == "p1")
            .count()
            > 2
    });
    assert_eq!(found.class() == RecordClass::Misplaced, over, "{found:?}");
    let fixed = e.scrub(&man, ScrubMode::Repair).await.expect("repair");
    assert_eq!(fixed.class(), RecordClass::Healthy, "{fixed:?}");
    let new = fixed.manifest.clone().unwrap_or_else(|| man.clone());
    for buckets in stripe_buckets(&new) {
        let on_p1 = buckets
            .iter()
            .filter(|b| provider_of(&regrouped, b) == "p1")
            .count();
        assert!(on_p1 <= 2, "{buckets:?}");
    }
    assert_eq!(
        sha(&get(&e, &new, &w, id).await.expect("read")),
        sha(&bytes)
    );
}
