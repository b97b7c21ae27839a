//! Engine throughput on this machine: raw AES-256-GCM seal (aes-gcm, and ring as a reference),
//! the shard hashes (BLAKE3, and SHA-256 of older records), RS encode / degraded decode, the full
//! put pipeline to a null store, and put/get through DirStore on tmpfs.
//! `cargo bench -p medvault-engine --bench engine`.
//!
//! The targets compare the put pipeline with the `aes-gcm` seal alone, so one run measures both
//! on one core and on every core: the process pins all its threads to the first CPU it may use
//! (`taskset -a -p`, util-linux) for the `1core` rows and restores its CPU set afterwards.
#![allow(
    missing_docs,
    clippy::many_single_char_names,
    clippy::doc_markdown,
    clippy::cast_possible_truncation,
    reason = "benchmark harness: criterion macros, short names, tiny fixed casts"
)]

use std::convert::Infallible;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, TryStreamExt, stream};
use medvault_engine::{
    BlobStore, BucketConfig, Dek, Engine, KeyRing, ObjectInfo, StorageConfig, StoreError,
};
use uuid::Uuid;

const MIB: usize = 1024 * 1024;
const RECORD: usize = 64 * MIB;

/// Discards writes: isolates the CPU cost of the pipeline from storage.
struct NullStore;

impl BlobStore for NullStore {
    fn put(&self, _: &str, _: Bytes) -> BoxFuture<'_, Result<(), StoreError>> {
        async { Ok(()) }.boxed()
    }
    fn get(&self, _: &str, _: u64) -> BoxFuture<'_, Result<Bytes, StoreError>> {
        async { Err(StoreError::NotFound) }.boxed()
    }
    fn delete(&self, _: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        async { Ok(()) }.boxed()
    }
    fn list(&self) -> BoxFuture<'_, Result<Vec<ObjectInfo>, StoreError>> {
        async { Ok(Vec::new()) }.boxed()
    }
    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        async { Ok(()) }.boxed()
    }
}

fn ring_keys() -> KeyRing {
    KeyRing::parse("b:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("ring")
}

fn input(data: &Bytes) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> + Send {
    // 64 KiB pieces, like an HTTP body.
    let pieces: Vec<Result<Bytes, Infallible>> = (0..data.len())
        .step_by(64 * 1024)
        .map(|i| Ok(data.slice(i..(i + 64 * 1024).min(data.len()))))
        .collect();
    stream::iter(pieces)
}

/// The CPU affinity mask of this process, as `taskset -p` prints it (hex).
fn current_mask() -> String {
    let out = Command::new("taskset")
        .args(["-p", &std::process::id().to_string()])
        .output()
        .expect("taskset (util-linux) is needed to pin the benchmark");
    let text = String::from_utf8_lossy(&out.stdout);
    text.rsplit(' ').next().expect("mask").trim().to_owned()
}

/// Pins every thread of the process to the CPUs of `mask` (hex). Threads started later inherit
/// the mask of the thread that starts them, so pools created before or after are both covered.
fn pin(mask: &str) {
    let ok = Command::new("taskset")
        .args(["-a", "-p", mask, &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "taskset -a -p {mask} failed");
}

/// The lowest CPU of `mask`, as a mask: "one core".
fn first_cpu(mask: &str) -> String {
    let bits = u128::from_str_radix(mask.trim_start_matches("0x"), 16).expect("hex mask");
    format!("{:x}", bits & bits.wrapping_neg())
}

fn seal(c: &mut Criterion) {
    let all = current_mask();
    let mut g = c.benchmark_group("seal_1MiB");
    g.throughput(Throughput::Bytes(MIB as u64));
    let dek = Dek::generate();
    let id = Uuid::from_u128(1);
    let mut buf = vec![7u8; MIB];
    for (label, mask) in [("aes-gcm_1core", first_cpu(&all)), ("aes-gcm", all.clone())] {
        pin(&mask);
        g.bench_function(label, |b| {
            b.iter(|| {
                buf.truncate(MIB);
                medvault_engine::bench_support::seal_chunk(&dek, &id, 3, &mut buf);
            });
        });
    }
    pin(&all);
    let key = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &[9u8; 32]).expect("key"),
    );
    let mut buf = vec![7u8; MIB];
    g.bench_function("ring", |b| {
        b.iter(|| {
            let nonce = ring::aead::Nonce::assume_unique_for_key([0u8; 12]);
            key.seal_in_place_separate_tag(nonce, ring::aead::Aad::from(&[1u8; 25]), &mut buf)
                .expect("seal")
        });
    });
    g.finish();
}

