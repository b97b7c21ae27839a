//! Provider faults on directory buckets wrapped in a store that fails, hangs or is slow on
//! command: uploads place every shard on the healthy providers (misplaced, re-spread by repair
//! once the provider is back), without waiting for a hanging or slow one (hedged writes), and
//! refuse only below `k` usable buckets, keeping nothing;
//! downloads with a failing, hanging or slow provider complete byte-identical without waiting
//! for it (hedged reads), the stripe timeout bounds a read that cannot complete, and the
//! circuit breaker keeps the calls to a dead provider few.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{data, get, input, keyring, sha};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use medvault_engine::{
    BlobStore, BucketConfig, DirStore, Engine, EngineError, FaultConfig, HealOptions, Manifest,
    ObjectInfo, RecordClass, ScrubMode, StorageConfig, StoreError,
};
use uuid::Uuid;

const CHUNK: usize = 4096;
/// Plaintext of one full stripe (k = 4).
const STRIPE: usize = 4 * CHUNK;

const OK: u8 = 0;
const FAIL: u8 = 1;
const HANG: u8 = 2;
const SLOW: u8 = 3;

/// A directory bucket that can be told to fail, hang or answer slowly; counts its calls.
struct Faulty {
    inner: DirStore,
    mode: Arc<AtomicU8>,
    calls: Arc<AtomicU64>,
}

impl Faulty {
    /// Runs `op` (built only when the store is to answer: a directory store starts its work as
    /// soon as the future is built) according to the fault switch.
    fn call<'a, T: Send + 'a>(
        &'a self,
        op: impl FnOnce() -> BoxFuture<'a, Result<T, StoreError>> + Send + 'a,
    ) -> BoxFuture<'a, Result<T, StoreError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.mode.load(Ordering::SeqCst) {
            FAIL => async { Err(StoreError::S3("connection refused".to_owned())) }.boxed(),
            HANG => futures_util::future::pending().boxed(),
            SLOW => async move {
                tokio::time::sleep(Duration::from_secs(3)).await;
                op().await
            }
            .boxed(),
            _ => op(),
        }
    }
}

impl BlobStore for Faulty {
    fn put(&self, key: &str, data: Bytes) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = key.to_owned();
        self.call(move || self.inner.put(&key, data))
    }
    fn get(&self, key: &str, max_len: u64) -> BoxFuture<'_, Result<Bytes, StoreError>> {
        let key = key.to_owned();
        self.call(move || self.inner.get(&key, max_len))
    }
    fn delete(&self, key: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = key.to_owned();
        self.call(move || self.inner.delete(&key))
    }
    fn list(&self) -> BoxFuture<'_, Result<Vec<ObjectInfo>, StoreError>> {
        self.call(|| self.inner.list())
    }
    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        self.call(|| self.inner.health())
    }
}

/// Six directory buckets on three providers (`p0`..`p2`, two buckets each); each provider's
/// fault switch and call counter.
struct Vault {
    tmp: tempfile::TempDir,
    cfg: StorageConfig,
    stores: Vec<(String, Arc<dyn BlobStore>)>,
    modes: Vec<Arc<AtomicU8>>,
    calls: Vec<Arc<AtomicU64>>,
}

impl Vault {
    fn new(faults: FaultConfig) -> Self {
        let tmp = tempfile::tempdir().expect("tmp");
        let modes: Vec<Arc<AtomicU8>> = (0..3).map(|_| Arc::default()).collect();
        let calls: Vec<Arc<AtomicU64>> = (0..3).map(|_| Arc::default()).collect();
        let mut buckets = Vec::new();
        let mut stores: Vec<(String, Arc<dyn BlobStore>)> = Vec::new();
        for i in 0..6 {
            let (name, path) = (format!("b{i}"), tmp.path().join(format!("b{i}")));
            buckets.push(BucketConfig::Dir {
                name: name.clone(),
                path: path.clone(),
                provider: Some(format!("p{}", i / 2)),
            });
            let store = Faulty {
                inner: DirStore::new(&path).expect("dir"),
                mode: Arc::clone(&modes[i / 2]),
                calls: Arc::clone(&calls[i / 2]),
            };
            stores.push((name, Arc::new(store)));
        }
        let cfg = StorageConfig {
            chunk_size: CHUNK,
            k: 4,
            m: 2,
            buckets,
            faults,
            ..StorageConfig::default()
        };
        Self {
            tmp,
            cfg,
            stores,
            modes,
            calls,
        }
    }

