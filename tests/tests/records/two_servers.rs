//! Two medvault server processes on one PostgreSQL database and one set of S3 buckets, traffic
//! spread over both (as behind a load balancer): the ledger stays one unforked chain, sign-in
//! locks hold across both, a grant's download count is exact, and a session ended on one is
//! refused on the other. Server A runs in the test process, server B is a process of its own
//! (`crash::crash_server_process`) on A's exact configuration.

use futures_util::future::join_all;
use medvault_server::config::Config;
use medvault_tests::records::{
    TEST_STRIPE, Upload, access_body, assert_ledger_ok, assert_linked, download, grant_by_code,
    ledger_all, pdf_bytes, sha256_hex, small_chunks, upload_ok,
};
use medvault_tests::{ADMIN_EMAIL, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::json;

/// Server A, in process, and server B, a process of its own started on A's exact
/// configuration (database, buckets, signing key, key ring and limits).
async fn pair(tweak: impl Fn(&mut Config)) -> (TestApp, TestApp) {
    let mut seen = None;
    let a = TestApp::spawn_with(Backend::Postgres, |c| {
        small_chunks(c);
        tweak(c);
        seen = Some(c.clone());
    })
    .await;
    let config = seen.expect("config");
    let conf = config.data_dir.join("server-b.toml");
    let process = tokio::task::spawn_blocking(move || crate::crash::start_server(&config, &conf))
        .await
        .expect("start server B");
    let b = TestApp::of_process(process, &a);
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_one_database() {
    let (a, b) = pair(|c| {
        c.consent.downloads_per_grant = 10;
        c.auth.lock_after = 4;
        c.auth.slowdown_after = 100;
    })
    .await;
    let servers = [&a, &b];
    let cast = a.cast().await;

    // Uploads spread over both, at once; each reads back from the other.
    let files: Vec<Vec<u8>> = (0..10)
        .map(|i| pdf_bytes(TEST_STRIPE + 5_000 * i))
        .collect();
    let uploads: Vec<Upload> = files.iter().map(|b| Upload::pdf(b.clone())).collect();
    let metas = join_all(
        uploads
            .iter()
            .enumerate()
            .map(|(i, u)| upload_ok(servers[i % 2], &cast.patient.token, u)),
    )
    .await;
    for (i, (meta, bytes)) in metas.iter().zip(&files).enumerate() {
        let resp = download(servers[(i + 1) % 2], Some(&cast.patient.token), meta.id).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            sha256_hex(&resp.bytes().await.expect("body")),
            sha256_hex(bytes)
        );
    }

    // A grant of ten downloads, twelve downloads spread over both at once: exactly ten.
    let grant = grant_by_code(
        &b,
        &cast.doctor.token,
        &cast.patient.token,
        &access_body(cast.patient.id, Some(metas[0].id)),
    )
    .await;
    assert_eq!(grant.max_downloads, 10);
    let (doctor, record) = (cast.doctor.token.as_str(), metas[0].id);
    let statuses = join_all((0..12).map(|i| async move {
        download(servers[i % 2], Some(doctor), record)
            .await
            .status()
    }))
    .await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::FORBIDDEN)
        .count();
    assert_eq!((ok, refused), (10, 2), "{statuses:?}");

    // Wrong passwords alternating between the servers: the lock counts all of them, and holds
    // on both.
    let mut seen = Vec::new();
    for i in 0..6 {
        let resp = servers[i % 2]
            .post(
                "/api/v1/auth/login",
                None,
                &json!({ "email": ADMIN_EMAIL, "password": "not the password" }),
            )
            .await;
        seen.push(resp.status().as_u16());
    }
    assert_eq!(seen, [401, 401, 401, 401, 429, 429]);

    // Signed out on A: the same access token is refused on B.
    let resp = a
        .post(
            "/api/v1/auth/logout",
            Some(&cast.other_patient.token),
            &json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = b.get("/api/v1/me", Some(&cast.other_patient.token)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // One chain, verified from either server.
    let entries = ledger_all(&b, &cast.admin.token).await;
    assert_linked(&entries);
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "record.upload")
            .count(),
        10
    );
    assert_ledger_ok(&a, &cast.admin.token).await;
    assert_ledger_ok(&b, &cast.admin.token).await;
}
