//! Crash consistency: a second server process on the same SQLite database and directory
//! buckets is killed with `SIGKILL` in the middle of uploads, downloads and deletes (a killed
//! repair is `storage::a_killed_drain_finishes_when_run_again`). Afterwards no partial record
//! is visible, every record reads back byte-identical, the ledger verifies, and once the
//! collector has run past its grace period no orphan shard and no temporary file is left.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use medvault_engine::Manifest;
use medvault_server::config::Config;
use medvault_server::db::schema::records;
use medvault_server::records::collector;
use medvault_server::state::AppState;
use medvault_tests::child::{self, ServerProcess};
use medvault_tests::records::{
    TEST_CHUNK, Upload, assert_ledger_ok, download_identical, my_records, pdf_bytes, sha256_hex,
    small_chunks, stored_files, upload_ok,
};
use medvault_tests::{Backend, TestApp};
use reqwest::Method;

/// Env var naming the configuration file of the server run as a child process.
const CHILD_CONFIG: &str = "MEDVAULT_TEST_CRASH_CONFIG";

/// This test's name, which a child server process runs (see [`child`]).
const CHILD_ENTRY: &str = "crash::crash_server_process";

/// The server process [`ServerProcess::start`] starts here (this test binary again, running
/// only this test): serves the configuration in [`CHILD_CONFIG`] until it is killed. Without
/// the variable (a normal test run) it returns at once. The two-server test starts it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_server_process() {
    child::serve_if_asked(CHILD_CONFIG).await;
}

/// Starts a server process on `config`'s data, its configuration written to `conf`.
pub(crate) fn start_server(config: &Config, conf: &Path) -> ServerProcess {
    ServerProcess::start(config, conf, CHILD_ENTRY, CHILD_CONFIG)
}

/// Sends the requests to the child at once and kills it when the first of them has its answer
/// (the others are then still in flight), or after `after` if none has by then; returns how
/// many answered with `ok` before it died.
async fn kill_during(
    server: ServerProcess,
    after: Duration,
    requests: Vec<reqwest::RequestBuilder>,
    ok: reqwest::StatusCode,
) -> usize {
    let (answered, mut first) = tokio::sync::mpsc::unbounded_channel::<()>();
    let sent = tokio::spawn(join_all(requests.into_iter().map(|r| {
        let answered = answered.clone();
        async move {
            let done = match r.send().await {
                // Reading the body to the end: a download cut off mid-body is an error here.
                Ok(resp) if resp.status() == ok => resp.bytes().await.is_ok(),
                _ => false,
            };
            let _ = answered.send(());
            done
        }
    })));
    drop(answered);
    let _ = tokio::time::timeout(after, first.recv()).await;
    server.kill();
    sent.await
        .expect("requests")
        .into_iter()
        .filter(|done| *done)
        .count()
}

/// Uploads, downloads and deletes, each killed mid-flight; then every check of the module doc.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_leaves_no_partial_record_and_no_orphan() {
    let mut seen = None;
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        small_chunks(c);
        seen = Some(c.clone());
    })
    .await;
    let config = seen.expect("config");
    let cast = app.cast().await;
    let token = cast.patient.token.clone();
    let conf = config.data_dir.join("child.toml");
    let client = reqwest::Client::new();
    let big = |i: usize| pdf_bytes(TEST_CHUNK * 40 + i * 1_001);
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();

    // Uploads: twelve large files at once, killed after a moment.
    let server = start_server(&config, &conf);
    let uploads: Vec<_> = (0..12)
        .map(|i| {
            let bytes = big(i);
            files.insert(sha256_hex(&bytes), bytes.clone());
            client
                .request(Method::POST, format!("{}/api/v1/records", server.address))
                .bearer_auth(&token)
                .multipart(Upload::pdf(bytes).form())
        })
        .collect();
    let finished = kill_during(
        server,
        Duration::from_millis(300),
        uploads,
        reqwest::StatusCode::CREATED,
    )
    .await;
    assert!(
        finished < 12,
        "the kill landed before every upload finished"
    );

    // Downloads: of records the parent stored, killed mid-body.
    let mut kept = Vec::new();
    for i in 0..4 {
        let bytes = big(100 + i);
        files.insert(sha256_hex(&bytes), bytes.clone());
        kept.push(upload_ok(&app, &token, &Upload::pdf(bytes)).await);
    }
    let server = start_server(&config, &conf);
    let downloads: Vec<_> = (0..8)
        .map(|i| {
            client
                .get(format!(
                    "{}/api/v1/records/{}/content",
                    server.address,
                    kept[i % kept.len()].id
                ))
                .bearer_auth(&token)
        })
        .collect();
    kill_during(
        server,
        Duration::from_millis(150),
        downloads,
        reqwest::StatusCode::OK,
    )
    .await;

    // Deletes: every record the parent can see, at once, killed after a moment.
    let listed = my_records(&app, &token).await.items;
    let server = start_server(&config, &conf);
    let deletes: Vec<_> = listed
        .iter()
        .map(|m| {
            client
                .delete(format!("{}/api/v1/records/{}", server.address, m.id))
                .bearer_auth(&token)
        })
        .collect();
    kill_during(
        server,
        Duration::from_millis(20),
        deletes,
        reqwest::StatusCode::NO_CONTENT,
    )
    .await;

    // No partial record: whatever is listed reads back exactly as uploaded.
    let left = my_records(&app, &token).await.items;
    for meta in &left {
        let bytes = files.get(&meta.sha256).expect("a record of a file sent");
        download_identical(&app, &token, meta, bytes).await;
    }
    assert_ledger_ok(&app, &cast.admin.token).await;

    collected_clean(&config).await;
    for meta in &left {
        let bytes = files.get(&meta.sha256).expect("a record of a file sent");
        download_identical(&app, &token, meta, bytes).await;
    }
    assert_ledger_ok(&app, &cast.admin.token).await;
}

/// Runs the collector past its grace (shards of deleted records and of uploads that never
/// committed go, and so do temporary files), then finds neither an orphan shard nor a
/// temporary file in any bucket.
pub(crate) async fn collected_clean(config: &Config) {
    let mut gc_config = config.clone();
    gc_config.records.gc_grace_secs = 0;
    let state = medvault_tests::state_on(&gc_config).await.expect("state");
    collector::purge_deleted(&state).await.expect("purge");
    collector::sweep_unreferenced(&state).await.expect("sweep");
    let referenced = referenced_shards(&state).await;
    let files_now: Vec<PathBuf> = stored_files(&config.data_dir.join("buckets"))
        .into_iter()
        .collect();
    let temporary: Vec<&PathBuf> = files_now
        .iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == ".tmp"))
        .collect();
    assert!(temporary.is_empty(), "temporary files left: {temporary:?}");
    let orphans: Vec<&PathBuf> = files_now
        .iter()
        .filter(|p| {
            let key = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            !referenced.contains(key)
        })
        .collect();
    assert!(orphans.is_empty(), "orphan shards: {orphans:?}");
}

/// Every shard key a live record's manifest names.
async fn referenced_shards(state: &Arc<AppState>) -> HashSet<String> {
    use diesel::prelude::*;
    let manifests: Vec<String> = medvault_server::db::run(&state.pool, |conn| {
        Ok(records::table
            .filter(records::manifest.is_not_null())
            .select(records::manifest.assume_not_null())
            .load(conn)?)
    })
    .await
    .expect("manifests");
    manifests
        .iter()
        .flat_map(|t| {
            let m: Manifest = serde_json::from_str(t).expect("manifest");
            m.shards.into_iter().map(|s| s.key)
        })
        .collect()
}
