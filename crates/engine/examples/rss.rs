//! Peak-memory check: put then get a 1 GiB stream through `DirStore` with default settings and
//! print the process's RSS baseline and peak. Run under `/usr/bin/time -v`:
//! `cargo build --release -p medvault-engine --example rss &&
//!  /usr/bin/time -v target/release/examples/rss /dev/shm/medvault-rss`
#![allow(missing_docs)]

use std::convert::Infallible;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use medvault_engine::{BucketConfig, Engine, KeyRing, StorageConfig};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The server's allocator: mimalloc (built with `no_thp`: no transparent huge pages, which
/// would round every touched region up to 2 MiB) returns freed memory to the OS promptly; glibc
/// malloc keeps freed 1 MiB buffers in per-thread arenas across tokio's blocking threads (see
/// docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .map(|l| l.trim().to_owned())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/dev/shm/medvault-rss".into());
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
    let keys = KeyRing::parse("r:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("ring");
    let engine = Engine::new(cfg, keys).expect("engine");
    println!("baseline {}", status("VmRSS"));
    // 1 GiB generated on the fly in 64 KiB pieces: never held in memory.
    let piece = Bytes::from(vec![0xA5u8; 64 * 1024]);
    let total = 16 * 1024;
    let mut hasher = Sha256::new();
    for _ in 0..total {
        hasher.update(&piece);
    }
    let want = hasher.finalize();
    let input = stream::iter((0..total).map(move |_| Ok::<_, Infallible>(piece.clone())));
    let id = Uuid::new_v4();
    let t = std::time::Instant::now();
    let (manifest, wrapped) = engine.put(id, input).await.expect("put");
    println!("put 1 GiB in {:.2?}; {}", t.elapsed(), status("VmHWM"));
    let t = std::time::Instant::now();
    let mut out = engine.get(&manifest, &wrapped, id);
    let mut h = Sha256::new();
    let mut n = 0u64;
    while let Some(chunk) = out.next().await {
        let chunk = chunk.expect("get");
        n += chunk.len() as u64;
        h.update(&chunk);
    }
    assert_eq!(n, 1 << 30);
    assert_eq!(h.finalize(), want, "sha-256 mismatch");
    println!(
        "get 1 GiB in {:.2?}, sha-256 ok; {}",
        t.elapsed(),
        status("VmHWM")
    );
    engine.delete(&manifest).await.expect("delete");
    let _ = std::fs::remove_dir_all(&dir);
}
