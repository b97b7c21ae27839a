//! Provider outage: with k=4, m=2 over six buckets on three Garage instances, stopping one
//! instance loses two buckets (= m erasures per stripe at most): records still read back, and
//! uploads still place every shard, on the four buckets left (misplaced until repaired).
//! Its own test binary, so no other S3 test runs while an instance is down.

mod common;

use common::{Fixture, data, get, put, sha};
use uuid::Uuid;

fn script(args: &[&str]) {
    let cfg = std::env::var("MEDVAULT_TEST_S3_CONFIG").expect("MEDVAULT_TEST_S3_CONFIG unset");
    let state = std::path::Path::new(&cfg).parent().expect("state dir");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/s3-servers.sh");
    let mut cmd = std::process::Command::new(root);
    cmd.args(args).arg(state);
    let st = cmd.status().expect("run s3-servers.sh");
    assert!(st.success(), "s3-servers.sh {args:?} failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_provider_down_still_reads() {
    let f = Fixture::s3();
    let e = f.engine(4, 2, 1024 * 1024);
    let id = Uuid::new_v4();
    let bytes = data(9 * 1024 * 1024 + 333, 42);
    let (man, w) = put(&e, id, &bytes).await;
    script(&["stop", "2"]);
    let result = async {
        let health = e.health().await;
        let down = health.iter().filter(|h| !h.ok).count();
        // The probe opened the stopped provider's circuit breaker: the read skips it.
        let open = e.providers().iter().filter(|p| p.open).count();
        let (stream, _) = e.get_with_report(&man, &w, id)?;
        let parts: Vec<bytes::Bytes> = futures_util::TryStreamExt::try_collect(stream).await?;
        Ok::<_, medvault_engine::EngineError>((down, parts.concat(), open))
    }
    .await;
    // A put while a provider is down places all six shards of its stripe (4 MiB = one full
    // stripe) on the four buckets left: two of them take a second shard, under another key.
    let new_bytes = data(4 * 1024 * 1024, 1);
    let new_id = Uuid::new_v4();
    let put_down = e.put(new_id, common::input(&new_bytes)).await;
    let (down, back, open) = result.expect("degraded read");
    let (new_man, new_w) = put_down.expect("put with a provider down");
    let new_back = get(&e, &new_man, &new_w, new_id).await;
    script(&["start", "2"]);
    assert_eq!(down, 2, "two buckets on the stopped instance");
    assert_eq!(sha(&back), sha(&bytes));
    assert_eq!(open, 1, "the outage opened one provider's breaker");
    assert_eq!(new_man.shards.len(), 6);
    assert!(new_man.shards.iter().all(|s| !s.bucket.starts_with("g2")));
    assert!(e.is_misplaced(&new_man));
    assert_eq!(sha(&new_back.expect("read while down")), sha(&new_bytes));
    // Back up: a normal read reports nothing and the record is intact.
    assert_eq!(
        sha(&get(&e, &man, &w, id).await.expect("read")),
        sha(&bytes)
    );
    e.delete(&man).await.expect("delete");
    e.delete(&new_man).await.expect("delete");
}
