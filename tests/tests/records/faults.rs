//! Provider faults (issue 14), on PostgreSQL and Garage, with the buckets of Garage instance 1
//! (and 2) reached through a TCP fault proxy ([`medvault_tests::faults`]):
//!
//! - an upload while a provider refuses answers 201 with every shard on the others (the
//!   record misplaced and queued for repair), reads back byte-identical, and a scrub with
//!   repair re-spreads it once the provider is back; with a second provider refusing too
//!   (fewer than k buckets left) an upload answers 503 and no record appears;
//! - downloads with a provider refusing, black-holed, slow, or cutting answers mid-body
//!   complete byte-identical before any per-shard time limit (hedged reads);
//! - the circuit breaker keeps the connections to a refusing provider few.
//!
//! The proxies only ever fail their own connections, so the shared Garage instances keep
//! serving the other tests.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use medvault_engine::{BucketConfig, FaultConfig, Manifest, ScrubMode};
use medvault_server::config::Config;
use medvault_server::db::schema::record_storage;
use medvault_server::state::AppState;
use medvault_server::storage::{outages::Outages, scrubber};
use medvault_tests::faults::{Fault, FaultProxy};
use medvault_tests::records::{
    TEST_CHUNK, TEST_STRIPE, Upload, assert_ledger_ok, download_identical, expect_code, my_records,
    pdf_bytes, upload, upload_ok,
};
use medvault_tests::{Backend, TestApp, s3_storage};
use medvault_types::{RecordId, RecordMeta};
use reqwest::StatusCode;

/// S3 time limits well below the stripe limit, so a test can tell "hedged" from "waited".
fn limits(breaker_failures: u32) -> FaultConfig {
    FaultConfig {
        breaker_failures,
        breaker_cooldown_secs: 120,
        first_byte_timeout_secs: 5,
        attempt_timeout_secs: 10,
        stripe_timeout_secs: 20,
        ..FaultConfig::default()
    }
}

/// A test app on PostgreSQL whose Garage instances `1..=instances` sit behind fault proxies, a
/// second state on the same database and buckets (what `medvault storage` builds), and the
/// proxies.
struct Faulted {
    app: TestApp,
    state: Arc<AppState>,
    proxies: Vec<FaultProxy>,
}

