//! The sign-in second factor: staff must set one up before anything else, sign-in becomes two
//! steps counted on one attempt counter, codes and recovery codes work once, patients may opt
//! in and out, an administrator can reset one, and the "recently authenticated" rule asks for
//! it.

use medvault_server::config::Config;
use medvault_tests::records::ledger_all;
use medvault_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp, USER_PASSWORD, expect_error, expect_json,
    on_both_backends,
};
use medvault_types::{MfaStatus, RecoveryCodes, TokenResponse};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(
    staff_reach_nothing_before_setting_up_a_second_factor,
    sign_in_takes_two_steps_and_codes_work_once,
    challenges_race_and_expire_and_codes_renew,
    both_steps_count_against_one_lock,
    patients_may_turn_it_on_and_off,
    an_admin_resets_a_lost_authenticator,
);

fn staff_mfa(config: &mut Config) {
    config.auth.staff_mfa_required = true;
}

/// Staff MFA, and wrong codes on purpose without slow-down or lock (the lock has its own test,
/// `both_steps_count_against_one_lock`).
fn staff_mfa_without_locks(config: &mut Config) {
    staff_mfa(config);
    config.auth.slowdown_after = 100;
    config.auth.lock_after = 100;
}

/// Every admin operation in the spec, with its path's ids filled in.
fn admin_operations() -> Vec<(Method, String)> {
    let spec: serde_json::Value =
        serde_json::from_str(&medvault_server::openapi::spec_json()).expect("spec");
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        if !path.starts_with("/api/v1/admin/") {
            continue;
        }
        let concrete = path
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    uuid::Uuid::new_v4().to_string()
                } else {
                    seg.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().expect("operations").keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            ops.push((method, concrete.clone()));
        }
    }
    ops
}

async fn staff_reach_nothing_before_setting_up_a_second_factor(backend: Backend) {
    let app = TestApp::spawn_with(backend, staff_mfa).await;
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(first.user.mfa_setup_required);
    let token = first.access_token.as_str();
    let ops = admin_operations();
    assert!(
        ops.len() >= 15,
        "the spec lists the admin operations: {ops:?}"
    );
    for (method, path) in &ops {
        // A well-formed body where one is needed, so the answer is about the caller, not it.
        let body = match (method.as_str(), path.as_str()) {
            ("POST", "/api/v1/admin/doctors") => {
                serde_json::to_value(medvault_tests::doctor_body("x@clinic.example")).expect("body")
            }
            ("POST", "/api/v1/admin/patients") => serde_json::to_value(
                medvault_tests::identity_only(medvault_tests::patient_body("y@home.example")),
            )
            .expect("body"),
            _ => json!({}),
        };
        let resp = app
            .send(method.clone(), path, Some(token), Some(&body))
            .await;
        let status = resp.status();
        let text = resp.text().await.expect("body");
        assert!(
            status == StatusCode::FORBIDDEN && text.contains("\"mfa_setup_required\""),
            "{method} {path}: {status} {text}"
        );
    }
    // Its own account and the set-up itself stay reachable.
    assert_eq!(
        app.get("/api/v1/me", Some(token)).await.status(),
        StatusCode::OK
    );
    let status: MfaStatus =
        expect_json(app.get("/api/v1/me/mfa", Some(token)).await, StatusCode::OK).await;
    assert!(status.required && !status.enabled);

    // A wrong first code does not confirm it.
    app.send(Method::POST, "/api/v1/me/mfa/enrollment", Some(token), None)
        .await;
    let wrong = app
        .post(
            "/api/v1/me/mfa/enrollment/confirm",
            Some(token),
            &json!({"code": "000000"}),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A fresh start replaces the pending secret; confirming it opens the admin endpoints in
    // this same session, and yields ten distinct recovery codes.
    let (_app, codes) = app.enrol_mfa(token).await;
    assert_eq!(codes.len(), 10);
    let distinct: std::collections::HashSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), 10);
    assert_eq!(
        app.get("/api/v1/admin/doctors", Some(token)).await.status(),
        StatusCode::OK
    );
    let again = app
        .send(Method::POST, "/api/v1/me/mfa/enrollment", Some(token), None)
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let entries = ledger_all(&app, token).await;
    assert_eq!(
        entries.iter().filter(|e| e.action == "mfa.enable").count(),
        1
    );

    // A doctor created now meets the same gate after changing the temporary password.
    let created = app.create_doctor(token, "dr.new@clinic.example").await;
    let doctor = app
        .activate(
            &created.doctor.email,
            medvault_tests::shown(&created.temporary_password),
        )
        .await;
    let body = expect_error(
        app.get("/api/v1/doctor/patients", Some(&doctor.access_token))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(body.error.code, "mfa_setup_required");
}

