//! The store-independent integration suite, run by `tests/dir.rs` (DirStore) and `tests/s3.rs`
//! (S3Store against the Garage servers of `scripts/s3-servers.sh`).
#![allow(
    dead_code,
    missing_docs,
    clippy::missing_panics_doc,
    clippy::many_single_char_names,
    clippy::doc_markdown,
    clippy::assigning_clones,
    reason = "shared test helpers: each test binary uses a subset; terse names in tamper cases"
)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use medvault_engine::{
    BlobStore, BucketConfig, Engine, EngineError, KeyRing, Manifest, ShardEntry, StorageConfig,
    WrappedDek,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const SMALL_CHUNK: usize = 4096;

/// Buckets (from a config) plus direct handles on them to damage shards behind the engine's back.
pub struct Fixture {
    pub buckets: Vec<BucketConfig>,
    pub stores: HashMap<String, Arc<dyn BlobStore>>,
    pub _tmp: Option<tempfile::TempDir>,
}

pub fn keyring() -> KeyRing {
    KeyRing::parse("t1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("test ring")
}

pub fn store_for(b: &BucketConfig) -> Arc<dyn BlobStore> {
    b.open().expect("store")
}

impl Fixture {
    pub fn dir(n: usize) -> Self {
        let tmp = tempfile::tempdir().expect("tmp");
        let buckets = (0..n)
            .map(|i| BucketConfig::Dir {
                name: format!("d{i}"),
                path: tmp.path().join(format!("bucket{i}")),
                provider: None,
            })
            .collect();
        Self::from_buckets(buckets, Some(tmp))
    }

    pub fn s3() -> Self {
        let path = std::env::var("MEDVAULT_TEST_S3_CONFIG").unwrap_or_else(|_| {
            panic!(
                "MEDVAULT_TEST_S3_CONFIG is not set: run `scripts/s3-servers.sh up` and export \
                 MEDVAULT_TEST_S3_CONFIG=target/s3-servers/storage.toml (make test does this)"
            )
        });
        let text = std::fs::read_to_string(&path).expect("read S3 test config");
        let cfg: StorageConfig = toml::from_str(&text).expect("parse S3 test config");
        Self::from_buckets(cfg.buckets, None)
    }

    fn from_buckets(buckets: Vec<BucketConfig>, tmp: Option<tempfile::TempDir>) -> Self {
        let stores = buckets
            .iter()
            .map(|b| (b.name().to_owned(), store_for(b)))
            .collect();
        Self {
            buckets,
            stores,
            _tmp: tmp,
        }
    }

    pub fn engine(&self, k: usize, m: usize, chunk_size: usize) -> Engine {
        let cfg = StorageConfig {
            chunk_size,
            k,
            m,
            buckets: self.buckets.clone(),
            ..StorageConfig::default()
        };
        Engine::new(cfg, keyring()).expect("engine")
    }

    pub async fn delete_shard(&self, e: &ShardEntry) {
        self.stores[&e.bucket].delete(&e.key).await.expect("delete");
    }

    pub async fn read_shard(&self, e: &ShardEntry) -> Bytes {
        self.stores[&e.bucket]
            .get(&e.key, u64::MAX)
            .await
            .expect("read")
    }

    pub async fn write_shard(&self, e: &ShardEntry, data: Bytes) {
        self.stores[&e.bucket]
            .put(&e.key, data)
            .await
            .expect("write");
    }

    pub async fn flip_bit(&self, e: &ShardEntry) {
        let mut d = self.read_shard(e).await.to_vec();
        d[0] ^= 1;
        self.write_shard(e, d.into()).await;
    }
}

/// Deterministic but non-trivial bytes.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

/// Feeds `bytes` in uneven pieces, as a network would.
pub fn input(bytes: &[u8]) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> + Send {
    let pieces: Vec<Result<Bytes, Infallible>> = bytes
        .chunks(7919)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    stream::iter(pieces)
}

pub async fn put(engine: &Engine, id: Uuid, bytes: &[u8]) -> (Manifest, WrappedDek) {
    engine.put(id, input(bytes)).await.expect("put")
}

pub async fn get(
    engine: &Engine,
    m: &Manifest,
    w: &WrappedDek,
    id: Uuid,
) -> Result<Vec<u8>, EngineError> {
    let parts: Vec<Bytes> = engine.get(m, w, id).try_collect().await?;
    Ok(parts.concat())
}

pub fn sha(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// Re-seals the manifest's root hash after an edit, as an attacker controlling the DB could.
pub fn reroot(m: &mut Manifest) {
    m.root_hash = m.compute_root();
}

// ---------------------------------------------------------------- the suite

pub async fn round_trips_all_sizes(f: &Fixture) {
    let c = SMALL_CHUNK;
    for (k, m) in [(4, 2), (1, 0), (3, 0), (2, 1), (3, 3)] {
        let e = f.engine(k, m, c);
        for len in [
            0,
            1,
            c - 1,
            c,
            c + 1,
            3 * c + 5,
            4 * c,
            9 * c + 1001,
            77_777,
        ] {
            let id = Uuid::new_v4();
            let bytes = data(len, len as u64 + 1);
            let (man, w) = put(&e, id, &bytes).await;
            assert_eq!(man.plaintext_len, len as u64);
            man.validate().expect("valid manifest");
            let back = get(&e, &man, &w, id).await.expect("get");
            assert_eq!(sha(&back), sha(&bytes), "k={k} m={m} len={len}");
            // Every stripe's shards sit in distinct buckets, under random hex keys.
            for s in 0..man.shards.last().map_or(0, |x| x.stripe + 1) {
                let names: std::collections::HashSet<_> = man
                    .shards
                    .iter()
                    .filter(|x| x.stripe == s)
                    .map(|x| &x.bucket)
                    .collect();
                assert_eq!(
                    names.len(),
                    man.shards.iter().filter(|x| x.stripe == s).count()
                );
            }
            assert!(
                man.shards
                    .iter()
                    .all(|x| medvault_engine::store::is_shard_key(&x.key))
            );
            e.delete(&man).await.expect("delete");
            assert!(
                get(&e, &man, &w, id).await.is_err(),
                "deleted record unreadable"
            );
        }
    }
}

pub async fn round_trips_several_mib_with_default_chunk(f: &Fixture) {
    let e = f.engine(4, 2, 1024 * 1024);
    let id = Uuid::new_v4();
    let bytes = data(5 * 1024 * 1024 + 12_345, 99);
    let (man, w) = put(&e, id, &bytes).await;
    let back = get(&e, &man, &w, id).await.expect("get");
    assert_eq!(sha(&back), sha(&bytes));
    e.delete(&man).await.expect("delete");
}

/// Erasures up to m per stripe (deleted and corrupted shards, data and parity) still read back.
pub async fn survives_m_erasures_and_fails_cleanly_beyond(f: &Fixture) {
    let e = f.engine(4, 2, SMALL_CHUNK);
    let id = Uuid::new_v4();
    let bytes = data(11 * SMALL_CHUNK + 3, 5); // 12 chunks: 3 full stripes
    let (man, w) = put(&e, id, &bytes).await;
    let stripes = man.shards.last().expect("shards").stripe + 1;
    for s in 0..stripes {
        let shards: Vec<&ShardEntry> = man.shards.iter().filter(|x| x.stripe == s).collect();
        // stripe 0: two data shards deleted; stripe 1: one data corrupted + one parity deleted;
        // stripe 2: one data shard deleted only.
        match s {
            0 => {
                f.delete_shard(shards[0]).await;
                f.delete_shard(shards[2]).await;
            }
            1 => {
                f.flip_bit(shards[1]).await;
                f.delete_shard(shards[shards.len() - 1]).await;
            }
            _ => f.delete_shard(shards[3]).await,
        }
    }
    let (stream, report) = e.get_with_report(&man, &w, id).expect("open");
    let back: Vec<Bytes> = stream.try_collect().await.expect("degraded read");
    assert_eq!(sha(&back.concat()), sha(&bytes));
    let found = report.erasures();
    assert!(found.len() >= 4, "erasures reported: {found:?}");
    assert!(found.iter().any(|x| x.reason.contains("mismatch")));
    // One more erasure in stripe 0 exceeds m.
    let s0: Vec<&ShardEntry> = man.shards.iter().filter(|x| x.stripe == 0).collect();
    f.delete_shard(s0[4]).await;
    let r = get(&e, &man, &w, id).await;
    assert!(
        matches!(r, Err(EngineError::TooManyErasures { stripe: 0, .. })),
        "{r:?}"
    );
    e.delete(&man).await.expect("delete");
}

pub async fn m0_loses_record_on_any_erasure(f: &Fixture) {
    let e = f.engine(2, 0, SMALL_CHUNK);
    let id = Uuid::new_v4();
    let bytes = data(3 * SMALL_CHUNK, 6);
    let (man, w) = put(&e, id, &bytes).await;
    f.flip_bit(&man.shards[1]).await;
    assert!(matches!(
        get(&e, &man, &w, id).await,
        Err(EngineError::TooManyErasures { .. })
    ));
    e.delete(&man).await.expect("delete");
}

/// An attacker who controls the stores and the manifest (and re-roots it) still cannot make
/// tampered, swapped, moved or truncated data open.
pub async fn tampering_is_refused(f: &Fixture) {
    let e = f.engine(2, 1, SMALL_CHUNK);
    let id = Uuid::new_v4();
    let bytes = data(5 * SMALL_CHUNK + 100, 7);
    let (man, w) = put(&e, id, &bytes).await;

    // Wrong record id / wrong wrapped key.
    assert!(matches!(
        get(&e, &man, &w, Uuid::new_v4()).await,
        Err(EngineError::Key(_))
    ));
    let (man2, w2) = put(&e, Uuid::new_v4(), &data(2 * SMALL_CHUNK, 8)).await;
    assert!(get(&e, &man, &w2, id).await.is_err());

    // Manifest edited without re-rooting: refused up front.
    let mut edited = man.clone();
    edited.plaintext_len -= 1;
    assert!(matches!(
        get(&e, &edited, &w, id).await,
        Err(EngineError::InvalidManifest(_))
    ));

    // Truncated manifest (last stripe dropped): refused.
    let mut trunc = man.clone();
    let last = trunc.shards.last().expect("shards").stripe;
    trunc.shards.retain(|x| x.stripe != last);
    reroot(&mut trunc);
    assert!(matches!(
        get(&e, &trunc, &w, id).await,
        Err(EngineError::InvalidManifest(_))
    ));
    // ... and made consistent by shortening plaintext_len: the final flag catches it.
    trunc.plaintext_len = last * 2 * SMALL_CHUNK as u64;
    reroot(&mut trunc);
    trunc.validate().expect("self-consistent");
    assert!(matches!(
        get(&e, &trunc, &w, id).await,
        Err(EngineError::ChunkAuthentication { .. })
    ));

    // Swapped data shards within a stripe, hashes fixed up: tags fail (chunk position bound).
    let mut swapped = man.clone();
    let (a, b) = (swapped.shards[0].clone(), swapped.shards[1].clone());
    swapped.shards[0].key = b.key.clone();
    swapped.shards[0].bucket = b.bucket.clone();
    swapped.shards[0].hash = b.hash.clone();
    swapped.shards[1].key = a.key.clone();
    swapped.shards[1].bucket = a.bucket.clone();
    swapped.shards[1].hash = a.hash.clone();
    reroot(&mut swapped);
    assert!(matches!(
        get(&e, &swapped, &w, id).await,
        Err(EngineError::ChunkAuthentication { chunk: 0 })
    ));

    // A shard moved in from another record (same DEK would still fail: record id in AAD).
    let foreign = f.read_shard(&man2.shards[0]).await;
    let mut moved = man.clone();
    let orig = f.read_shard(&moved.shards[0]).await;
    f.write_shard(&moved.shards[0], foreign.clone()).await;
    moved.shards[0].hash = hex::encode(moved.shard_hash.digest(&foreign));
    reroot(&mut moved);
    assert!(matches!(
        get(&e, &moved, &w, id).await,
        Err(EngineError::ChunkAuthentication { chunk: 0 })
    ));
    f.write_shard(&moved.shards[0], orig).await;

    // A flipped bit with the hash fixed up: the tag refuses it, nothing of the stripe is yielded.
    let victim = man.shards[3].clone(); // stripe 1, data shard 0 (chunk 2)
    let mut d = f.read_shard(&victim).await.to_vec();
    d[10] ^= 0x40;
    f.write_shard(&victim, d.clone().into()).await;
    let mut fixed = man.clone();
    fixed.shards[3].hash = hex::encode(fixed.shard_hash.digest(&d));
    reroot(&mut fixed);
    let items: Vec<Result<Bytes, EngineError>> = e.get(&fixed, &w, id).collect().await;
    let ok_bytes: usize = items
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(Bytes::len)
        .sum();
    assert_eq!(
        ok_bytes,
        2 * SMALL_CHUNK,
        "only stripe 0 (authenticated) was released"
    );
    assert!(matches!(
        items.last(),
        Some(Err(EngineError::ChunkAuthentication { chunk: 2 }))
    ));
    // With the original manifest the flipped shard is just an erasure and m=1 repairs it.
    let back = get(&e, &man, &w, id).await.expect("repaired read");
    assert_eq!(sha(&back), sha(&bytes));

    e.delete(&man).await.expect("delete");
    e.delete(&man2).await.expect("delete");
}

/// GC deletes unreferenced objects older than the grace period, and nothing else.
pub async fn gc_collects_only_unreferenced_old_objects(f: &Fixture) {
    let e = f.engine(2, 1, SMALL_CHUNK);
    let (keep, _) = put(&e, Uuid::new_v4(), &data(3 * SMALL_CHUNK, 9)).await;
    let (orphan, _) = put(&e, Uuid::new_v4(), &data(3 * SMALL_CHUNK, 10)).await;
    let orphans: std::collections::HashSet<(String, String)> = orphan
        .objects()
        .map(|(b, k)| (b.to_owned(), k.to_owned()))
        .collect();
    // Young objects are kept even when unreferenced.
    let young = e
        .gc(
            |b, k| !orphans.contains(&(b.to_owned(), k.to_owned())),
            std::time::Duration::from_secs(3600),
        )
        .await;
    assert!(young.deleted.is_empty(), "{young:?}");
    assert!(young.kept_young >= orphans.len());
    let r = e
        .gc(
            |b, k| !orphans.contains(&(b.to_owned(), k.to_owned())),
            std::time::Duration::ZERO,
        )
        .await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let deleted: std::collections::HashSet<(String, String)> = r.deleted.into_iter().collect();
    assert_eq!(deleted, orphans);
    for s in &orphan.shards {
        assert!(f.stores[&s.bucket].get(&s.key, u64::MAX).await.is_err());
    }
    for s in &keep.shards {
        assert!(f.stores[&s.bucket].get(&s.key, u64::MAX).await.is_ok());
    }
    e.delete(&keep).await.expect("delete");
}

pub async fn health_reports_every_bucket_ok(f: &Fixture) {
    let e = f.engine(2, 1, SMALL_CHUNK);
    let h = e.health().await;
    assert_eq!(h.len(), f.buckets.len());
    assert!(h.iter().all(|b| b.ok), "{h:?}");
}
