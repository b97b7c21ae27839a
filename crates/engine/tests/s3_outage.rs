//! Provider outage: with k=4, m=2 over six buckets on three Garage instances, stopping one
//! instance loses two buckets (= m erasures per stripe at most) and records still read back.
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
        let (stream, report) = e.get_with_report(&man, &w, id)?;
        let parts: Vec<bytes::Bytes> = futures_util::TryStreamExt::try_collect(stream).await?;
        Ok::<_, medvault_engine::EngineError>((down, parts.concat(), report.erasures().len()))
    }
    .await;
    // A put while a provider is down cannot place every shard and must fail, not hang.
    // 4 MiB = one full stripe of k+m = 6 shards: every bucket is needed.
    let put_down = e
        .put(Uuid::new_v4(), common::input(&data(4 * 1024 * 1024, 1)))
        .await;
    script(&["start", "2"]);
    let (down, back, erasures) = result.expect("degraded read");
    assert_eq!(down, 2, "two buckets on the stopped instance");
    assert_eq!(sha(&back), sha(&bytes));
    assert!(erasures > 0, "the outage was reported");
    assert!(put_down.is_err(), "put with a provider down must fail");
    // Back up: a normal read reports nothing and the record is intact.
    assert_eq!(
        sha(&get(&e, &man, &w, id).await.expect("read")),
        sha(&bytes)
    );
    e.delete(&man).await.expect("delete");
}
