//! The shard collector: deleting a record destroys its key at once (crypto-shredding) and the
//! background collector then removes its shards from every bucket; objects no record
//! references (a failed upload's leftovers) are swept once older than the grace period.
//!
//! Runs on SQLite with directory buckets only: each test app owns those buckets, whereas the
//! S3 buckets are shared by every PostgreSQL test app and a sweep with a zero grace period
//! would collect other tests' in-flight shards.

use std::path::Path;
use std::time::{Duration, Instant};

use medvault_tests::records::{Upload, assert_ledger_ok, pdf_bytes, spawn_recording, upload_ok};
use medvault_tests::{Backend, expect_error};
use reqwest::StatusCode;

/// Every regular file under `dir` (shards of all six directory buckets).
fn shard_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != ".tmp") {
                    stack.push(p);
                }
            } else {
                out.push(p);
            }
        }
    }
    out
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_records_lose_their_shards_and_orphans_are_swept() {
    let (app, paths) = spawn_recording(Backend::Sqlite, |cfg| {
        cfg.records.collector_interval_secs = 1;
        cfg.records.gc_grace_secs = 0;
    })
    .await;
    let buckets = paths.data_dir.join("buckets");
    let cast = app.cast().await;
    let patient = cast.patient.token.as_str();

    let kept = upload_ok(&app, patient, &Upload::pdf(pdf_bytes(300 * 1024))).await;
    let kept_files = shard_files(&buckets);
    assert!(!kept_files.is_empty(), "the upload wrote shards");
    let doomed = upload_ok(&app, patient, &Upload::pdf(pdf_bytes(200 * 1024))).await;
    let with_both = shard_files(&buckets);
    assert!(with_both.len() > kept_files.len());

    // Crypto-shredding: gone for everyone at once, its shards collected soon after.
    let resp = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/records/{}", doomed.id),
            Some(patient),
        )
        .send()
        .await
        .expect("delete");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_error(
        app.get(
            &format!("/api/v1/records/{}/content", doomed.id),
            Some(patient),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    wait_until("the deleted record's shards are gone", || {
        shard_files(&buckets).len() == kept_files.len()
    })
    .await;

    // An object no manifest references (as a crashed upload leaves) is swept.
    // Directory buckets keep object `k` at `<bucket>/<k[..2]>/<k>`.
    let bucket_root = kept_files[0]
        .parent()
        .and_then(Path::parent)
        .expect("bucket dir")
        .to_path_buf();
    let orphan = bucket_root
        .join("01")
        .join("0123456789abcdef0123456789abcdef");
    std::fs::create_dir_all(orphan.parent().expect("prefix dir")).expect("prefix dir");
    std::fs::write(&orphan, b"leftover of a failed upload").expect("orphan");
    wait_until("the orphan is swept", || !orphan.exists()).await;

    // The surviving record is untouched and still reads back; the ledger still verifies.
    let mut remaining = shard_files(&buckets);
    remaining.sort();
    let mut expected = kept_files.clone();
    expected.sort();
    assert_eq!(
        remaining, expected,
        "only the deleted record's shards were removed"
    );
    let body = app
        .get(
            &format!("/api/v1/records/{}/content", kept.id),
            Some(patient),
        )
        .await;
    assert_eq!(body.status(), StatusCode::OK);
    let bytes = body.bytes().await.expect("body");
    assert_eq!(medvault_tests::records::sha256_hex(&bytes), kept.sha256);
    assert_ledger_ok(&app, &cast.admin.token).await;
}
