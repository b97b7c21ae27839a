//! Bad input of every kind is a 4xx JSON envelope, never a 500.

use medvault_tests::{Backend, TestApp, expect_error, expect_json, on_both_backends};
use medvault_types::Health;
use reqwest::{Method, StatusCode};

on_both_backends!(
    bad_input_is_4xx_json,
    health_and_headers,
    method_not_allowed_names_the_allowed_ones
);

async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.request(method, path, token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("send")
}

#[expect(
    clippy::too_many_lines,
    reason = "a catalogue of bad inputs, one per line"
)]
async fn bad_input_is_4xx_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_token().await;
    let login = "/api/v1/auth/login";
    // Malformed JSON.
    let err = expect_error(
        raw(
            &app,
            Method::POST,
            login,
            None,
            "application/json",
            b"{\"email\":".to_vec(),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(err.error.code, "bad_request");
    expect_error(
        raw(
            &app,
            Method::POST,
            login,
            None,
            "application/json",
            b"not json".to_vec(),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Wrong types and missing fields.
    expect_error(
        raw(
            &app,
            Method::POST,
            login,
            None,
            "application/json",
            br#"{"email":1,"password":[]}"#.to_vec(),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    expect_error(
        raw(
            &app,
            Method::POST,
            login,
            None,
            "application/json",
            br#"{"email":"a@b.org"}"#.to_vec(),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // Wrong content type.
    expect_error(
        raw(
            &app,
            Method::POST,
            login,
            None,
            "text/plain",
            b"{}".to_vec(),
        )
        .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    // Oversized body.
    let big = format!(
        "{{\"email\":\"a@b.org\",\"password\":\"{}\"}}",
        "x".repeat(200 * 1024)
    );
    expect_error(
        raw(
            &app,
            Method::POST,
            login,
            None,
            "application/json",
            big.into_bytes(),
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    // A huge password that fits the body limit is just a failed sign-in.
    let long = serde_json::json!({"email": "a@b.org", "password": "y".repeat(10_000)});
    expect_error(app.post(login, None, &long).await, StatusCode::UNAUTHORIZED).await;
    // Bad UUIDs in paths.
    expect_error(
        app.get("/api/v1/admin/doctors/not-a-uuid", Some(&admin))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        app.get("/api/v1/admin/patients/%00", Some(&admin)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        app.send(
            Method::PUT,
            "/api/v1/admin/patients/1/doctors/2",
            Some(&admin),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Unknown ids.
    let id = uuid::Uuid::new_v4();
    expect_error(
        app.get(&format!("/api/v1/admin/doctors/{id}"), Some(&admin))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Unknown routes and methods.
    expect_error(
        app.get("/api/v1/nope", Some(&admin)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(app.get("/nope", None).await, StatusCode::NOT_FOUND).await;
    expect_error(
        app.send(Method::DELETE, "/api/v1/me", Some(&admin), None)
            .await,
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    // Bad query strings.
    expect_error(
        app.get("/api/v1/admin/doctors?per_page=-1", Some(&admin))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        app.get(
            &format!("/api/v1/admin/doctors?q={}", "a".repeat(101)),
            Some(&admin),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // Bad headers.
    let resp = app
        .request(Method::GET, "/api/v1/me", None)
        .header("authorization", "Bearer")
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::UNAUTHORIZED).await;
}

async fn health_and_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let h: Health = expect_json(app.get("/healthz", None).await, StatusCode::OK).await;
    assert_eq!(h.status, "ok");
    let resp = app.get("/readyz", None).await;
    assert!(resp.headers().contains_key("x-request-id"));
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let h: Health = expect_json(resp, StatusCode::OK).await;
    assert_eq!(h.status, "ok");

    // A strict Content-Security-Policy on the API, its errors and the app; a looser one only
    // on the docs page (Swagger UI needs inline script and style).
    for path in ["/api/v1/me", "/api/openapi.json", "/no/such/page"] {
        let resp = app.get(path, None).await;
        let csp = resp.headers()["content-security-policy"]
            .to_str()
            .expect("ascii");
        for directive in [
            "script-src 'self' 'wasm-unsafe-eval'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {directive} in {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(resp.headers()["referrer-policy"], "no-referrer");
        assert_eq!(resp.headers()["cross-origin-opener-policy"], "same-origin");
        assert!(
            resp.headers()["permissions-policy"]
                .to_str()
                .expect("ascii")
                .contains("camera=()")
        );
    }
    let docs = app.get("/api/docs/", None).await;
    let csp = docs.headers()["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("'unsafe-inline'"),
        "{csp}"
    );
}

/// A 405 carries the `Allow` header RFC 9110 requires, naming the path's methods (found by
/// schemathesis: every 405 lacked it).
async fn method_not_allowed_names_the_allowed_ones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_token().await;
    let id = uuid::Uuid::new_v4();
    for (method, path, allow) in [
        (Method::DELETE, "/api/v1/me".to_owned(), "GET"),
        (
            Method::TRACE,
            "/api/v1/access-requests".to_owned(),
            "GET, POST",
        ),
        (
            Method::PUT,
            "/api/v1/me/totp".to_owned(),
            "DELETE, GET, POST",
        ),
        (
            Method::PATCH,
            format!("/api/v1/records/{id}"),
            "DELETE, GET",
        ),
        (
            Method::GET,
            format!("/api/v1/admin/patients/{id}/doctors/{id}"),
            "DELETE, PUT",
        ),
    ] {
        let resp = app.send(method.clone(), &path, Some(&admin), None).await;
        let header = resp
            .headers()
            .get(reqwest::header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let err = expect_error(resp, StatusCode::METHOD_NOT_ALLOWED).await;
        assert_eq!(err.error.code, "method_not_allowed");
        assert_eq!(header.as_deref(), Some(allow), "{method} {path}");
    }
    // Unknown paths stay 404, without an Allow header.
    let resp = app
        .send(Method::TRACE, "/api/v1/nope", Some(&admin), None)
        .await;
    assert!(resp.headers().get(reqwest::header::ALLOW).is_none());
    expect_error(resp, StatusCode::NOT_FOUND).await;
}
