//! The checked-in spec matches the code, and the server serves it.

use medvault_tests::{Backend, TestApp};
use reqwest::StatusCode;

/// Fails when `openapi/openapi.json` differs from what the code generates; fix with
/// `make openapi`.
#[test]
fn checked_in_spec_matches_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = medvault_server::openapi::spec_json();
    assert!(
        on_disk == generated,
        "openapi/openapi.json is out of date: run `make openapi` (or `cargo run -p medvault-server --bin medvault -- openapi > openapi/openapi.json`)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_spec_and_docs() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let resp = app.get("/api/openapi.json", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let served: serde_json::Value = resp.json().await.expect("json");
    let generated: serde_json::Value =
        serde_json::from_str(&medvault_server::openapi::spec_json()).expect("json");
    assert_eq!(served, generated);
    for path in [
        "/api/v1/auth/login",
        "/api/v1/admin/doctors/{id}",
        "/api/v1/doctor/patients",
    ] {
        assert!(served["paths"].get(path).is_some(), "{path} missing");
    }
    let docs = app.get("/api/docs/", None).await;
    assert_eq!(docs.status(), StatusCode::OK);
    let html = docs.text().await.expect("html");
    assert!(html.contains("swagger"), "docs page");
}
