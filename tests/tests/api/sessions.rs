//! Sessions that end: an idle timeout (15 minutes for staff, 30 for patients by default) and
//! an absolute lifetime (12 hours for staff), enforced at every use and at refresh, read from
//! the app's clock (no sleeps). Refreshing is not activity, and an ordinary request stays
//! read-only: the last request is written at most about once a minute.

use chrono::Duration;
use medvault_tests::records::{RawDb, spawn_recording, sql_str};
use medvault_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp, expect_error, expect_json, on_both_backends,
};
use medvault_types::TokenResponse;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(
    idle_sessions_end_at_use_and_at_refresh,
    staff_sessions_end_after_twelve_hours,
    ordinary_requests_stay_read_only,
    the_browser_gets_its_refresh_token_as_a_cookie,
);

/// The `sid` claim of an access token (the session's id).
fn session_of(access_token: &str) -> String {
    use base64::Engine;
    let payload = access_token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    let claims: serde_json::Value = serde_json::from_slice(&bytes).expect("claims");
    claims["sid"].as_str().expect("sid").to_owned()
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.get("/api/v1/me", Some(token)).await.status()
}

async fn idle_sessions_end_at_use_and_at_refresh(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(admin.idle_timeout_secs, 15 * 60);

    // Activity keeps a staff session open well past 15 minutes in all.
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(14));
        assert_eq!(me_status(&app, &admin.access_token).await, StatusCode::OK);
    }
    // Sixteen quiet minutes (15 plus the minute of write coalescing) end it, at use and at
    // refresh alike.
    app.clock
        .advance(Duration::minutes(16) + Duration::seconds(1));
    expect_error(
        app.get("/api/v1/me", Some(&admin.access_token)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_error(
        app.refresh(medvault_tests::refresh_token_of(&admin)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // A patient gets 30 minutes; refreshing tokens is not activity.
    let patient = app
        .login(&cast.patient.email, medvault_tests::USER_PASSWORD)
        .await;
    assert_eq!(patient.idle_timeout_secs, 30 * 60);
    app.clock.advance(Duration::minutes(20));
    let renewed: TokenResponse = expect_json(
        app.refresh(medvault_tests::refresh_token_of(&patient))
            .await,
        StatusCode::OK,
    )
    .await;
    app.clock
        .advance(Duration::minutes(11) + Duration::seconds(1));
    expect_error(
        app.refresh(medvault_tests::refresh_token_of(&renewed))
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_error(
        app.get("/api/v1/me", Some(&renewed.access_token)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Signing in again works at once.
    let again = app
        .login(&cast.patient.email, medvault_tests::USER_PASSWORD)
        .await;
    assert_eq!(me_status(&app, &again.access_token).await, StatusCode::OK);
}

async fn staff_sessions_end_after_twelve_hours(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let signed_in_at = app.clock.now_utc();
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let patient = app
        .login(&cast.patient.email, medvault_tests::USER_PASSWORD)
        .await;
    let staff_end = admin.session_expires_at - signed_in_at;
    assert!(
        staff_end >= Duration::hours(12) && staff_end < Duration::hours(12) + Duration::minutes(1),
        "{staff_end}"
    );
    assert!(patient.session_expires_at - signed_in_at >= Duration::days(7));

    // Busy all day: every ten minutes a request. The staff session ends at twelve hours,
    // the patient's goes on.
    let mut tokens = admin.clone();
    for _ in 0..71 {
        app.clock.advance(Duration::minutes(10));
        assert_eq!(me_status(&app, &tokens.access_token).await, StatusCode::OK);
        assert_eq!(me_status(&app, &patient.access_token).await, StatusCode::OK);
        tokens = expect_json(
            app.refresh(medvault_tests::refresh_token_of(&tokens)).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(tokens.session_expires_at, admin.session_expires_at);
    }
    app.clock.advance(Duration::minutes(11));
    expect_error(
        app.get("/api/v1/me", Some(&tokens.access_token)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_error(
        app.refresh(medvault_tests::refresh_token_of(&tokens)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(me_status(&app, &patient.access_token).await, StatusCode::OK);
}

async fn ordinary_requests_stay_read_only(backend: Backend) {
    let (app, paths) = spawn_recording(backend, |_| {}).await;
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut db = RawDb::open(&paths);
    let sid = session_of(&admin.access_token);
    let query = format!(
        "SELECT CAST(last_activity_at AS TEXT) AS v FROM sessions WHERE id = {}",
        sql_str(&sid)
    );
    let mut last = || db.texts(&query).pop().expect("the session row");
    let at_sign_in = last();
    for _ in 0..5 {
        assert_eq!(me_status(&app, &admin.access_token).await, StatusCode::OK);
    }
    app.clock.advance(Duration::seconds(50));
    assert_eq!(me_status(&app, &admin.access_token).await, StatusCode::OK);
    assert_eq!(last(), at_sign_in, "requests within a minute write nothing");
    app.clock.advance(Duration::seconds(11));
    assert_eq!(me_status(&app, &admin.access_token).await, StatusCode::OK);
    let written = last();
    assert_ne!(
        written, at_sign_in,
        "a minute later the request is recorded"
    );
    assert_eq!(me_status(&app, &admin.access_token).await, StatusCode::OK);
    assert_eq!(last(), written);
}

/// The value of the refresh cookie a response sets, with the whole `Set-Cookie` line.
fn refresh_cookie(resp: &reqwest::Response) -> (String, String) {
    let line = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("medvault_refresh="))
        .expect("a refresh cookie")
        .to_owned();
    let value = line["medvault_refresh=".len()..]
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    (value, line)
}

/// The browser app's mode: the refresh token only ever in an `HttpOnly`, `SameSite=Strict`
/// cookie scoped to `/api/v1/auth`, renewed only with the custom header (a cross-site request
/// carrying the cookie alone gets nothing), rotated, reuse detected, removed at sign-out.
async fn the_browser_gets_its_refresh_token_as_a_cookie(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = |path: &str| format!("{}{path}", app.address);
    let login = app
        .client
        .post(url("/api/v1/auth/login"))
        .header("X-Medvault-Session", "cookie")
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), StatusCode::OK);
    let (first, line) = refresh_cookie(&login);
    for flag in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/v1/auth",
        "Max-Age=",
    ] {
        assert!(line.contains(flag), "{flag} in {line}");
    }
    assert!(!line.contains("Secure"), "plain HTTP on loopback: {line}");
    let body: TokenResponse = login.json().await.expect("tokens");
    assert!(body.refresh_token.is_none(), "not in the body");

    let with_cookie = |value: &str, header: bool| {
        let mut req = app
            .client
            .post(url("/api/v1/auth/refresh"))
            .header("cookie", format!("medvault_refresh={value}"));
        if header {
            req = req.header("X-Medvault-Session", "cookie");
        }
        req.send()
    };
    // The cookie alone (what another site's form could send) renews nothing.
    let forged = with_cookie(&first, false).await.expect("refresh");
    assert_eq!(forged.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // With the header it rotates.
    let renewed = with_cookie(&first, true).await.expect("refresh");
    assert_eq!(renewed.status(), StatusCode::OK);
    let (second, _) = refresh_cookie(&renewed);
    assert_ne!(second, first);
    let tokens: TokenResponse = renewed.json().await.expect("tokens");
    assert!(tokens.refresh_token.is_none());
    assert_eq!(me_status(&app, &tokens.access_token).await, StatusCode::OK);
    // Replaying the spent cookie revokes the session.
    let replay = with_cookie(&first, true).await.expect("refresh");
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let after = with_cookie(&second, true).await.expect("refresh");
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    // No cookie: 401.
    let none = app
        .client
        .post(url("/api/v1/auth/refresh"))
        .header("X-Medvault-Session", "cookie")
        .send()
        .await
        .expect("refresh");
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);

    // Sign-out removes the cookie.
    let fresh = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let out = app
        .client
        .post(url("/api/v1/auth/logout"))
        .bearer_auth(&fresh.access_token)
        .header("X-Medvault-Session", "cookie")
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let (value, line) = refresh_cookie(&out);
    assert!(value.is_empty() && line.contains("Max-Age=0"), "{line}");
}