/// The hash of every shard (1.5 bytes per plaintext byte at k=4, m=2): BLAKE3 for new records,
/// SHA-256 (sha2, SHA-NI detected at run time) for records written before it.
fn shard_hash(c: &mut Criterion) {
    use sha2::Digest;
    let mut g = c.benchmark_group("shard_hash_1MiB");
    g.throughput(Throughput::Bytes(MIB as u64));
    let buf = vec![7u8; MIB];
    g.bench_function("blake3", |b| b.iter(|| blake3::hash(&buf)));
    g.bench_function("sha256", |b| b.iter(|| sha2::Sha256::digest(&buf)));
    g.finish();
}

fn rs(c: &mut Criterion) {
    let (k, m) = (4, 2);
    let shards: Vec<Vec<u8>> = (0..k).map(|i| vec![i as u8; MIB + 16]).collect();
    let parity = reed_solomon_simd::encode(k, m, &shards).expect("encode");
    let mut g = c.benchmark_group("reed_solomon_4+2_1MiB_shards");
    g.throughput(Throughput::Bytes((k * MIB) as u64));
    g.bench_function("encode", |b| {
        b.iter(|| reed_solomon_simd::encode(k, m, &shards).expect("encode"));
    });
    g.bench_function("decode_2_erasures", |b| {
        b.iter(|| {
            reed_solomon_simd::decode(
                k,
                m,
                [(1, &shards[1]), (3, &shards[3])],
                [(0, &parity[0]), (1, &parity[1])],
            )
            .expect("decode")
        });
    });
    g.finish();
}

/// The whole put path into stores that discard writes: on the first CPU only (`parallelism`
/// 1), then on every CPU with one and with two stripes coded at once (2 is the default on two
/// cores).
fn pipeline(c: &mut Criterion) {
    let all = current_mask();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let data = Bytes::from(vec![5u8; RECORD]);
    let mut g = c.benchmark_group("put_pipeline_null_store_64MiB");
    g.throughput(Throughput::Bytes(RECORD as u64));
    g.sample_size(10);
    for (label, mask, parallelism) in [
        ("1core", first_cpu(&all), 1),
        ("all_cores_parallelism_1", all.clone(), 1),
        ("all_cores_parallelism_2", all.clone(), 2),
    ] {
        let stores: Vec<(String, Arc<dyn BlobStore>)> = (0..6)
            .map(|i| (format!("n{i}"), Arc::new(NullStore) as Arc<dyn BlobStore>))
            .collect();
        let cfg = StorageConfig {
            parallelism,
            ..StorageConfig::default()
        };
        let e = Engine::with_stores(cfg, ring_keys(), stores).expect("engine");
        pin(&mask);
        g.bench_function(label, |b| {
            b.iter(|| {
                rt.block_on(e.put(Uuid::new_v4(), input(&data)))
                    .expect("put")
            });
        });
    }
    pin(&all);
    g.finish();
}

fn dirstore(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        tempfile::tempdir_in("/dev/shm").expect("tmpfs dir")
    } else {
        tempfile::tempdir().expect("tmp dir")
    };
    let cfg = StorageConfig {
        buckets: (0..6)
            .map(|i| BucketConfig::Dir {
                name: format!("d{i}"),
                path: base.path().join(format!("b{i}")),
                provider: None,
            })
            .collect(),
        ..StorageConfig::default()
    };
    let e = Engine::new(cfg, ring_keys()).expect("engine");
    let data = Bytes::from(vec![5u8; RECORD]);
    let mut g = c.benchmark_group("dirstore_tmpfs_64MiB");
    g.throughput(Throughput::Bytes(RECORD as u64));
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.bench_function("put", |b| {
        b.iter(|| {
            let (m, _) = rt
                .block_on(e.put(Uuid::new_v4(), input(&data)))
                .expect("put");
            rt.block_on(e.delete(&m)).expect("delete");
        });
    });
    let id = Uuid::new_v4();
    let (m, w) = rt.block_on(e.put(id, input(&data))).expect("put");
    g.bench_function("get", |b| {
        b.iter(|| {
            rt.block_on(async {
                e.get(&m, &w, id)
                    .try_fold(0usize, |n, b| async move { Ok(n + b.len()) })
                    .await
                    .expect("get")
            })
        });
    });
    g.finish();
}

criterion_group!(benches, seal, shard_hash, rs, pipeline, dirstore);
criterion_main!(benches);