    /// A fresh engine (fresh breakers) on the same buckets.
    fn engine(&self) -> Engine {
        Engine::with_stores(self.cfg.clone(), keyring(), self.stores.clone()).expect("engine")
    }

    fn set(&self, provider: usize, mode: u8) {
        self.modes[provider].store(mode, Ordering::SeqCst);
    }

    fn calls(&self, provider: usize) -> u64 {
        self.calls[provider].load(Ordering::SeqCst)
    }

    /// Shard objects stored in every bucket.
    fn objects(&self) -> usize {
        (0..6)
            .map(|i| count_files(&self.tmp.path().join(format!("b{i}"))))
            .sum()
    }
}

fn count_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name() != ".tmp")
        .map(|e| {
            if e.path().is_dir() {
                count_files(&e.path())
            } else {
                1
            }
        })
        .sum()
}

/// Breaker on, short hedges, a 5 s stripe limit.
fn faults() -> FaultConfig {
    FaultConfig {
        breaker_failures: 3,
        breaker_cooldown_secs: 60,
        hedge_min_ms: 50,
        hedge_max_ms: 200,
        stripe_timeout_secs: 5,
        ..FaultConfig::default()
    }
}

fn on_provider(m: &Manifest, p: usize) -> usize {
    let names = [format!("b{}", 2 * p), format!("b{}", 2 * p + 1)];
    m.shards
        .iter()
        .filter(|e| names.contains(&e.bucket))
        .count()
}

