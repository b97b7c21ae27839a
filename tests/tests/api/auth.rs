//! Sessions: refresh rotation and reuse detection, logout, password change, deactivation,
//! identical failures, lockout.

use std::time::{Duration, Instant};

use medvault_tests::records::ledger_all;
use medvault_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp, USER_PASSWORD, expect_error, expect_json,
    on_both_backends, shown,
};
use medvault_types::{TemporaryPassword, TokenResponse, User};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(
    refresh_rotates_and_reuse_revokes,
    logout_ends_session,
    password_change_revokes_other_sessions,
    deactivation_applies_at_next_request,
    failures_look_identical_and_lock,
    concurrent_refresh_and_failures,
    temporary_passwords_work_once_and_for_a_day,
    a_burst_cannot_outrun_the_lock,
    sensitive_actions_need_a_recent_password,
    an_admin_lifts_a_sign_in_lock,
);

async fn refresh_rotates_and_reuse_revokes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(first.token_type, "Bearer");
    assert!(first.expires_in > 0 && first.expires_in <= 3600);
    let second: TokenResponse = expect_json(
        app.refresh(medvault_tests::refresh_token_of(&first)).await,
        StatusCode::OK,
    )
    .await;
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(
        app.get("/api/v1/me", Some(&second.access_token))
            .await
            .status(),
        StatusCode::OK
    );
    let third: TokenResponse = expect_json(
        app.refresh(medvault_tests::refresh_token_of(&second)).await,
        StatusCode::OK,
    )
    .await;

    // Replaying a spent token revokes the whole session: the newest tokens die too.
    expect_error(
        app.refresh(medvault_tests::refresh_token_of(&first)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_error(
        app.refresh(medvault_tests::refresh_token_of(&third)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_error(
        app.get("/api/v1/me", Some(&third.access_token)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // Another session of the same user is unaffected.
    let other = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        app.get("/api/v1/me", Some(&other.access_token))
            .await
            .status(),
        StatusCode::OK
    );

    // Garbage and empty refresh tokens.
    expect_error(app.refresh("nope").await, StatusCode::UNAUTHORIZED).await;
    expect_error(app.refresh("").await, StatusCode::UNAUTHORIZED).await;
    expect_error(
        app.refresh(&"x".repeat(5000)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

async fn logout_ends_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let resp = app
        .send(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&t.access_token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_error(
        app.get("/api/v1/me", Some(&t.access_token)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_error(
        app.refresh(medvault_tests::refresh_token_of(&t)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_error(
        app.send(Method::POST, "/api/v1/auth/logout", None, None)
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

async fn password_change_revokes_other_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let b = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let resp = app
        .post(
            "/api/v1/me/password",
            Some(&a.access_token),
            &json!({"current_password": ADMIN_PASSWORD, "new_password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", Some(&a.access_token)).await.status(),
        StatusCode::OK
    );
    expect_error(
        app.get("/api/v1/me", Some(&b.access_token)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_error(
        app.refresh(medvault_tests::refresh_token_of(&b)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(app.try_login(ADMIN_EMAIL, ADMIN_PASSWORD).await.is_err());
    app.login(ADMIN_EMAIL, USER_PASSWORD).await;
}

async fn deactivation_applies_at_next_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let path = format!("/api/v1/admin/users/{}/deactivate", cast.patient.id);
    assert_eq!(
        app.get("/api/v1/me", Some(&cast.patient.token))
            .await
            .status(),
        StatusCode::OK
    );
    let user: User = expect_json(
        app.send(Method::POST, &path, Some(&cast.admin.token), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(!user.active);
    // The unexpired access token stops working at once; so do refresh and sign-in.
    expect_error(
        app.get("/api/v1/me", Some(&cast.patient.token)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_error(
        app.refresh(&cast.patient.refresh).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let denied = app
        .try_login(&cast.patient.email, USER_PASSWORD)
        .await
        .expect_err("deactivated");
    let body = expect_error(denied, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body.error.code, "invalid_credentials");
    // Reactivation restores sign-in.
    let path = format!("/api/v1/admin/users/{}/reactivate", cast.patient.id);
    let user: User = expect_json(
        app.send(Method::POST, &path, Some(&cast.admin.token), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(user.active);
    app.login(&cast.patient.email, USER_PASSWORD).await;
}

async fn timed_failure(
    app: &TestApp,
    email: &str,
    password: &str,
) -> (Duration, StatusCode, String) {
    let start = Instant::now();
    let resp = app.try_login(email, password).await.expect_err("must fail");
    let elapsed = start.elapsed();
    let status = resp.status();
    (elapsed, status, resp.text().await.expect("body"))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn failures_look_identical_and_lock(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.auth.slowdown_after = 3;
        c.auth.lock_after = 4;
        c.auth.lock_secs = 120;
    })
    .await;
    // Unknown email and wrong password: same status, same body, comparable time.
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..2 {
        let (t1, s1, b1) = timed_failure(&app, ADMIN_EMAIL, "not the password").await;
        let (t2, s2, b2) = timed_failure(
            &app,
            &format!("nobody{i}@nowhere.example"),
            "not the password",
        )
        .await;
        assert_eq!((s1, &b1), (s2, &b2));
        assert_eq!(s1, StatusCode::UNAUTHORIZED);
        wrong.push(t1);
        unknown.push(t2);
    }
    let (w, u) = (median(wrong), median(unknown));
    assert!(
        u * 3 >= w,
        "unknown email answered much faster ({u:?}) than a wrong password ({w:?})"
    );

    // Third failure: a short slow-down; even the right password waits.
    let (_, s, _) = timed_failure(&app, ADMIN_EMAIL, "not the password").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let blocked = app
        .try_login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect_err("slowed down");
    assert!(blocked.headers().contains_key("retry-after"));
    expect_error(blocked, StatusCode::TOO_MANY_REQUESTS).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Fourth failure: locked for lock_secs.
    let (_, s, _) = timed_failure(&app, ADMIN_EMAIL, "not the password").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let locked = app
        .try_login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect_err("locked");
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("secs");
    assert!(retry > 60, "retry-after {retry}");
    expect_error(locked, StatusCode::TOO_MANY_REQUESTS).await;

    // An unknown email locks the same way, so a lock reveals nothing.
    let ghost = "ghost@nowhere.example";
    for _ in 0..3 {
        let _ = timed_failure(&app, ghost, "x").await;
    }
    expect_error(
        app.try_login(ghost, "x").await.expect_err("blocked"),
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
}

/// Races: the same refresh token presented 8 times at once is honoured at most once (and the
/// race itself counts as reuse); 12 simultaneous failed sign-ins never yield a 500.
async fn concurrent_refresh_and_failures(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.auth.lock_after = 50).await;
    let tokens = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let attempts = (0..8).map(|_| app.refresh(medvault_tests::refresh_token_of(&tokens)));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(reqwest::Response::status)
        .collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert!(
        ok <= 1,
        "a refresh token was honoured {ok} times: {statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    // Any concurrent reuse revoked the session.
    expect_error(
        app.get("/api/v1/me", Some(&tokens.access_token)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let failures = (0..12).map(|_| app.try_login(ADMIN_EMAIL, "wrong wrong wrong"));
    for result in futures_util::future::join_all(failures).await {
        let status = result.expect_err("wrong password").status();
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS,
            "{status}"
        );
    }
}

/// A staff-issued temporary password works for one sign-in and for a day (then it fails like
/// a wrong password); the owner's first own password is the account's activation, ledgered and
/// shown to the owner, so a staff member who used the password first would be visible.
async fn temporary_passwords_work_once_and_for_a_day(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_token().await;

    // Once: a second sign-in with the same temporary password is refused.
    let d = app.create_doctor(&admin, "once@clinic.example").await;
    let first = app
        .login(&d.doctor.email, shown(&d.temporary_password))
        .await;
    assert!(first.user.must_change_password);
    let again = app
        .try_login(&d.doctor.email, shown(&d.temporary_password))
        .await
        .expect_err("a temporary password works once");
    expect_error(again, StatusCode::UNAUTHORIZED).await;

    // The session it opened can still set the owner's password: the activation.
    let resp = app
        .post(
            "/api/v1/me/password",
            Some(&first.access_token),
            &json!({"current_password": d.temporary_password, "new_password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let me: User = expect_json(
        app.get("/api/v1/me", Some(&first.access_token)).await,
        StatusCode::OK,
    )
    .await;
    assert!(!me.must_change_password);
    let activated = me.activated_at.expect("activation time shown to the owner");
    assert!((chrono::Utc::now() - activated).num_seconds().abs() < 60);
    let entries = ledger_all(&app, &admin).await;
    let activations: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "user.activate")
        .collect();
    assert_eq!(activations.len(), 1, "one activation entry");
    assert_eq!(activations[0].subject, format!("user:{}", d.doctor.id));
    assert_eq!(activations[0].actor, Some(d.doctor.id));
    // A later change of one's own password is not another activation.
    let resp = app
        .post(
            "/api/v1/me/password",
            Some(&first.access_token),
            &json!({"current_password": USER_PASSWORD, "new_password": "another long passphrase 7"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let me: User = expect_json(
        app.get("/api/v1/me", Some(&first.access_token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me.activated_at, Some(activated), "activation time kept");

    // For a day: an unused temporary password stops working after 24 hours.
    let late = app.create_doctor(&admin, "late@clinic.example").await;
    app.clock
        .advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
    let expired = app
        .try_login(&late.doctor.email, shown(&late.temporary_password))
        .await
        .expect_err("expired after 24 h");
    expect_error(expired, StatusCode::UNAUTHORIZED).await;
    // A reset issues a fresh one that works (once) again.
    let admin = app.admin_token().await;
    let reset: TemporaryPassword = expect_json(
        app.send(
            Method::POST,
            &format!("/api/v1/admin/users/{}/reset-password", late.doctor.id),
            Some(&admin),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let tokens = app
        .login(&late.doctor.email, shown(&reset.temporary_password))
        .await;
    assert!(tokens.user.must_change_password);
}

/// Forty concurrent wrong passwords against one account: each attempt is counted before its
/// password is checked, so exactly `lock_after` are evaluated (401) and the rest are refused
/// (429) unevaluated; the right password during the lock is refused too; the ledger has one
/// failure entry per evaluated attempt.
async fn a_burst_cannot_outrun_the_lock(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.auth.slowdown_after = 4;
        c.auth.lock_after = 4;
        c.auth.lock_secs = 600;
    })
    .await;
    let admin = app.admin_token().await;
    let d = app.create_doctor(&admin, "target@clinic.example").await;
    app.activate(&d.doctor.email, shown(&d.temporary_password))
        .await;
    let burst = (0..40).map(|_| app.try_login(&d.doctor.email, "not the password at all"));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(burst)
        .await
        .into_iter()
        .map(|r| r.expect_err("wrong password").status())
        .collect();
    let evaluated = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((evaluated, refused), (4, 36), "{statuses:?}");
    let right = app
        .try_login(&d.doctor.email, USER_PASSWORD)
        .await
        .expect_err("the right password during the lock");
    expect_error(right, StatusCode::TOO_MANY_REQUESTS).await;
    let failed = ledger_all(&app, &admin)
        .await
        .into_iter()
        .filter(|e| e.action == "auth.login_failed" && e.subject == format!("user:{}", d.doctor.id))
        .count();
    assert_eq!(failed, 4, "one ledger entry per evaluated attempt");
}

/// Approving consent and deactivating an account need the password confirmed in the last few
/// minutes (one rule, `auth::recent`): a sign-in counts; six minutes later the action is
/// refused with `reauth_required` until the password is confirmed again, and a wrong password
/// does not count.
async fn sensitive_actions_need_a_recent_password(backend: Backend) {
    use medvault_tests::records::{access_body, reauthenticate, request_access};
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let (admin, patient) = (&cast.admin.token, &cast.patient.token);
    let first = request_access(
        &app,
        &cast.doctor.token,
        &access_body(cast.patient.id, None),
    )
    .await;
    let approve = |id| format!("/api/v1/access-requests/{id}/approve");
    // Just signed in: recent enough.
    let ok = app
        .send(Method::POST, &approve(first.id), Some(patient), None)
        .await;
    assert_eq!(ok.status(), StatusCode::OK);

    app.clock.advance(chrono::Duration::minutes(6));
    let second = request_access(
        &app,
        &cast.doctor.token,
        &access_body(cast.patient.id, None),
    )
    .await;
    let deactivate = format!("/api/v1/admin/users/{}/deactivate", cast.other_patient.id);
    for (path, token) in [(approve(second.id), patient), (deactivate.clone(), admin)] {
        let body = expect_error(
            app.send(Method::POST, &path, Some(token), None).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(body.error.code, "reauth_required", "{path}");
    }
    let wrong = app
        .post(
            "/api/v1/auth/reauthenticate",
            Some(patient),
            &serde_json::json!({"password": "not the password"}),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let still = app
        .send(Method::POST, &approve(second.id), Some(patient), None)
        .await;
    assert_eq!(still.status(), StatusCode::FORBIDDEN);

    reauthenticate(&app, patient).await;
    let approved = app
        .send(Method::POST, &approve(second.id), Some(patient), None)
        .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let admin_login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let done = app
        .send(
            Method::POST,
            &deactivate,
            Some(&admin_login.access_token),
            None,
        )
        .await;
    assert_eq!(
        done.status(),
        StatusCode::OK,
        "a fresh sign-in is a recent password"
    );
    let reauths = ledger_all(&app, &admin_login.access_token)
        .await
        .into_iter()
        .filter(|e| e.action == "auth.reauthenticate")
        .count();
    assert_eq!(reauths, 1);
}

/// A locked account (right password refused) is unlocked by an administrator: the right
/// password works again at once, the lift is ledgered, and only admins may do it.
async fn an_admin_lifts_a_sign_in_lock(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.auth.slowdown_after = 3;
        c.auth.lock_after = 3;
    })
    .await;
    let cast = app.cast().await;
    let doctor = &cast.doctor;
    for _ in 0..3 {
        let wrong = app
            .try_login(&doctor.email, "not the right password")
            .await
            .expect_err("wrong password");
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = app
        .try_login(&doctor.email, USER_PASSWORD)
        .await
        .expect_err("locked");
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);

    let path = format!("/api/v1/admin/users/{}/unlock", doctor.id);
    let by_doctor = app
        .send(Method::POST, &path, Some(&cast.other_doctor.token), None)
        .await;
    assert_eq!(by_doctor.status(), StatusCode::FORBIDDEN);
    let unknown = format!("/api/v1/admin/users/{}/unlock", uuid::Uuid::new_v4());
    let none = app
        .send(Method::POST, &unknown, Some(&cast.admin.token), None)
        .await;
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
    let lifted = app
        .send(Method::POST, &path, Some(&cast.admin.token), None)
        .await;
    assert_eq!(lifted.status(), StatusCode::NO_CONTENT);
    app.login(&doctor.email, USER_PASSWORD).await;

    let unlocks: Vec<_> = ledger_all(&app, &cast.admin.token)
        .await
        .into_iter()
        .filter(|e| e.action == "user.unlock")
        .collect();
    assert_eq!(unlocks.len(), 1, "{unlocks:?}");
    assert_eq!(unlocks[0].actor, Some(cast.admin.id));
    assert_eq!(unlocks[0].payload["was_blocked"], serde_json::json!(true));
}
