//! The engine suite on `DirStore`, plus DirStore-only cases (rollback, proptest).

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::{Fixture, SMALL_CHUNK, data, get, put, sha};
use futures_util::stream;
use medvault_engine::{BlobStore, EngineError, PutError};
use proptest::prelude::*;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dir_round_trips_all_sizes() {
    common::round_trips_all_sizes(&Fixture::dir(6)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dir_round_trips_several_mib() {
    common::round_trips_several_mib_with_default_chunk(&Fixture::dir(6)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dir_survives_m_erasures() {
    common::survives_m_erasures_and_fails_cleanly_beyond(&Fixture::dir(7)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dir_m0() {
    common::m0_loses_record_on_any_erasure(&Fixture::dir(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dir_tampering_refused() {
    common::tampering_is_refused(&Fixture::dir(4)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dir_gc() {
    common::gc_collects_only_unreferenced_old_objects(&Fixture::dir(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dir_health() {
    common::health_reports_every_bucket_ok(&Fixture::dir(3)).await;
}

async fn object_count(f: &Fixture) -> usize {
    let mut n = 0;
    for s in f.stores.values() {
        n += s.list().await.expect("list").len();
    }
    n
}

/// The caller's input error comes back intact and every shard written so far is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_error_rolls_back_and_returns_callers_error() {
    let f = Fixture::dir(6);
    let e = f.engine(4, 2, SMALL_CHUNK);
    let good = Bytes::from(data(20 * SMALL_CHUNK, 1));
    let input = stream::iter(vec![Ok(good), Err("too large")]);
    match e.put(Uuid::new_v4(), input).await {
        Err(PutError::Input(msg)) => assert_eq!(msg, "too large"),
        other => panic!("expected input error, got {other:?}"),
    }
    assert_eq!(object_count(&f).await, 0, "rollback left shards behind");
}

/// Buckets that cannot be written: with fewer than `k` writable ones left the upload fails with
/// a typed error and rolls back; with `k` left it succeeds, every shard on the writable ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_failure_rolls_back() {
    let f = Fixture::dir(3);
    let e = f.engine(2, 1, SMALL_CHUNK);
    // Replace a bucket directory's shard fan-out by files: writes there fail.
    let block = |i: usize, blocked: bool| {
        let medvault_engine::BucketConfig::Dir { path, .. } = &f.buckets[i] else {
            unreachable!()
        };
        for j in 0..=255u8 {
            let p = path.join(format!("{j:02x}"));
            if blocked {
                std::fs::write(&p, b"x").expect("block");
            } else if p.is_file() {
                std::fs::remove_file(&p).expect("unblock");
            }
        }
    };
    block(1, true);
    block(2, true);
    let r = e
        .put(Uuid::new_v4(), common::input(&data(8 * SMALL_CHUNK, 2)))
        .await;
    assert!(
        matches!(r, Err(PutError::Engine(EngineError::Write { .. }))),
        "{r:?}"
    );
    assert_eq!(object_count(&f).await, 0);
    // Two writable buckets (= k): every stripe's three shards on them, misplaced.
    block(2, false);
    let e = f.engine(2, 1, SMALL_CHUNK);
    let id = Uuid::new_v4();
    let bytes = data(8 * SMALL_CHUNK, 3);
    let (man, w) = e.put(id, common::input(&bytes)).await.expect("put");
    assert!(man.shards.iter().all(|s| s.bucket != f.buckets[1].name()));
    assert_eq!(man.shards.len(), 4 * 3);
    assert!(e.is_misplaced(&man));
    assert_eq!(
        common::sha(&common::get(&e, &man, &w, id).await.expect("read")),
        common::sha(&bytes)
    );
    block(1, false);
}

#[test]
fn config_with_too_few_buckets_is_refused() {
    let f = Fixture::dir(5);
    let cfg = medvault_engine::StorageConfig {
        buckets: f.buckets.clone(),
        ..Default::default()
    };
    assert!(matches!(
        medvault_engine::Engine::new(cfg, common::keyring()),
        Err(EngineError::Config(
            medvault_engine::ConfigError::TooFewBuckets { .. }
        ))
    ));
}

#[test]
fn dirstore_refuses_oversized_reads() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s: Arc<dyn BlobStore> = Arc::new(medvault_engine::DirStore::new(tmp.path()).expect("s"));
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let key = "00112233445566778899aabbccddeeff";
        s.put(key, Bytes::from_static(b"0123456789"))
            .await
            .expect("put");
        assert!(s.get(key, 9).await.is_err());
        assert_eq!(s.get(key, 10).await.expect("get").as_ref(), b"0123456789");
        assert!(s.put("../escape", Bytes::new()).await.is_err());
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn dir_round_trip_prop(len in 0usize..60_000, k in 1usize..5, m in 0usize..3, seed in any::<u64>()) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
        let f = Fixture::dir(k + m);
        let e = f.engine(k, m, SMALL_CHUNK);
        let bytes = data(len, seed);
        let id = Uuid::new_v4();
        let back = rt.block_on(async {
            let (man, w) = put(&e, id, &bytes).await;
            get(&e, &man, &w, id).await
        });
        prop_assert_eq!(sha(&back.expect("get")), sha(&bytes));
    }
}
