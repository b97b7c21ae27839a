//! OTP consent: the authenticator (TOTP) path, the MRN path with in-app approval, locking,
//! expiry, denial, the doctor's rate limit, grant scope and limits, request validation.

use medvault_tests::records::{
    Authenticator, RawDb, Upload, access_body, approve_ok, assert_ledger_ok, download,
    download_identical, expect_code, grant_by_code, patient_view, pdf_bytes, pending_code, redeem,
    redeem_ok, request_access, spawn_recording, sql_str, upload_ok, wrong_code,
};
use medvault_tests::{Backend, TestApp, expect_json, on_both_backends};
use medvault_types::consent::{
    AccessLogEntry, AccessRequest, AccessRequestStatus, Grant, TotpEnrollment, TotpStatus,
};
use medvault_types::ledger::LedgerPage;
use medvault_types::records::RecordMeta;
use medvault_types::{Page, Patient, RecordId, RequestId};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    totp_path,
    mrn_path_and_approval,
    five_wrong_codes_lock,
    expired_code,
    expired_request,
    denied_request_cannot_be_redeemed,
    doctor_rate_limit_across_requests,
    grant_scope_limit_and_relinquish,
    request_validation,
);

async fn totp_status(app: &TestApp, token: &str) -> bool {
    let s: TotpStatus = expect_json(
        app.get("/api/v1/me/totp", Some(token)).await,
        StatusCode::OK,
    )
    .await;
    s.enabled
}

