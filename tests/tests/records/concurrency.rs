//! Concurrency: 20 uploads of different sizes (some spanning several stripes) racing each
//! other and downloads; every record byte-identical; the ledger one unforked chain. And a
//! grant's download limit holds under concurrent downloads.

use std::time::Instant;

use futures_util::future::join_all;
use medvault_tests::records::{
    TEST_CHUNK, TEST_STRIPE, Upload, access_body, assert_ledger_ok, assert_linked, download,
    download_identical, grant_by_code, ledger_all, my_records, pdf_bytes, sha256_hex,
    spawn_recording, text_bytes, upload_ok,
};
use medvault_tests::{Backend, on_both_backends};
use medvault_types::records::RecordMeta;
use reqwest::StatusCode;

on_both_backends!(
    twenty_concurrent_uploads_and_downloads,
    grant_limit_holds_under_concurrent_downloads
);

/// Sizes around chunk and stripe boundaries, from one byte to four stripes.
fn sizes() -> Vec<usize> {
    vec![
        1,
        17,
        4_095,
        TEST_CHUNK - 1,
        TEST_CHUNK,
        TEST_CHUNK + 1,
        100_000,
        TEST_STRIPE - 1,
        TEST_STRIPE,
        TEST_STRIPE + 1,
        300_000,
        2 * TEST_STRIPE,
        2 * TEST_STRIPE + 9_999,
        700_001,
        3 * TEST_STRIPE - TEST_CHUNK,
        12_345,
        131_072,
        900_000,
        4 * TEST_STRIPE + 3,
        50_000,
    ]
}

/// A file of `len` bytes: text for the tiny ones, PDF otherwise.
fn file(len: usize) -> Upload {
    if len < 64 {
        Upload::new(text_bytes(len), "note.txt", "text/plain")
    } else {
        Upload::pdf(pdf_bytes(len))
    }
}

async fn twenty_concurrent_uploads_and_downloads(backend: Backend) {
    let (app, _) = spawn_recording(backend, |_| {}).await;
    let cast = app.cast().await;
    let token = cast.patient.token.clone();
    let files: Vec<Upload> = sizes().into_iter().map(file).collect();
    assert_eq!(files.len(), 20);
    let total: usize = files
        .iter()
        .map(|f| f.bytes.as_ref().map_or(0, Vec::len))
        .sum();

    // Phase 1: ten uploads at once.
    let started = Instant::now();
    let first: Vec<RecordMeta> =
        join_all(files[..10].iter().map(|f| upload_ok(&app, &token, f))).await;
    // Phase 2: ten more uploads racing downloads of the first ten.
    let uploads = join_all(files[10..].iter().map(|f| upload_ok(&app, &token, f)));
    let downloads =
        join_all(first.iter().zip(&files[..10]).map(|(m, f)| {
            download_identical(&app, &token, m, f.bytes.as_deref().unwrap_or_default())
        }));
    let (second, _) = futures_util::join!(uploads, downloads);
    let metas: Vec<RecordMeta> = first.into_iter().chain(second).collect();
    let upload_secs = started.elapsed().as_secs_f64();

    // Every record distinct, and all twenty downloaded at once, byte-identical.
    let ids: std::collections::HashSet<_> = metas.iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 20);
    let started = Instant::now();
    join_all(
        metas.iter().zip(&files).map(|(m, f)| {
            download_identical(&app, &token, m, f.bytes.as_deref().unwrap_or_default())
        }),
    )
    .await;
    let download_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{backend:?}: 20 uploads ({total} bytes, 10 racing downloads) in {upload_secs:.2} s; 20 concurrent downloads in {download_secs:.2} s"
    );
    let listed = my_records(&app, &token).await;
    assert_eq!(listed.total, 20);
    for m in &metas {
        let l = listed.items.iter().find(|l| l.id == m.id).expect("listed");
        assert_eq!(l.sha256, m.sha256);
    }

    // The doctor, under an all-records grant, reads some of them concurrently too.
    grant_by_code(
        &app,
        &cast.doctor.token,
        &token,
        &access_body(cast.patient.id, None),
    )
    .await;
    join_all(metas.iter().zip(&files).skip(10).take(5).map(|(m, f)| {
        download_identical(
            &app,
            &cast.doctor.token,
            m,
            f.bytes.as_deref().unwrap_or_default(),
        )
    }))
    .await;

    // One chain: seq 1..n, each entry linked to its predecessor, and it verifies.
    let entries = ledger_all(&app, &cast.admin.token).await;
    assert_linked(&entries);
    let v = assert_ledger_ok(&app, &cast.admin.token).await;
    assert_eq!(v.entries, entries.len() as u64);
    let count = |a: &str| entries.iter().filter(|e| e.action == a).count();
    assert_eq!(count("record.upload"), 20);
    assert_eq!(count("record.download"), 10 + 20 + 5);
    let uploaded: std::collections::HashSet<String> = entries
        .iter()
        .filter(|e| e.action == "record.upload")
        .map(|e| e.subject.clone())
        .collect();
    assert_eq!(
        uploaded,
        metas.iter().map(|m| format!("record:{}", m.id)).collect()
    );
}

/// Twelve concurrent downloads under a ten-download grant: exactly ten succeed.
async fn grant_limit_holds_under_concurrent_downloads(backend: Backend) {
    let (app, _) = spawn_recording(backend, |cfg| cfg.consent.downloads_per_grant = 10).await;
    let cast = app.cast().await;
    let bytes = pdf_bytes(TEST_STRIPE + 1_000);
    let meta = upload_ok(&app, &cast.patient.token, &Upload::pdf(bytes.clone())).await;
    let grant = grant_by_code(
        &app,
        &cast.doctor.token,
        &cast.patient.token,
        &access_body(cast.patient.id, Some(meta.id)),
    )
    .await;
    assert_eq!(grant.max_downloads, 10);
    let results = join_all((0..12).map(|_| async {
        let resp = download(&app, Some(&cast.doctor.token), meta.id).await;
        let status = resp.status();
        let body = resp.bytes().await.expect("body").to_vec();
        (status, body)
    }))
    .await;
    let ok: Vec<_> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .collect();
    let refused = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::FORBIDDEN)
        .count();
    assert_eq!(
        (ok.len(), refused),
        (10, 2),
        "statuses: {:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert!(ok.iter().all(|(_, b)| sha256_hex(b) == meta.sha256));
    let entries = ledger_all(&app, &cast.admin.token).await;
    assert_linked(&entries);
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "record.download")
            .count(),
        10
    );
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "record.download_denied")
            .count(),
        2
    );
    assert_ledger_ok(&app, &cast.admin.token).await;
}
