//! `make bench`: a 64 MiB record read back through the engine from the six buckets of the three
//! Garage instances of `scripts/s3-servers.sh`, healthy and with instance 1 behind the fault
//! proxy black-holed, refusing, or slow; prints each time and its ratio to the healthy one
//! (issue 14's target: within 1.5x). Default `[storage.faults]` settings.
//!
//! `MEDVAULT_TEST_S3_CONFIG=target/s3-servers/storage.toml cargo run --release -p medvault-tests --example fault_bench`
//!
//! "first" is the first download after the fault began (breaker still closed: the reader
//! hedges around the provider until three abandoned or failed reads open it); "later" the
//! median of the next three (breaker open: the provider is not tried).
#![allow(clippy::cast_precision_loss, reason = "MiB/s figures")]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{TryStreamExt, stream};
use medvault_engine::{BucketConfig, Engine, KeyRing, Manifest, WrappedDek};
use medvault_tests::faults::{Fault, FaultProxy};
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use uuid::Uuid;

const SIZE: usize = 64 * 1024 * 1024;

async fn read(e: &Engine, m: &Manifest, w: &WrappedDek, id: Uuid, want: &[u8; 32]) -> Duration {
    let t0 = Instant::now();
    let mut hasher = Sha256::new();
    let mut body = e.get(m, w, id);
    while let Some(piece) = body.try_next().await.expect("download") {
        hasher.update(&piece);
    }
    let took = t0.elapsed();
    assert_eq!(&<[u8; 32]>::from(hasher.finalize()), want, "bytes differ");
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn mibs(d: Duration) -> f64 {
    (SIZE as f64 / 1_048_576.0) / d.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut storage = medvault_tests::s3_storage();
    let upstream: SocketAddr = storage
        .buckets
        .iter()
        .find_map(|b| match b {
            BucketConfig::S3 { name, endpoint, .. } if name.starts_with("g1") => endpoint
                .as_deref()
                .and_then(|e| e.strip_prefix("http://"))
                .and_then(|a| a.parse().ok()),
            _ => None,
        })
        .expect("instance 1 in the S3 test configuration");
    let proxy = FaultProxy::start(upstream).await;
    for b in &mut storage.buckets {
        if let BucketConfig::S3 { name, endpoint, .. } = b
            && name.starts_with("g1")
        {
            *endpoint = Some(proxy.endpoint());
        }
    }
    let engine = || {
        let keys = KeyRing::parse("b1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("ring");
        Engine::new(storage.clone(), keys).expect("engine")
    };
    let mut bytes = vec![0u8; SIZE];
    rand::thread_rng().fill_bytes(&mut bytes);
    let want: [u8; 32] = Sha256::digest(&bytes).into();
    let id = Uuid::new_v4();
    let e = engine();
    let pieces: Vec<Result<Bytes, std::convert::Infallible>> = bytes
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let (m, w) = e.put(id, stream::iter(pieces)).await.expect("put");
    drop(bytes);
    read(&e, &m, &w, id, &want).await; // warm-up
    let mut healthy = Vec::new();
    for _ in 0..5 {
        healthy.push(read(&e, &m, &w, id, &want).await);
    }
    let healthy = median(healthy);
    println!(
        "64 MiB download, 6 buckets on 3 Garage instances, default [storage.faults]\n\
         healthy (median of 5): {:.3} s = {:.0} MiB/s",
        healthy.as_secs_f64(),
        mibs(healthy)
    );
    println!(
        "| instance 1 | first download | later (median of 3) | first / healthy | later / healthy | breakers open |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for fault in [
        Fault::BlackHole,
        Fault::Refuse,
        Fault::Delay(Duration::from_secs(2)),
    ] {
        // A fresh engine (breakers closed), its hedge delay learnt from one healthy read.
        proxy.set(Fault::Pass);
        let e = engine();
        read(&e, &m, &w, id, &want).await;
        proxy.set(fault);
        let first = read(&e, &m, &w, id, &want).await;
        let later = median(vec![
            read(&e, &m, &w, id, &want).await,
            read(&e, &m, &w, id, &want).await,
            read(&e, &m, &w, id, &want).await,
        ]);
        let open = e.providers().iter().filter(|p| p.open).count();
        println!(
            "| {fault:?} | {:.3} s ({:.0} MiB/s) | {:.3} s ({:.0} MiB/s) | {:.2}x | {:.2}x | {open} |",
            first.as_secs_f64(),
            mibs(first),
            later.as_secs_f64(),
            mibs(later),
            first.as_secs_f64() / healthy.as_secs_f64(),
            later.as_secs_f64() / healthy.as_secs_f64(),
        );
    }
    proxy.set(Fault::Pass);
    engine().delete(&m).await.expect("delete");
}
