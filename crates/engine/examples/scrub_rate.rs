//! Scrub and repair rates: stores records through the engine, then times a check of every
//! shard (no key needed) and a repair after one shard of every stripe was deleted, and prints
//! shards/s and MiB/s of shard bytes for each. Directory buckets by default; with
//! `MEDVAULT_TEST_S3_CONFIG` set (the file `scripts/s3-servers.sh up` writes), the S3 buckets
//! named there (e.g. the three Garage instances).
//!
//! `cargo run --release -p medvault-engine --example scrub_rate [-- DIR]` (DIR default
//! `/dev/shm/medvault-scrub`; records: `SCRUB_RECORDS` x `SCRUB_MIB` MiB, default 32 x 4).
#![allow(missing_docs)]

use std::convert::Infallible;
use std::time::Instant;

use bytes::Bytes;
use futures_util::stream;
use medvault_engine::{BucketConfig, Engine, KeyRing, Manifest, ScrubMode, StorageConfig};
use uuid::Uuid;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn storage() -> (StorageConfig, &'static str) {
    if let Ok(path) = std::env::var("MEDVAULT_TEST_S3_CONFIG") {
        let text = std::fs::read_to_string(&path).expect("S3 config");
        return (toml::from_str(&text).expect("S3 config"), "S3");
    }
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/dev/shm/medvault-scrub".into());
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = StorageConfig {
        buckets: (0..6)
            .map(|i| BucketConfig::Dir {
                name: format!("d{i}"),
                path: format!("{dir}/b{i}").into(),
                provider: None,
            })
            .collect(),
        ..StorageConfig::default()
    };
    (cfg, "directory")
}

#[allow(clippy::cast_precision_loss)]
fn report(what: &str, shards: usize, bytes: u64, secs: f64) {
    println!(
        "{what}: {shards} shards, {:.1} MiB in {secs:.2} s = {:.0} shards/s, {:.1} MiB/s",
        bytes as f64 / 1_048_576.0,
        shards as f64 / secs,
        bytes as f64 / 1_048_576.0 / secs
    );
}

#[tokio::main]
async fn main() {
    let (cfg, kind) = storage();
    let keys = KeyRing::parse("r:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("ring");
    let engine = Engine::new(cfg, keys).expect("engine");
    let (records, mib) = (env_num("SCRUB_RECORDS", 32), env_num("SCRUB_MIB", 4));
    println!("{kind} buckets, {records} records of {mib} MiB, k=4 m=2, 1 MiB chunks");
    let mut manifests: Vec<Manifest> = Vec::new();
    for n in 0..records {
        let piece = Bytes::from(vec![u8::try_from(n % 251).unwrap_or(0); 1024 * 1024]);
        let input = stream::iter((0..mib).map(move |_| Ok::<_, Infallible>(piece.clone())));
        let (m, _) = engine.put(Uuid::new_v4(), input).await.expect("put");
        manifests.push(m);
    }
    let t = Instant::now();
    let (mut shards, mut bytes) = (0, 0);
    for m in &manifests {
        let r = engine.scrub(m, ScrubMode::Check).await.expect("scrub");
        assert!(r.is_healthy());
        shards += r.shards_checked;
        bytes += r.bytes_checked;
    }
    report("scrub (check)", shards, bytes, t.elapsed().as_secs_f64());
    // One shard of every stripe lost: each repair reads the stripe's five others, rebuilds one.
    let mut lost = Vec::new();
    for m in &manifests {
        let mut seen = std::collections::HashSet::new();
        for e in &m.shards {
            if seen.insert(e.stripe) {
                lost.push((e.bucket.clone(), e.key.clone()));
            }
        }
    }
    assert!(engine.discard(&lost).await.is_empty());
    let t = Instant::now();
    let (mut rebuilt, mut rebuilt_bytes, mut read) = (0, 0, 0);
    for m in &manifests {
        let r = engine.scrub(m, ScrubMode::Repair).await.expect("repair");
        assert!(r.is_whole(), "{r:?}");
        rebuilt += r.repaired.len();
        rebuilt_bytes += r.repaired.len() as u64 * m.shards[0].len;
        read += r.bytes_checked;
    }
    let secs = t.elapsed().as_secs_f64();
    report("repair (rebuilt)", rebuilt, rebuilt_bytes, secs);
    report("repair (read)", shards - rebuilt, read, secs);
    let all: Vec<(String, String)> = manifests
        .iter()
        .flat_map(|m| m.objects().map(|(b, k)| (b.to_owned(), k.to_owned())))
        .collect();
    drop(engine.discard(&all).await);
}
