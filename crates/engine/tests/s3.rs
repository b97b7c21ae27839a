//! The engine suite on `S3Store` against real Garage servers (`scripts/s3-servers.sh up`).
//! Requires `MEDVAULT_TEST_S3_CONFIG`; fails with a clear message when it is unset.

mod common;

use common::Fixture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_round_trips_all_sizes() {
    common::round_trips_all_sizes(&Fixture::s3()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_round_trips_several_mib() {
    common::round_trips_several_mib_with_default_chunk(&Fixture::s3()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_survives_m_erasures() {
    common::survives_m_erasures_and_fails_cleanly_beyond(&Fixture::s3()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_m0() {
    common::m0_loses_record_on_any_erasure(&Fixture::s3()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_tampering_refused() {
    common::tampering_is_refused(&Fixture::s3()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_gc() {
    common::gc_collects_only_unreferenced_old_objects(&Fixture::s3()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_health() {
    common::health_reports_every_bucket_ok(&Fixture::s3()).await;
}
