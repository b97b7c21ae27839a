//! Transport: the server terminates TLS itself when configured (with HSTS on every answer),
//! and refuses plain-text links to storage, mail and the database unless allowed.

use medvault_server::config::{Config, TlsConfig};
use medvault_server::state::AppState;
use medvault_tests::{Backend, TestApp};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_tls_serves_https_with_hsts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let issued = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("a self-signed certificate");
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, issued.cert.pem()).expect("cert");
    std::fs::write(&key_path, issued.key_pair.serialize_pem()).expect("key");
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.tls = Some(TlsConfig {
            cert_path: cert_path.clone(),
            key_path: key_path.clone(),
        });
    })
    .await;
    let https = app.address.replacen("http://", "https://", 1);
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(issued.cert.pem().as_bytes()).expect("root"),
        )
        .build()
        .expect("client");
    let resp = client
        .get(format!("{https}/healthz"))
        .send()
        .await
        .expect("an HTTPS answer");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=63072000; includeSubDomains")
    );
    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = app
        .request(reqwest::Method::GET, "/healthz", None)
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP must not be served: {plain:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_is_served_without_hsts() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let resp = app.get("/healthz", None).await;
    assert!(resp.headers().get("strict-transport-security").is_none());
}

#[test]
fn plain_text_links_are_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    // The three Garage instances the tests use listen on plain http.
    config.storage = medvault_tests::s3_storage();
    let Err(err) = AppState::from_config(config) else {
        panic!("a configuration with plain-http S3 must be refused");
    };
    let err = err.to_string();
    assert!(
        err.contains("plain-text transport") && err.contains("http://"),
        "{err}"
    );
}