async fn ledger_of(
    app: &TestApp,
    admin: &str,
    action: &str,
) -> Vec<medvault_types::ledger::LedgerEntry> {
    let page: LedgerPage = expect_json(
        app.get(
            &format!("/api/v1/admin/ledger?limit=500&action={action}"),
            Some(admin),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    page.items
}

async fn access_log(app: &TestApp, patient: &str) -> Vec<AccessLogEntry> {
    let page: Page<AccessLogEntry> = expect_json(
        app.get("/api/v1/me/access-log?per_page=100", Some(patient))
            .await,
        StatusCode::OK,
    )
    .await;
    page.items
}

#[allow(clippy::too_many_lines)] // one scenario, read top to bottom
async fn totp_path(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);
    assert!(!totp_status(&app, &patient.token).await);
    // Nothing to confirm before enrolment.
    expect_code(
        app.post(
            "/api/v1/me/totp/confirm",
            Some(&patient.token),
            &json!({"code": "123456"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let enrol: TotpEnrollment = expect_json(
        app.post("/api/v1/me/totp", Some(&patient.token), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        enrol.otpauth_uri.starts_with("otpauth://totp/"),
        "{}",
        enrol.otpauth_uri
    );
    let from_uri = totp_rs::TOTP::from_url(&enrol.otpauth_uri).expect("a valid otpauth URI");
    let secret = totp_rs::Secret::Encoded(enrol.secret_base32.clone())
        .to_bytes()
        .expect("base32");
    assert_eq!(
        from_uri.secret, secret,
        "the URI and the manual-entry secret agree"
    );
    assert_eq!(from_uri.digits, 6);
    assert_eq!(from_uri.step, 30);
    let png = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        &enrol.qr_png_base64,
    )
    .expect("base64 QR");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "the QR code is a PNG"
    );
    assert!(
        !totp_status(&app, &patient.token).await,
        "not enabled before confirmation"
    );

    let mut phone = Authenticator::from_base32(&enrol.secret_base32);
    // A code from far in the future is wrong.
    let far = phone.code_at_step(Authenticator::current_step() + 10);
    expect_code(
        app.post(
            "/api/v1/me/totp/confirm",
            Some(&patient.token),
            &json!({"code": far}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let (confirm_code, _) = phone.fresh_code().await;
    let status: TotpStatus = expect_json(
        app.post(
            "/api/v1/me/totp/confirm",
            Some(&patient.token),
            &json!({"code": confirm_code}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(status.enabled);
    assert!(totp_status(&app, &patient.token).await);
    // A second enrolment while one is active is refused.
    expect_code(
        app.post("/api/v1/me/totp", Some(&patient.token), &json!({}))
            .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;

    // The doctor redeems a fresh authenticator code.
    let r1 = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    // The confirmation code was used: not accepted again.
    expect_code(
        redeem(&app, &doctor.token, r1.id, &confirm_code).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_code",
    )
    .await;
    let (code, _) = phone.fresh_code().await;
    let grant = redeem_ok(&app, &doctor.token, r1.id, &code).await;
    assert_eq!(grant.record_id, None, "all-records grant");

    // Replaying that code on another request is refused (and counted).
    let r2 = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    expect_code(
        redeem(&app, &doctor.token, r2.id, &code).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_code",
    )
    .await;
    let view = patient_view(&app, &patient.token, r2.id).await;
    assert_eq!(view.failed_attempts, 1);
    assert_eq!(view.status, AccessRequestStatus::Pending);

    // Removing needs a valid, unused code.
    for bad in ["000000".to_owned(), code.clone(), "12345".to_owned()] {
        let resp = app
            .send(
                Method::DELETE,
                "/api/v1/me/totp",
                Some(&patient.token),
                Some(&json!({ "code": bad })),
            )
            .await;
        expect_code(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    assert!(
        totp_status(&app, &patient.token).await,
        "a refused removal removed the authenticator"
    );
    let (remove_code, remove_step) = phone.fresh_code().await;
    let status: TotpStatus = expect_json(
        app.send(
            Method::DELETE,
            "/api/v1/me/totp",
            Some(&patient.token),
            Some(&json!({ "code": remove_code })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(!status.enabled);
    assert!(!totp_status(&app, &patient.token).await);
    // Without an authenticator, even a never-used authenticator code is wrong.
    let unused = phone.code_at_step(remove_step + 1);
    expect_code(
        redeem(&app, &doctor.token, r2.id, &unused).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_code",
    )
    .await;

    let admin = &cast.admin.token;
    let grants = ledger_of(&app, admin, "consent.grant").await;
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].payload["method"], "totp");
    for action in ["totp.enrol", "totp.confirm", "totp.remove"] {
        assert_eq!(ledger_of(&app, admin, action).await.len(), 1, "{action}");
    }
    assert_ledger_ok(&app, admin).await;
}

async fn mrn_path_and_approval(backend: Backend) {
    let (app, _) = spawn_recording(backend, |_| {}).await;
    let cast = app.cast().await;
    let (doctor, stranger, patient) = (&cast.doctor, &cast.other_doctor, &cast.patient);
    let bytes = pdf_bytes(90_000);
    let meta = upload_ok(&app, &patient.token, &Upload::pdf(bytes.clone())).await;
    let profile: Patient = expect_json(
        app.get(
            &format!("/api/v1/doctor/patients/{}", patient.id),
            Some(&doctor.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(!profile.mrn.is_empty());

    // Outside their care, the other doctor sees nothing and cannot ask by id.
    let path = format!("/api/v1/doctor/patients/{}", patient.id);
    expect_code(
        app.get(&path, Some(&stranger.token)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let list = format!("/api/v1/records?patient_id={}", patient.id);
    expect_code(
        app.get(&list, Some(&stranger.token)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let by_id = app
        .post(
            "/api/v1/access-requests",
            Some(&stranger.token),
            &access_body(patient.id, None),
        )
        .await;
    expect_code(by_id, StatusCode::NOT_FOUND, "not_found").await;
    let by_mrn = |mrn: &str| {
        json!({"patient_id": null, "mrn": mrn, "record_id": null,
               "reason": "Second opinion requested by the patient", "duration_hours": 4})
    };
    let unknown = app
        .post(
            "/api/v1/access-requests",
            Some(&stranger.token),
            &by_mrn("MRN-DOES-NOT-EXIST"),
        )
        .await;
    expect_code(unknown, StatusCode::NOT_FOUND, "not_found").await;

    // By MRN: the patient approves in the app.
    let req = request_access(&app, &stranger.token, &by_mrn(&profile.mrn)).await;
    assert_eq!(req.patient_id, patient.id);
    let inbox = patient_view(&app, &patient.token, req.id).await;
    assert_eq!(inbox.doctor_id, stranger.id);
    assert!(inbox.code.is_some());
    let grant = approve_ok(&app, &patient.token, req.id).await;
    assert_eq!(grant.doctor_id, stranger.id);
    assert_eq!(grant.record_id, None);
    assert!(grant.active);
    assert_eq!(
        patient_view(&app, &patient.token, req.id).await.status,
        AccessRequestStatus::Granted
    );

    // Consent yields the grant only: the patient is not in the other doctor's care, so their
    // list stays empty and the profile stays closed; the grant opens exactly the records.
    let mine: Page<Patient> = expect_json(
        app.get(
            "/api/v1/doctor/patients?per_page=100",
            Some(&stranger.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        mine.items.iter().all(|p| p.id != patient.id),
        "consent put the patient in the other doctor's care"
    );
    expect_code(
        app.get(&path, Some(&stranger.token)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let records: Page<RecordMeta> =
        expect_json(app.get(&list, Some(&stranger.token)).await, StatusCode::OK).await;
    assert_eq!(records.items, vec![meta.clone()]);
    download_identical(&app, &stranger.token, &meta, &bytes).await;

    let admin = &cast.admin.token;
    let requests = ledger_of(&app, admin, "consent.request").await;
    assert!(
        requests.iter().any(|e| e.payload["by_mrn"] == true),
        "the MRN request is in the ledger"
    );
    let grants = ledger_of(&app, admin, "consent.grant").await;
    assert_eq!(grants[0].payload["method"], "approval");
    assert_ledger_ok(&app, admin).await;
}

async fn five_wrong_codes_lock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);
    let req = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    let code = pending_code(&app, &patient.token, req.id).await;
    // Malformed codes are refused without counting.
    for bad in ["1234", "abcdefgh", "", "1234567890"] {
        let resp = redeem(&app, &doctor.token, req.id, bad).await;
        expect_code(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    assert_eq!(
        patient_view(&app, &patient.token, req.id)
            .await
            .failed_attempts,
        0
    );
    let wrong = wrong_code(&code);
    for attempt in 1..=4 {
        expect_code(
            redeem(&app, &doctor.token, req.id, &wrong).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_code",
        )
        .await;
        assert_eq!(
            patient_view(&app, &patient.token, req.id)
                .await
                .failed_attempts,
            attempt
        );
    }
    expect_code(
        redeem(&app, &doctor.token, req.id, &wrong).await,
        StatusCode::LOCKED,
        "locked",
    )
    .await;
    // Locked: the right code no longer works, nor can the patient approve it.
    expect_code(
        redeem(&app, &doctor.token, req.id, &code).await,
        StatusCode::LOCKED,
        "locked",
    )
    .await;
    let approve = app
        .post(
            &format!("/api/v1/access-requests/{}/approve", req.id),
            Some(&patient.token),
            &json!({}),
        )
        .await;
    expect_code(approve, StatusCode::LOCKED, "locked").await;
    let view = patient_view(&app, &patient.token, req.id).await;
    assert_eq!(view.status, AccessRequestStatus::Locked);
    assert_eq!(view.failed_attempts, 5);
    assert_eq!(view.code, None, "a locked request shows no code");
    assert_eq!(view.grant_id, None);
    let grants: Page<Grant> = expect_json(
        app.get("/api/v1/grants", Some(&doctor.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(grants.total, 0, "no grant came out of a locked request");
    let log = access_log(&app, &patient.token).await;
    assert_eq!(
        log.iter()
            .filter(|e| e.action == "consent.code_failed")
            .count(),
        5
    );
    assert!(
        log.iter()
            .any(|e| e.action == "consent.locked" && !e.allowed),
        "{log:?}"
    );
    assert_ledger_ok(&app, &cast.admin.token).await;
}

/// A code past its lifetime: the patient no longer sees it, and the right code is 410.
async fn expired_code(backend: Backend) {
    let (app, paths) = spawn_recording(backend, |_| {}).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);
    let req = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    let code = pending_code(&app, &patient.token, req.id).await;
    let changed = RawDb::open(&paths).execute(&format!(
        "UPDATE access_requests SET code_expires_at = '2000-01-01 00:00:00' WHERE id = {}",
        sql_str(&req.id.to_string())
    ));
    assert_eq!(changed, 1);
    let view = patient_view(&app, &patient.token, req.id).await;
    assert_eq!(view.code, None, "an expired code is still shown");
    expect_code(
        redeem(&app, &doctor.token, req.id, &code).await,
        StatusCode::GONE,
        "expired",
    )
    .await;
    let grants: Page<Grant> = expect_json(
        app.get("/api/v1/grants", Some(&doctor.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(grants.total, 0);
    assert_ledger_ok(&app, &cast.admin.token).await;
}

/// A request past its lifetime can be neither redeemed nor approved nor denied.
async fn expired_request(backend: Backend) {
    let (app, paths) = spawn_recording(backend, |_| {}).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);
    let req = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    let code = pending_code(&app, &patient.token, req.id).await;
    RawDb::open(&paths).execute(&format!(
        "UPDATE access_requests SET created_at = '2000-01-01 00:00:00' WHERE id = {}",
        sql_str(&req.id.to_string())
    ));
    expect_code(
        redeem(&app, &doctor.token, req.id, &code).await,
        StatusCode::GONE,
        "expired",
    )
    .await;
    for verb in ["approve", "deny"] {
        let resp = app
            .post(
                &format!("/api/v1/access-requests/{}/{verb}", req.id),
                Some(&patient.token),
                &json!({}),
            )
            .await;
        expect_code(resp, StatusCode::GONE, "expired").await;
    }
    let view = patient_view(&app, &patient.token, req.id).await;
    assert_eq!(view.status, AccessRequestStatus::Expired);
    assert_eq!(view.code, None);
    let doctor_view: AccessRequest = expect_json(
        app.get(
            &format!("/api/v1/access-requests/{}", req.id),
            Some(&doctor.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(doctor_view.status, AccessRequestStatus::Expired);
}

async fn denied_request_cannot_be_redeemed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);
    let req = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    let code = pending_code(&app, &patient.token, req.id).await;
    let denied: AccessRequest = expect_json(
        app.post(
            &format!("/api/v1/access-requests/{}/deny", req.id),
            Some(&patient.token),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(denied.status, AccessRequestStatus::Denied);
    assert_eq!(denied.code, None);
    expect_code(
        redeem(&app, &doctor.token, req.id, &code).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    for verb in ["approve", "deny"] {
        let resp = app
            .post(
                &format!("/api/v1/access-requests/{}/{verb}", req.id),
                Some(&patient.token),
                &json!({}),
            )
            .await;
        expect_code(resp, StatusCode::CONFLICT, "conflict").await;
    }
    let doctor_view: AccessRequest = expect_json(
        app.get(
            &format!("/api/v1/access-requests/{}", req.id),
            Some(&doctor.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(doctor_view.status, AccessRequestStatus::Denied);
    let log = access_log(&app, &patient.token).await;
    assert!(
        log.iter()
            .any(|e| e.action == "consent.deny" && e.actor_id == Some(patient.id)),
        "{log:?}"
    );
    assert_ledger_ok(&app, &cast.admin.token).await;
}

async fn doctor_rate_limit_across_requests(backend: Backend) {
    let (app, _) = spawn_recording(backend, |cfg| cfg.consent.doctor_failures_per_window = 6).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);
    let mut reqs = Vec::new();
    for _ in 0..3 {
        let r = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
        let code = pending_code(&app, &patient.token, r.id).await;
        reqs.push((r.id, code));
    }
    // Three wrong codes on each of two requests: none locks (limit 5), but six failures.
    for (id, code) in &reqs[..2] {
        for _ in 0..3 {
            let resp = redeem(&app, &doctor.token, *id, &wrong_code(code)).await;
            expect_code(resp, StatusCode::UNPROCESSABLE_ENTITY, "wrong_code").await;
        }
    }
    // Now even the right code on a third request is refused, with a Retry-After.
    let (id3, code3) = &reqs[2];
    let resp = redeem(&app, &doctor.token, *id3, code3).await;
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    expect_code(resp, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    assert!(retry.is_some_and(|s| s > 0), "Retry-After: {retry:?}");
    let view = patient_view(&app, &patient.token, *id3).await;
    assert_eq!(view.status, AccessRequestStatus::Pending);
    assert_eq!(
        view.failed_attempts, 0,
        "a rate-limited attempt is not a wrong code"
    );
    let (id1, code1) = &reqs[0];
    expect_code(
        redeem(&app, &doctor.token, *id1, code1).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    )
    .await;
    // The limit is per doctor: another doctor is unaffected.
    let other = &cast.other_doctor;
    grant_by_code(
        &app,
        &other.token,
        &cast.other_patient.token,
        &access_body(cast.other_patient.id, None),
    )
    .await;
    // The patient can still approve in the app.
    approve_ok(&app, &patient.token, *id3).await;
    assert_ledger_ok(&app, &cast.admin.token).await;
}

/// A one-record grant covers that record only; grants allow a limited number of downloads;
/// a doctor may give a grant up.
async fn grant_scope_limit_and_relinquish(backend: Backend) {
    let (app, _) = spawn_recording(backend, |cfg| cfg.consent.downloads_per_grant = 2).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);
    let a_bytes = pdf_bytes(40_000);
    let a = upload_ok(&app, &patient.token, &Upload::pdf(a_bytes.clone())).await;
    let b = upload_ok(&app, &patient.token, &Upload::pdf(pdf_bytes(50_000))).await;
    let grant = grant_by_code(
        &app,
        &doctor.token,
        &patient.token,
        &access_body(patient.id, Some(a.id)),
    )
    .await;
    assert_eq!(grant.max_downloads, 2);
    expect_code(
        download(&app, Some(&doctor.token), b.id).await,
        StatusCode::FORBIDDEN,
        "no_grant",
    )
    .await;
    download_identical(&app, &doctor.token, &a, &a_bytes).await;
    download_identical(&app, &doctor.token, &a, &a_bytes).await;
    expect_code(
        download(&app, Some(&doctor.token), a.id).await,
        StatusCode::FORBIDDEN,
        "no_grant",
    )
    .await;
    let grants: Page<Grant> = expect_json(
        app.get("/api/v1/grants", Some(&doctor.token)).await,
        StatusCode::OK,
    )
    .await;
    let used = grants
        .items
        .iter()
        .find(|g| g.id == grant.id)
        .expect("grant");
    assert_eq!(used.downloads_used, 2);
    assert!(!used.active, "a used-up grant is not live");

    // A fresh all-records grant, given up by the doctor.
    let all = grant_by_code(
        &app,
        &doctor.token,
        &patient.token,
        &access_body(patient.id, None),
    )
    .await;
    let resp = download(&app, Some(&doctor.token), b.id).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let given_up: Grant = expect_json(
        app.send(
            Method::DELETE,
            &format!("/api/v1/grants/{}", all.id),
            Some(&doctor.token),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(!given_up.active);
    expect_code(
        download(&app, Some(&doctor.token), b.id).await,
        StatusCode::FORBIDDEN,
        "no_grant",
    )
    .await;
    // Revoking twice is harmless and writes one ledger entry.
    let again = app
        .send(
            Method::DELETE,
            &format!("/api/v1/grants/{}", all.id),
            Some(&patient.token),
            None,
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        ledger_of(&app, &cast.admin.token, "consent.revoke")
            .await
            .len(),
        1
    );
    assert_ledger_ok(&app, &cast.admin.token).await;
}

async fn request_validation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);
    let other_record = upload_ok(
        &app,
        &cast.other_patient.token,
        &Upload::pdf(pdf_bytes(1_000)),
    )
    .await;
    let post = |body: Value| {
        let app = &app;
        let token = doctor.token.clone();
        async move {
            app.post("/api/v1/access-requests", Some(&token), &body)
                .await
        }
    };
    let base = access_body(patient.id, None);
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    for (body, field) in [
        (with("duration_hours", json!(0)), "duration_hours"),
        (with("duration_hours", json!(100_000)), "duration_hours"),
        (with("reason", json!("x")), "reason"),
        (with("reason", json!("r".repeat(501))), "reason"),
        (with("mrn", json!("MRN-1")), "patient_id"),
        (with("patient_id", Value::Null), "patient_id"),
    ] {
        let err = expect_code(
            post(body.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        let fields = err.error.fields.unwrap_or_default();
        assert!(fields.contains_key(field), "{body}: fields {fields:?}");
    }
    // Records that are not this patient's, or do not exist: 404.
    for record in [other_record.id, RecordId::from(Uuid::new_v4())] {
        let resp = post(access_body(patient.id, Some(record))).await;
        expect_code(resp, StatusCode::NOT_FOUND, "not_found").await;
    }
    // Open requests per patient are limited.
    for _ in 0..5 {
        request_access(&app, &doctor.token, &base).await;
    }
    expect_code(post(base.clone()).await, StatusCode::CONFLICT, "conflict").await;
    let mine: Page<AccessRequest> = expect_json(
        app.get("/api/v1/access-requests", Some(&doctor.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine.total, 5);
    // Unknown request ids are 404 for every verb.
    let nobody = RequestId::from(Uuid::new_v4());
    expect_code(
        redeem(&app, &doctor.token, nobody, "12345678").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    for verb in ["approve", "deny"] {
        let resp = app
            .post(
                &format!("/api/v1/access-requests/{nobody}/{verb}"),
                Some(&patient.token),
                &json!({}),
            )
            .await;
        expect_code(resp, StatusCode::NOT_FOUND, "not_found").await;
    }
}
