//! Scrub and repair on `DirStore`: damage (deleted, flipped, truncated shards, data and parity)
//! is found by a check, rewritten byte for byte by a repair without any key, and the record
//! reads back identical; beyond `m` erasures a stripe is reported lost.

mod common;

use std::collections::BTreeSet;

use bytes::Bytes;
use common::{Fixture, SMALL_CHUNK, data, get, put, sha};
use medvault_engine::{
    BucketConfig, Engine, EngineError, KeyRing, Manifest, RecordClass, ScrubMode, ShardEntry,
    StorageConfig,
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
    assert!(r.stripes.iter().all(|s| s.shared_bucket));

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