async fn faulted(instances: u16, faults: FaultConfig) -> Faulted {
    let mut storage = s3_storage();
    storage.chunk_size = TEST_CHUNK;
    storage.faults = faults;
    let mut proxies = Vec::new();
    for i in 1..=instances {
        let prefix = format!("g{i}");
        let upstream: SocketAddr = storage
            .buckets
            .iter()
            .find_map(|b| match b {
                BucketConfig::S3 { name, endpoint, .. } if name.starts_with(&prefix) => endpoint
                    .as_deref()
                    .and_then(|e| e.strip_prefix("http://"))
                    .and_then(|a| a.parse().ok()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("the S3 test configuration has no instance {i}"));
        let proxy = FaultProxy::start(upstream).await;
        for b in &mut storage.buckets {
            if let BucketConfig::S3 { name, endpoint, .. } = b
                && name.starts_with(&prefix)
            {
                *endpoint = Some(proxy.endpoint());
            }
        }
        proxies.push(proxy);
    }
    let mut seen = None;
    let app = TestApp::spawn_with(Backend::Postgres, |c| {
        c.storage = storage.clone();
        seen = Some(c.clone());
    })
    .await;
    let config: Config = seen.expect("the harness applies the tweak");
    let state = medvault_tests::state_on(&config)
        .await
        .expect("second state");
    Faulted {
        app,
        state,
        proxies,
    }
}

impl Faulted {
    async fn manifest(&self, id: RecordId) -> Manifest {
        medvault_tests::records::stored_manifest(&self.state.pool, id).await
    }

    /// Records queued for repair, with the reason.
    async fn queued(&self) -> Vec<(RecordId, Option<String>)> {
        let rows: Vec<(String, Option<String>)> = medvault_server::db::run(&self.state.pool, |c| {
            Ok(record_storage::table
                .filter(record_storage::repair_priority.is_not_null())
                .select((record_storage::record_id, record_storage::repair_reason))
                .load(c)?)
        })
        .await
        .expect("queue");
        rows.into_iter()
            .map(|(id, why)| (id.parse().expect("record id"), why))
            .collect()
    }
}

fn on_instance(m: &Manifest, i: u16) -> usize {
    let prefix = format!("g{i}");
    m.shards
        .iter()
        .filter(|e| e.bucket.starts_with(&prefix))
        .count()
}

/// Every stripe: distinct buckets, at most two shards per Garage instance.
fn assert_well_placed(m: &Manifest) {
    let stripes = m.shards.last().map_or(0, |e| e.stripe + 1);
    for s in 0..stripes {
        let buckets: Vec<&str> = m
            .shards
            .iter()
            .filter(|e| e.stripe == s)
            .map(|e| e.bucket.as_str())
            .collect();
        let distinct: HashSet<&str> = buckets.iter().copied().collect();
        assert_eq!(distinct.len(), buckets.len(), "stripe {s}: {buckets:?}");
        let mut per: BTreeMap<&str, usize> = BTreeMap::new();
        for b in &buckets {
            *per.entry(&b[..2]).or_default() += 1;
        }
        assert!(per.values().all(|&n| n <= 2), "stripe {s}: {per:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_go_on_while_a_provider_refuses_and_repair_respreads_them() {
    let f = faulted(2, limits(3)).await;
    let cast = f.app.cast().await;
    let token = &cast.patient.token;
    f.proxies[0].set(Fault::Refuse);
    // Two full stripes and a bit (six shards per full stripe, four buckets left: misplaced),
    // and a one-chunk record (three shards: placed by the rule on four buckets).
    let big = pdf_bytes(2 * TEST_STRIPE + 5);
    let small = pdf_bytes(3_000);
    let big_meta = upload_ok(&f.app, token, &Upload::pdf(big.clone())).await;
    let small_meta = upload_ok(&f.app, token, &Upload::pdf(small.clone())).await;
    let (big_m, small_m) = (
        f.manifest(big_meta.id).await,
        f.manifest(small_meta.id).await,
    );
    for m in [&big_m, &small_m] {
        m.validate().expect("a valid manifest");
        assert_eq!(on_instance(m, 1), 0, "nothing on the refusing provider");
    }
    assert_eq!(
        big_m.shards.len(),
        2 * 6 + 3,
        "every stripe got all its shards (two full ones, a one-chunk one)"
    );
    assert!(f.state.engine.is_misplaced(&big_m));
    assert!(!f.state.engine.is_misplaced(&small_m));
    assert_eq!(
        f.queued().await,
        vec![(big_meta.id, Some("upload".to_owned()))],
        "the misplaced record (only) is queued for repair"
    );
    download_identical(&f.app, token, &big_meta, &big).await;
    download_identical(&f.app, token, &small_meta, &small).await;

    // A second provider refusing leaves two buckets, fewer than k = 4: 503, nothing kept.
    f.proxies[1].set(Fault::Refuse);
    let refused = upload(&f.app, Some(token), &Upload::pdf(pdf_bytes(TEST_STRIPE))).await;
    expect_code(
        refused,
        StatusCode::SERVICE_UNAVAILABLE,
        "storage_unavailable",
    )
    .await;
    assert_eq!(my_records(&f.app, token).await.items.len(), 2);
    f.proxies[1].set(Fault::Pass);

    // The provider is back: the scrubber's probe finds every bucket, repair re-spreads.
    f.proxies[0].set(Fault::Pass);
    let opts = Outages::default()
        .probe(
            &f.state.engine,
            ScrubMode::Repair,
            f.state.clock.now(),
            3600,
        )
        .await;
    assert!(
        opts.buckets.is_empty(),
        "every bucket answers: {:?}",
        opts.buckets
    );
    let ids: Vec<RecordId> = f.queued().await.into_iter().map(|(id, _)| id).collect();
    let pass = scrubber::pass(&f.state, &ids, &opts, 0, |_, _| {}).await;
    assert_eq!(pass.classes.get("healthy"), Some(&1), "{pass:?}");
    assert_eq!(pass.new_manifests, 1);
    assert_eq!(
        pass.moved,
        2 * 2,
        "two doubled shards per full stripe moved"
    );
    let fixed = f.manifest(big_meta.id).await;
    assert_well_placed(&fixed);
    assert!(
        on_instance(&fixed, 1) > 0,
        "shards moved onto the returned provider"
    );
    assert!(f.queued().await.is_empty(), "the repair queue is empty");
    download_identical(&f.app, token, &big_meta, &big).await;
    download_identical(&f.app, token, &small_meta, &small).await;
    assert_ledger_ok(&f.app, &cast.admin.token).await;
}

/// Downloads `meta` with instance 1 in `fault`, expecting it byte-identical within `within`.
async fn download_under(
    f: &Faulted,
    token: &str,
    meta: &RecordMeta,
    bytes: &[u8],
    fault: Fault,
    within: Duration,
) {
    f.proxies[0].set(fault);
    let t0 = Instant::now();
    download_identical(&f.app, token, meta, bytes).await;
    let took = t0.elapsed();
    f.proxies[0].set(Fault::Pass);
    assert!(took < within, "{fault:?}: {took:?}, not within {within:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_complete_while_a_provider_refuses_hangs_crawls_or_cuts() {
    // Breaker off: every download meets the fault in every stripe and must hedge around it.
    let f = faulted(1, limits(0)).await;
    let cast = f.app.cast().await;
    let token = &cast.patient.token;
    let bytes = pdf_bytes(8 * TEST_STRIPE - 99);
    let meta = upload_ok(&f.app, token, &Upload::pdf(bytes.clone())).await;
    let m = f.manifest(meta.id).await;
    assert!(
        m.shards
            .iter()
            .any(|e| e.index < 4 && e.bucket.starts_with("g1")),
        "the test needs data shards on instance 1"
    );
    // Healthy first (it also teaches the engine how long a shard read takes).
    download_identical(&f.app, token, &meta, &bytes).await;
    // Five seconds is the S3 client's first-byte limit: a download that waited for a shard of
    // the faulty provider would take at least that (or the four seconds of the slow one).
    let limit = Duration::from_secs(4);
    for fault in [
        Fault::Refuse,
        Fault::BlackHole,
        Fault::Delay(Duration::from_secs(4)),
        Fault::CutAfter(20_000),
    ] {
        download_under(&f, token, &meta, &bytes, fault, limit).await;
    }
    // An upload with the provider black-holed (and still no breaker) gives up each stripe's
    // writes there after a hedge delay: done before the S3 client's first-byte limit.
    f.proxies[0].set(Fault::BlackHole);
    // Three stripes, two at a time: two hedge delays (1 s each) before the writes move.
    let fresh = pdf_bytes(2 * TEST_STRIPE + 11);
    let t0 = Instant::now();
    let fresh_meta = upload_ok(&f.app, token, &Upload::pdf(fresh.clone())).await;
    let took = t0.elapsed();
    f.proxies[0].set(Fault::Pass);
    assert!(
        took < limit,
        "black-holed upload: {took:?}, not within {limit:?}"
    );
    let placed = f.manifest(fresh_meta.id).await;
    assert_eq!(
        on_instance(&placed, 1),
        0,
        "nothing on the black-holed provider"
    );
    download_identical(&f.app, token, &fresh_meta, &fresh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_keeps_connections_to_a_refusing_provider_few() {
    let f = faulted(1, limits(3)).await;
    let cast = f.app.cast().await;
    let token = &cast.patient.token;
    let bytes = pdf_bytes(16 * TEST_STRIPE - 7);
    let meta = upload_ok(&f.app, token, &Upload::pdf(bytes.clone())).await;
    let m = f.manifest(meta.id).await;
    let data_there = m
        .shards
        .iter()
        .filter(|e| e.index < 4 && e.bucket.starts_with("g1"))
        .count();
    f.proxies[0].set(Fault::Refuse);
    let before = f.proxies[0].connections();
    let downloads = 5;
    for _ in 0..downloads {
        download_identical(&f.app, token, &meta, &bytes).await;
    }
    let tried = f.proxies[0].connections() - before;
    // Without a breaker each download would read its data shards there, each read up to
    // three attempts: far more than the bound.
    assert!(
        data_there * downloads >= 40,
        "{data_there} data shards on instance 1: too few for the test"
    );
    assert!(
        tried <= 20,
        "{tried} connections to a refusing provider ({data_there} data shards there per download)"
    );
    assert!(tried > 0, "the proxy is in the path");
}
