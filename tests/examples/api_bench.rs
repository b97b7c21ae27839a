//! API benchmark: starts the real server in-process (SQLite + directory buckets by default, or
//! PostgreSQL + the S3 servers with `--postgres`) and measures over HTTP, with reqwest:
//! sign-in latency, upload and download throughput of one large record, and many small records
//! uploaded and downloaded concurrently.
//!
//! `cargo run --release -p medvault-tests --example api_bench [-- --postgres]`

use std::time::{Duration, Instant};

use medvault_tests::records::{Upload, pdf_bytes, sha256_hex, upload_ok};
use medvault_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp};

fn mib_per_s(bytes: usize, d: Duration) -> f64 {
    #[expect(clippy::cast_precision_loss, reason = "a figure for humans")]
    let mib = bytes as f64 / (1024.0 * 1024.0);
    mib / d.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let backend = if std::env::args().any(|a| a == "--postgres") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let app = TestApp::spawn_with(backend, |cfg| {
        cfg.records.max_file_bytes = 512 * 1024 * 1024;
        cfg.records.quota_bytes = 4 * 1024 * 1024 * 1024;
    })
    .await;
    let cast = app.cast().await;
    let patient = cast.patient.token.clone();

    // Sign-in latency (argon2id dominates by design).
    let mut times = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        times.push(t.elapsed());
    }
    times.sort();
    println!("backend {backend:?}");
    println!("sign-in: p50 {:?}, max {:?} (10 runs)", times[5], times[9]);

    // One large record.
    let size = 64 * 1024 * 1024;
    let bytes = pdf_bytes(size);
    let sha = sha256_hex(&bytes);
    let t = Instant::now();
    let meta = upload_ok(&app, &patient, &Upload::pdf(bytes)).await;
    let up = t.elapsed();
    let t = Instant::now();
    let got = app
        .get(
            &format!("/api/v1/records/{}/content", meta.id),
            Some(&patient),
        )
        .await
        .bytes()
        .await
        .expect("download");
    let down = t.elapsed();
    assert_eq!(sha256_hex(&got), sha, "round trip");
    println!(
        "64 MiB record: upload {:.0} MiB/s ({up:?}), download {:.0} MiB/s ({down:?})",
        mib_per_s(size, up),
        mib_per_s(size, down)
    );

    // Many small records, 8 at a time.
    let n: u16 = 64;
    let small = 256 * 1024;
    let t = Instant::now();
    let mut ids = Vec::new();
    for batch in 0..usize::from(n / 8) {
        let futs = (0..8).map(|i| {
            let app = &app;
            let patient = &patient;
            async move {
                let mut b = pdf_bytes(small);
                b[small - 1] = u8::try_from((batch * 8 + i) % 251).unwrap_or(0);
                upload_ok(app, patient, &Upload::pdf(b)).await.id
            }
        });
        ids.extend(futures_util::future::join_all(futs).await);
    }
    let up = t.elapsed();
    let t = Instant::now();
    for chunk in ids.chunks(8) {
        let futs = chunk.iter().map(|id| {
            let app = &app;
            let patient = &patient;
            async move {
                app.get(&format!("/api/v1/records/{id}/content"), Some(patient))
                    .await
                    .bytes()
                    .await
                    .expect("download")
                    .len()
            }
        });
        let lens = futures_util::future::join_all(futs).await;
        assert!(lens.iter().all(|l| *l == small));
    }
    let down = t.elapsed();
    let rate = |d: Duration| f64::from(n) / d.as_secs_f64();
    println!(
        "{n} x 256 KiB records, 8 concurrent: upload {:.0} records/s, download {:.0} records/s",
        rate(up),
        rate(down)
    );
}