async fn sign_in_takes_two_steps_and_codes_work_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, staff_mfa_without_locks).await;
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (authenticator, codes) = app.enrol_mfa(&first.access_token).await;

    // The password alone no longer signs in: a challenge comes back instead of tokens.
    let challenge = app.mfa_challenge(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(challenge.expires_in > 0 && challenge.expires_in <= 600);
    for bad in [
        "",
        "123",
        "000000",
        "not a code at all",
        "AAAA-AAAA-AAAA-AAAA",
    ] {
        expect_error(
            app.login_second_step(&challenge, bad).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let code = app.fresh_code(&authenticator);
    let tokens: TokenResponse = expect_json(
        app.login_second_step(&challenge, &code).await,
        StatusCode::OK,
    )
    .await;
    assert!(!tokens.user.mfa_setup_required);
    // The challenge is spent, and the same code cannot sign in again (replay).
    expect_error(
        app.login_second_step(&challenge, &code).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let next = app.mfa_challenge(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    expect_error(
        app.login_second_step(&next, &code).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // A recovery code works once, typed in lower case without dashes too.
    let typed = codes[0].replace('-', "").to_lowercase();
    let by_recovery: TokenResponse =
        expect_json(app.login_second_step(&next, &typed).await, StatusCode::OK).await;
    let again = app.mfa_challenge(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    expect_error(
        app.login_second_step(&again, &codes[0]).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let status: MfaStatus = expect_json(
        app.get("/api/v1/me/mfa", Some(&by_recovery.access_token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(status.recovery_codes_left, 9);
}

/// Racing second steps, challenge expiry, renewed recovery codes, and the ledger's record of
/// the failed and recovery-code steps.
async fn challenges_race_and_expire_and_codes_renew(backend: Backend) {
    let app = TestApp::spawn_with(backend, staff_mfa_without_locks).await;
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (authenticator, codes) = app.enrol_mfa(&first.access_token).await;
    let wrong = app.mfa_challenge(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for bad in ["000000", "AAAA-AAAA-AAAA-AAAA"] {
        expect_error(
            app.login_second_step(&wrong, bad).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    expect_json::<TokenResponse>(
        app.login_second_step(&wrong, &codes[0]).await,
        StatusCode::OK,
    )
    .await;

    // Two second steps racing with one challenge open one session.
    let racing = app.mfa_challenge(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let code = app.fresh_code(&authenticator);
    let (a, b) = tokio::join!(
        app.login_second_step(&racing, &code),
        app.login_second_step(&racing, &code)
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::UNAUTHORIZED]);

    // A challenge lasts five minutes.
    let stale = app.mfa_challenge(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.clock.advance(chrono::Duration::minutes(6));
    let code = app.fresh_code(&authenticator);
    expect_error(
        app.login_second_step(&stale, &code).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // New recovery codes replace the old ones (a fresh sign-in is a recent authentication).
    let fresh = app
        .login_with_app(ADMIN_EMAIL, ADMIN_PASSWORD, &authenticator)
        .await;
    let renewed: RecoveryCodes = expect_json(
        app.send(
            Method::POST,
            "/api/v1/me/mfa/recovery-codes",
            Some(&fresh.access_token),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renewed.recovery_codes.len(), 10);
    let old = app.mfa_challenge(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    expect_error(
        app.login_second_step(&old, &codes[1]).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_json::<TokenResponse>(
        app.login_second_step(&old, &renewed.recovery_codes[0])
            .await,
        StatusCode::OK,
    )
    .await;
    let entries = ledger_all(&app, &fresh.access_token).await;
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "mfa.recovery_code_used")
            .count(),
        2
    );
    let second_factor_failures = entries
        .iter()
        .filter(|e| e.action == "auth.login_failed" && e.payload["step"] == "second_factor")
        .count();
    assert!(second_factor_failures >= 2, "{second_factor_failures}");
}

/// The password step and the code step share one counter: a right password followed by wrong
/// codes locks the account (429), and the lock refuses the right code too.
async fn both_steps_count_against_one_lock(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        staff_mfa(c);
        c.auth.slowdown_after = 100;
        c.auth.lock_after = 6;
    })
    .await;
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (authenticator, _codes) = app.enrol_mfa(&first.access_token).await;
    // Password right (1), two wrong codes (2, 3); again (4, 5, 6): locked.
    for _ in 0..2 {
        let challenge = app.mfa_challenge(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        for _ in 0..2 {
            expect_error(
                app.login_second_step(&challenge, "000000").await,
                StatusCode::UNAUTHORIZED,
            )
            .await;
        }
    }
    let refused = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    // An administrator's unlock (here: the operator's own session) lets the owner in again.
    let admin_id = first.user.id;
    let done = app
        .send(
            Method::POST,
            &format!("/api/v1/admin/users/{admin_id}/unlock"),
            Some(&first.access_token),
            None,
        )
        .await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    app.login_with_app(ADMIN_EMAIL, ADMIN_PASSWORD, &authenticator)
        .await;
}

async fn patients_may_turn_it_on_and_off(backend: Backend) {
    let app = TestApp::spawn_with(backend, staff_mfa).await;
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.enrol_mfa(&admin.access_token).await;
    let created = app
        .create_patient(
            "/api/v1/admin/patients",
            &admin.access_token,
            "pat@home.example",
        )
        .await;
    let patient = app
        .activate(
            &created.patient.email,
            medvault_tests::shown(&created.temporary_password),
        )
        .await;
    // Optional for patients: nothing is gated.
    assert!(!patient.user.mfa_setup_required);
    let token = patient.access_token.as_str();
    assert_eq!(
        app.get("/api/v1/records", Some(token)).await.status(),
        StatusCode::OK
    );
    let (authenticator, _codes) = app.enrol_mfa(token).await;
    let email = created.patient.email.as_str();
    let challenge = app.mfa_challenge(email, USER_PASSWORD).await;
    let code = app.fresh_code(&authenticator);
    let signed_in: TokenResponse = expect_json(
        app.login_second_step(&challenge, &code).await,
        StatusCode::OK,
    )
    .await;
    let token = signed_in.access_token.as_str();

    // Turning it off is sensitive: after a few minutes the password alone is not enough.
    app.clock.advance(chrono::Duration::minutes(6));
    let body = expect_error(
        app.send(Method::DELETE, "/api/v1/me/mfa", Some(token), None)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(body.error.code, "reauth_required");
    let password_only = app
        .post(
            "/api/v1/auth/reauthenticate",
            Some(token),
            &json!({"password": USER_PASSWORD}),
        )
        .await;
    let body = expect_error(password_only, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        body.error.fields.is_some_and(|f| f.contains_key("code")),
        "the code is asked for"
    );
    let code = app.fresh_code(&authenticator);
    let both = app
        .post(
            "/api/v1/auth/reauthenticate",
            Some(token),
            &json!({"password": USER_PASSWORD, "code": code}),
        )
        .await;
    assert_eq!(both.status(), StatusCode::OK);
    let off: MfaStatus = expect_json(
        app.send(Method::DELETE, "/api/v1/me/mfa", Some(token), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(!off.enabled);
    // The password alone signs in again.
    app.login(email, USER_PASSWORD).await;
    // Staff may not turn theirs off.
    let refused = app
        .send(
            Method::DELETE,
            "/api/v1/me/mfa",
            Some(&admin.access_token),
            None,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

/// `POST /api/v1/admin/users/{id}/mfa/reset` as `token`.
async fn reset_mfa(app: &TestApp, id: medvault_types::UserId, token: &str) -> reqwest::Response {
    let path = format!("/api/v1/admin/users/{id}/mfa/reset");
    app.send(Method::POST, &path, Some(token), None).await
}

async fn an_admin_resets_a_lost_authenticator(backend: Backend) {
    let app = TestApp::spawn_with(backend, staff_mfa).await;
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (admin_app, _codes) = app.enrol_mfa(&admin.access_token).await;
    let created = app
        .create_doctor(&admin.access_token, "dr.lost@clinic.example")
        .await;
    let doctor = app
        .activate(
            &created.doctor.email,
            medvault_tests::shown(&created.temporary_password),
        )
        .await;
    app.enrol_mfa(&doctor.access_token).await;
    let doctor_id = created.doctor.id;

    // Not for the doctor, not on one's own account, not without a recent authentication.
    let by_doctor = reset_mfa(&app, doctor_id, &doctor.access_token).await;
    assert_eq!(by_doctor.status(), StatusCode::FORBIDDEN);
    let own = reset_mfa(&app, admin.user.id, &admin.access_token).await;
    assert_eq!(own.status(), StatusCode::CONFLICT);
    app.clock.advance(chrono::Duration::minutes(6));
    let stale = expect_error(
        reset_mfa(&app, doctor_id, &admin.access_token).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(stale.error.code, "reauth_required");
    let code = app.fresh_code(&admin_app);
    let reauth = app
        .post(
            "/api/v1/auth/reauthenticate",
            Some(&admin.access_token),
            &json!({"password": ADMIN_PASSWORD, "code": code}),
        )
        .await;
    assert_eq!(reauth.status(), StatusCode::OK);
    let done = reset_mfa(&app, doctor_id, &admin.access_token).await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    // The doctor's sessions ended; the password alone signs in, into the set-up gate.
    assert_eq!(
        app.get("/api/v1/me", Some(&doctor.access_token))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let back = app.login(&created.doctor.email, USER_PASSWORD).await;
    assert!(back.user.mfa_setup_required);
    let again = reset_mfa(&app, doctor_id, &admin.access_token).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let unknown = reset_mfa(
        &app,
        medvault_types::UserId::from(uuid::Uuid::new_v4()),
        &admin.access_token,
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let entries = ledger_all(&app, &admin.access_token).await;
    let resets: Vec<_> = entries.iter().filter(|e| e.action == "mfa.reset").collect();
    assert_eq!(resets.len(), 1);
    assert_eq!(resets[0].actor, Some(admin.user.id));
}
