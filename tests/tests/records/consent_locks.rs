//! Wrong authenticator codes given for consent: a lock per (patient, doctor), a growing delay
//! per patient across doctors, both visible to the patient and lifted by them.

use chrono::Duration;
use medvault_tests::records::{
    access_body, expect_code, pending_code, redeem, redeem_ok, request_access,
};
use medvault_tests::{Backend, TestApp, expect_json, on_both_backends};
use medvault_types::{AccessLogEntry, ConsentLocks, Page};
use reqwest::{Method, StatusCode};

on_both_backends!(wrong_authenticator_codes_lock_per_doctor);

/// Six digits: always wrong here (the patient has no authenticator), so every try counts.
const WRONG_TOTP: &str = "000000";

async fn locks(app: &TestApp, patient: &str) -> ConsentLocks {
    expect_json(
        app.get("/api/v1/me/consent-locks", Some(patient)).await,
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_lines)] // one scenario, read top to bottom
async fn wrong_authenticator_codes_lock_per_doctor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let (doctor, other, patient) = (&cast.doctor, &cast.other_doctor, &cast.patient);
    let assign = app
        .send(
            Method::PUT,
            &format!("/api/v1/admin/patients/{}/doctors/{}", patient.id, other.id),
            Some(&cast.admin.token),
            None,
        )
        .await;
    assert!(assign.status().is_success());
    let r1 = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    let r2 = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    let r3 = request_access(&app, &other.token, &access_body(patient.id, None)).await;

    // Three wrong codes: no delay yet.
    for _ in 0..3 {
        expect_code(
            redeem(&app, &doctor.token, r1.id, WRONG_TOTP).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_code",
        )
        .await;
    }
    // From the third, the next try waits, for every doctor, and says how long.
    for (token, id) in [(&doctor.token, r2.id), (&other.token, r3.id)] {
        let resp = redeem(&app, token, id, WRONG_TOTP).await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(resp.headers().contains_key("retry-after"));
    }
    let seen = locks(&app, &patient.token).await;
    assert_eq!(seen.recent_failures, 3);
    assert!(seen.delay_until.is_some(), "the patient sees the delay");
    assert!(seen.locked.is_empty());

    // Two more from the same doctor (on another request) lock that doctor out.
    for wait in [2, 3] {
        app.clock.advance(Duration::seconds(wait));
        expect_code(
            redeem(&app, &doctor.token, r2.id, WRONG_TOTP).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_code",
        )
        .await;
    }
    app.clock.advance(Duration::seconds(10));
    expect_code(
        redeem(&app, &doctor.token, r2.id, WRONG_TOTP).await,
        StatusCode::LOCKED,
        "locked",
    )
    .await;
    // The other doctor's codes are still evaluated (and count towards the delay).
    expect_code(
        redeem(&app, &other.token, r3.id, WRONG_TOTP).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_code",
    )
    .await;
    // The request's own 8-digit code still works for the locked doctor.
    let code = pending_code(&app, &patient.token, r2.id).await;
    redeem_ok(&app, &doctor.token, r2.id, &code).await;

    // The patient sees who is locked out, in the app's API and in their access log.
    let seen = locks(&app, &patient.token).await;
    assert_eq!(seen.locked.len(), 1);
    assert_eq!(seen.locked[0].doctor_id, doctor.id);
    assert_eq!(seen.locked[0].failures, 5);
    assert_eq!(seen.recent_failures, 6);
    let log: Page<AccessLogEntry> = expect_json(
        app.get("/api/v1/me/access-log?per_page=100", Some(&patient.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        log.items.iter().any(|e| e.action == "consent.totp_locked"),
        "the lock is in the patient's access log"
    );

    // Only the patient reads or lifts their locks; lifting clears the lock and the delay.
    for token in [&doctor.token, &cast.admin.token] {
        assert_eq!(
            app.get("/api/v1/me/consent-locks", Some(token))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
    }
    let lifted = app
        .send(
            Method::DELETE,
            "/api/v1/me/consent-locks",
            Some(&patient.token),
            None,
        )
        .await;
    assert_eq!(lifted.status(), StatusCode::NO_CONTENT);
    let seen = locks(&app, &patient.token).await;
    assert!(seen.locked.is_empty() && seen.delay_until.is_none());
    assert_eq!(seen.recent_failures, 0);
    let r4 = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    expect_code(
        redeem(&app, &doctor.token, r4.id, WRONG_TOTP).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_code",
    )
    .await;
}