/// Stripes with two shards in one bucket.
fn shared_stripes(m: &Manifest) -> usize {
    let stripes = m.shards.last().map_or(0, |e| e.stripe + 1);
    (0..stripes)
        .filter(|&s| {
            let b: Vec<&str> = m
                .shards
                .iter()
                .filter(|e| e.stripe == s)
                .map(|e| e.bucket.as_str())
                .collect();
            b.iter().collect::<std::collections::HashSet<_>>().len() < b.len()
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_during_an_outage_keep_every_shard_and_repair_respreads_them() {
    let v = Vault::new(faults());
    let e = v.engine();
    v.set(1, FAIL);
    let id = Uuid::new_v4();
    let bytes = data(3 * STRIPE + 1000, 11);
    let (man, w) = e.put(id, input(&bytes)).await.expect("put with p1 down");
    man.validate().expect("valid manifest");
    // Every stripe has all its shards (three full stripes of 4 + 2, a last one of 1 + 2), none
    // on the failed provider, and the full stripes (six shards on four buckets) share buckets.
    assert_eq!(man.shards.len(), 3 * 6 + 3);
    assert_eq!(on_provider(&man, 1), 0, "nothing on the failed provider");
    assert_eq!(
        shared_stripes(&man),
        3,
        "the three full stripes share buckets"
    );
    assert!(e.is_misplaced(&man));
    assert_eq!(
        sha(&get(&e, &man, &w, id).await.expect("read")),
        sha(&bytes)
    );
    // A heal while the provider is down cannot re-spread (no free bucket): still misplaced.
    let opts = HealOptions::new(ScrubMode::Repair)
        .with("b2", medvault_engine::BucketState::Unavailable)
        .with("b3", medvault_engine::BucketState::Unavailable);
    let waiting = e.heal(&man, &opts).await.expect("heal");
    assert_eq!(waiting.class(), RecordClass::Misplaced, "{waiting:?}");
    assert!(waiting.manifest.is_none());
    // The provider is back: repair moves the doubled shards onto it.
    v.set(1, OK);
    let report = e
        .heal(&man, &HealOptions::new(ScrubMode::Repair))
        .await
        .expect("heal");
    assert_eq!(report.class(), RecordClass::Healthy, "{report:?}");
    let fixed = report.manifest.clone().expect("a new manifest");
    e.discard(&report.superseded).await;
    assert!(!e.is_misplaced(&fixed));
    assert_eq!(shared_stripes(&fixed), 0);
    assert!(
        on_provider(&fixed, 1) > 0,
        "shards moved to the returned provider"
    );
    assert_eq!(
        sha(&get(&e, &fixed, &w, id).await.expect("read")),
        sha(&bytes)
    );
    let check = e.scrub(&fixed, ScrubMode::Check).await.expect("scrub");
    assert_eq!(check.class(), RecordClass::Healthy);
    assert_eq!(
        v.objects(),
        fixed.shards.len(),
        "superseded objects deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_write_is_placed_again_before_the_breaker_opens() {
    // Breaker off: every stripe meets the failure itself and moves the shard elsewhere.
    let v = Vault::new(FaultConfig {
        breaker_failures: 0,
        ..faults()
    });
    let e = v.engine();
    v.set(2, FAIL);
    let id = Uuid::new_v4();
    let bytes = data(2 * STRIPE, 12);
    let (man, w) = e.put(id, input(&bytes)).await.expect("put");
    assert_eq!(on_provider(&man, 2), 0);
    assert!(v.calls(2) >= 2, "writes were tried on p2: {}", v.calls(2));
    assert_eq!(
        sha(&get(&e, &man, &w, id).await.expect("read")),
        sha(&bytes)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn below_k_usable_buckets_an_upload_fails_and_keeps_nothing() {
    let v = Vault::new(faults());
    let e = v.engine();
    v.set(0, FAIL);
    v.set(2, FAIL);
    let r = e.put(Uuid::new_v4(), input(&data(3 * STRIPE, 13))).await;
    assert!(
        matches!(
            r,
            Err(medvault_engine::PutError::Engine(
                EngineError::Write { .. } | EngineError::TooFewUsableBuckets { .. }
            ))
        ),
        "{r:?}"
    );
    assert_eq!(v.objects(), 0, "the rollback left nothing");
    // A health probe opens the breakers of p0 and p2: the refusal now comes before any write.
    e.health().await;
    let before: u64 = (0..3).map(|p| v.calls(p)).sum();
    let r = e.put(Uuid::new_v4(), input(&data(STRIPE, 14))).await;
    assert!(
        matches!(
            r,
            Err(medvault_engine::PutError::Engine(
                EngineError::TooFewUsableBuckets {
                    usable: 2,
                    needed: 4
                }
            ))
        ),
        "{r:?}"
    );
    let after: u64 = (0..3).map(|p| v.calls(p)).sum();
    assert_eq!(before, after, "nothing was written");
    assert_eq!(v.objects(), 0);
    v.set(0, OK);
    v.set(2, OK);
}

/// Uploads with provider 0 hanging or slow (breaker off, so every stripe meets it) do not wait
/// for it: a write still running a hedge delay after the stripe's other writes succeeded is
/// given up and its shard placed elsewhere. Nothing lands on provider 0, no object is left
/// beyond the manifest's, and the record reads back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_do_not_wait_for_a_hanging_or_slow_provider() {
    let v = Vault::new(FaultConfig {
        breaker_failures: 0,
        ..faults()
    });
    for (mode, seed) in [(HANG, 30), (SLOW, 31)] {
        let before = v.objects();
        let e = v.engine();
        v.set(0, mode);
        let id = Uuid::new_v4();
        let bytes = data(8 * STRIPE - 5, seed);
        let t0 = Instant::now();
        let put = tokio::time::timeout(Duration::from_secs(30), e.put(id, input(&bytes))).await;
        let took = t0.elapsed();
        v.set(0, OK);
        let (man, w) = put
            .expect("the upload waited for the provider")
            .expect("put");
        // Eight stripes, two at a time, each giving up its writes on p0 after one hedge delay
        // (200 ms at most): well below one slow write (3 s).
        assert!(
            took < Duration::from_millis(2500),
            "mode {mode}: {took:?}, longer than the hedges allow"
        );
        assert_eq!(man.shards.len(), 8 * 6, "every stripe got all its shards");
        assert_eq!(on_provider(&man, 0), 0, "nothing on the stalled provider");
        assert_eq!(v.objects() - before, man.shards.len(), "no stray object");
        assert_eq!(
            sha(&get(&e, &man, &w, id).await.expect("read")),
            sha(&bytes)
        );
    }
}

/// Uploads a record of `stripes` full stripes with every provider healthy.
async fn healthy_record(
    v: &Vault,
    stripes: usize,
) -> (Manifest, medvault_engine::WrappedDek, Uuid, Vec<u8>) {
    let e = v.engine();
    let id = Uuid::new_v4();
    let bytes = data(stripes * STRIPE - 77, 20 + stripes as u64);
    let (man, w) = e.put(id, input(&bytes)).await.expect("put");
    assert!(!e.is_misplaced(&man));
    (man, w, id, bytes)
}

/// Reads with provider 0 in `mode` on a fresh engine (no breaker state), breaker off so every
/// stripe meets the fault; returns the time taken.
async fn read_with(v: &Vault, mode: u8) -> Duration {
    let (man, w, id, bytes) = healthy_record(v, 8).await;
    assert!(on_provider(&man, 0) > 0);
    let e = v.engine();
    // Seed the hedge delay with a healthy read.
    assert_eq!(
        sha(&get(&e, &man, &w, id).await.expect("read")),
        sha(&bytes)
    );
    v.set(0, mode);
    let t0 = Instant::now();
    let back = get(&e, &man, &w, id).await.expect("degraded read");
    let took = t0.elapsed();
    v.set(0, OK);
    assert_eq!(sha(&back), sha(&bytes));
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_do_not_wait_for_a_failing_hanging_or_slow_provider() {
    let v = Vault::new(FaultConfig {
        breaker_failures: 0,
        ..faults()
    });
    // Eight stripes, two at a time: at most four hedge delays (200 ms at most each) in all.
    let failing = read_with(&v, FAIL).await;
    let hanging = read_with(&v, HANG).await;
    let slow = read_with(&v, SLOW).await;
    for (what, took) in [("failing", failing), ("hanging", hanging), ("slow", slow)] {
        assert!(
            took < Duration::from_millis(2500),
            "{what}: {took:?}, longer than the hedges allow (a slow read takes 3 s, the stripe limit is 5 s)"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stripe_that_cannot_be_read_fails_at_the_stripe_timeout() {
    let v = Vault::new(FaultConfig {
        stripe_timeout_secs: 1,
        ..faults()
    });
    let (man, w, id, _) = healthy_record(&v, 2).await;
    let e = v.engine();
    // Two providers hang: four of six shards of every stripe never answer.
    v.set(0, HANG);
    v.set(1, HANG);
    let t0 = Instant::now();
    let r = get(&e, &man, &w, id).await;
    let took = t0.elapsed();
    v.set(0, OK);
    v.set(1, OK);
    assert!(
        matches!(r, Err(EngineError::StripeTimeout { secs: 1, .. })),
        "{r:?}"
    );
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_millis(2500),
        "{took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_stops_calls_to_a_dead_provider_and_a_probe_closes_it() {
    let v = Vault::new(faults());
    let (man, w, id, bytes) = healthy_record(&v, 8).await;
    let reads_there = man
        .shards
        .iter()
        .filter(|e| e.index < 4 && (e.bucket == "b0" || e.bucket == "b1"))
        .count();
    let e = v.engine();
    v.set(0, HANG);
    let before = v.calls(0);
    for _ in 0..5 {
        assert_eq!(
            sha(&get(&e, &man, &w, id).await.expect("read")),
            sha(&bytes)
        );
    }
    let calls = v.calls(0) - before;
    // Without a breaker every download would read its data shards there.
    assert!(reads_there * 5 >= 20, "the test needs data shards on p0");
    // Three abandoned reads open it; the stripes already reading (two at a time) add a few.
    assert!(
        calls <= 8,
        "{calls} calls to a dead provider ({reads_there} per download)"
    );
    let p0 = e
        .providers()
        .into_iter()
        .find(|p| p.provider == "p0")
        .expect("p0");
    assert!(p0.open && p0.opened == 1, "{p0:?}");
    // A health probe that finds the provider back closes the breaker.
    v.set(0, OK);
    let health = e.health().await;
    assert!(health.iter().all(|h| h.ok));
    assert!(e.providers().iter().all(|p| !p.open));
    // ... and one that finds it down opens it at once.
    v.set(0, FAIL);
    e.health().await;
    assert!(e.providers().iter().any(|p| p.provider == "p0" && p.open));
    v.set(0, OK);
}
