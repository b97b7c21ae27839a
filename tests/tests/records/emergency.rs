//! Emergency access (break-glass, issue 11 part 5), black box: a doctor outside the patient's
//! care opens it after a fresh password, reads under it (each read ledgered with the session),
//! the patient is told (app and e-mail) and sees the outcome, an administrator reviews it, and
//! it ends (by the doctor or at expiry) with its own ledger entry. Limits: the daily count holds
//! under concurrency, one open session per patient, and configuration can switch it off.

use std::time::Duration as StdDuration;

use chrono::Duration;
use futures_util::future::join_all;
use medvault_tests::records::{
    SmtpSink, Upload, assert_ledger_ok, download_ok, emergency_body, expect_code, ledger_all,
    message_body, mrn_of, open_emergency, pdf_bytes, reauthenticate, sha256_hex, spawn_mailing,
    upload_ok,
};
use medvault_tests::{Actor, Backend, Cast, TestApp, USER_PASSWORD, expect_json, on_both_backends};
use medvault_types::{
    AccessBasis, AccessLogEntry, AdminOverview, EmergencyAccess, Page, RecordMeta, ReviewOutcome,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(emergency_access_from_open_to_review, emergency_limits_hold);

async fn list(app: &TestApp, token: &str, query: &str) -> Page<EmergencyAccess> {
    expect_json(
        app.get(&format!("/api/v1/emergency-accesses{query}"), Some(token))
            .await,
        StatusCode::OK,
    )
    .await
}

async fn overview(app: &TestApp, admin: &str) -> AdminOverview {
    expect_json(
        app.get("/api/v1/admin/overview", Some(admin)).await,
        StatusCode::OK,
    )
    .await
}

async fn emergency_entries(app: &TestApp, admin: &str, action: &str) -> Vec<Value> {
    ledger_all(app, admin)
        .await
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| e.payload)
        .collect()
}

/// The world of the journey: an SMTP sink, the app, the cast (`other_doctor` opens emergency
/// access to `patient`, outside their care), one record with notes, the patient's MRN.
struct Scene {
    sink: SmtpSink,
    app: TestApp,
    cast: Cast,
    record: RecordMeta,
    mrn: String,
}

impl Scene {
    async fn new(backend: Backend) -> Self {
        let (sink, app) = spawn_mailing(backend, medvault_tests::day_long_sessions).await;
        let cast = app.cast().await;
        let mut upload = Upload::pdf(pdf_bytes(5_000));
        upload.notes = Some("fasting sample".into());
        let record = upload_ok(&app, &cast.patient.token, &upload).await;
        let mrn = mrn_of(&app, &cast.admin.token, cast.patient.id).await;
        Self {
            sink,
            app,
            cast,
            record,
            mrn,
        }
    }

    /// The app, the emergency doctor, the patient, the admin's token.
    fn parts(&self) -> (&TestApp, &Actor, &Actor, &str) {
        (
            &self.app,
            &self.cast.other_doctor,
            &self.cast.patient,
            &self.cast.admin.token,
        )
    }

    fn profile(&self) -> String {
        format!("/api/v1/doctor/patients/{}", self.cast.patient.id)
    }
}

async fn emergency_access_from_open_to_review(backend: Backend) {
    let s = Scene::new(backend).await;
    opening_is_guarded(&s).await;
    let (app, doctor, patient, _) = s.parts();
    // Open it (by MRN): active for the time asked.
    let opened = open_emergency(app, &doctor.token, &emergency_body(&s.mrn, 120)).await;
    assert!(opened.active && opened.review.is_none());
    assert_eq!(opened.patient_id, patient.id);
    assert_eq!(
        opened.expires_at - opened.started_at,
        Duration::minutes(120)
    );
    reads_under_it(&s, &opened).await;
    who_sees_it(&s, &opened).await;
    review_queue(&s).await;
    it_ends_at_expiry(&s, &opened).await;
}

/// Only doctors, with a recent password, with valid fields.
async fn opening_is_guarded(s: &Scene) {
    let (app, doctor, patient, admin) = s.parts();
    let (p, mrn, profile) = (patient.id, s.mrn.as_str(), s.profile());
    // Outside the patient's care and without a grant: nothing.
    expect_code(
        app.get(&profile, Some(&doctor.token)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Only doctors; only with a password confirmed in the last few minutes.
    for who in [&patient.token, admin] {
        let resp = app
            .post(
                "/api/v1/emergency-accesses",
                Some(who),
                &emergency_body(mrn, 60),
            )
            .await;
        expect_code(resp, StatusCode::FORBIDDEN, "forbidden").await;
    }
    app.clock.advance(Duration::minutes(6));
    let stale = app
        .post(
            "/api/v1/emergency-accesses",
            Some(&doctor.token),
            &emergency_body(mrn, 60),
        )
        .await;
    expect_code(stale, StatusCode::FORBIDDEN, "reauth_required").await;
    let wrong = app
        .post(
            "/api/v1/auth/reauthenticate",
            Some(&doctor.token),
            &json!({"password": "not my password at all"}),
        )
        .await;
    expect_code(wrong, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    reauthenticate(app, &doctor.token).await;

    // Invalid openings name their field.
    let mut short = emergency_body(mrn, 60);
    short["justification"] = json!("urgent");
    let mut both = emergency_body(mrn, 60);
    both["patient_id"] = json!(p);
    for (body, field) in [
        (short, "justification"),
        (both, "patient_id"),
        (emergency_body(mrn, 24 * 60 + 1), "duration_minutes"),
        (emergency_body("NO-SUCH-MRN", 60), ""),
    ] {
        let resp = app
            .post("/api/v1/emergency-accesses", Some(&doctor.token), &body)
            .await;
        if field.is_empty() {
            expect_code(resp, StatusCode::NOT_FOUND, "not_found").await;
        } else {
            let err =
                expect_code(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
            assert!(
                err.error
                    .fields
                    .as_ref()
                    .is_some_and(|f| f.contains_key(field)),
                "{field}: {err:?}"
            );
        }
    }
}

/// One open session per patient; the patient is told; the doctor reads everything, each read
/// naming the session.
async fn reads_under_it(s: &Scene, opened: &EmergencyAccess) {
    let (app, doctor, patient, admin) = s.parts();
    let (mrn, profile, record, sink) = (s.mrn.as_str(), s.profile(), &s.record, &s.sink);
    let again = app
        .post(
            "/api/v1/emergency-accesses",
            Some(&doctor.token),
            &emergency_body(mrn, 60),
        )
        .await;
    expect_code(again, StatusCode::CONFLICT, "conflict").await;

    // The patient is told at once by e-mail.
    let messages = sink
        .wait_for(
            "Emergency access to your medvault records",
            1,
            StdDuration::from_secs(30),
        )
        .await;
    let notice = &messages[0];
    assert!(
        notice.to_ascii_lowercase().contains(&patient.email),
        "{notice}"
    );
    assert!(
        message_body(notice).contains("Patient unconscious"),
        "{notice}"
    );

    // Under it the doctor reads the profile, the records with notes, the content, the notes.
    let prof: Value =
        expect_json(app.get(&profile, Some(&doctor.token)).await, StatusCode::OK).await;
    assert_eq!(prof["allergies"], json!("Penicillin"));
    let meta: Value = expect_json(
        app.get(
            &format!("/api/v1/records/{}", record.id),
            Some(&doctor.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(meta["notes"], json!("fasting sample"));
    let got = download_ok(app, &doctor.token, record.id).await;
    assert_eq!(
        sha256_hex(&got.bytes),
        record.sha256,
        "emergency download is the upload"
    );
    let notes = app
        .get(&format!("{profile}/notes"), Some(&doctor.token))
        .await;
    assert_eq!(notes.status(), StatusCode::OK);

    // Every read names the emergency session.
    let reads: Vec<_> = ledger_all(app, admin)
        .await
        .into_iter()
        .filter(|e| e.actor == Some(doctor.id) && e.payload["basis"] == json!("emergency"))
        .collect();
    assert_eq!(reads.len(), 4, "profile, record, content, notes: {reads:?}");
    for e in &reads {
        assert_eq!(e.payload["emergency_id"], json!(opened.id), "{e:?}");
    }
    let start = emergency_entries(app, admin, "emergency.start").await;
    assert_eq!(start.len(), 1);
    assert_eq!(start[0]["reason"], json!("unconscious_patient"));
    assert!(start[0]["justification_sha256"].is_string(), "{start:?}");
    assert!(
        !start[0].to_string().contains("road accident"),
        "the justification text stays out of the ledger"
    );

    // The patient sees it in their list and in "Who saw my records", marked emergency.
    let mine = list(app, &patient.token, "").await;
    assert_eq!(mine.total, 1);
    assert!(mine.items[0].justification.contains("road accident"));
    let log: Page<AccessLogEntry> = expect_json(
        app.get("/api/v1/me/access-log?per_page=100", Some(&patient.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(log.items.iter().any(|e| e.action == "emergency.start"));
    assert_eq!(
        log.items
            .iter()
            .filter(|e| e.basis == Some(AccessBasis::Emergency))
            .count(),
        4
    );
}

/// Its doctor, its patient and administrators see it; nobody else learns of it.
async fn who_sees_it(s: &Scene, opened: &EmergencyAccess) {
    let (app, doctor, patient, admin) = s.parts();
    let cast = &s.cast;
    // Who may see it: its doctor, its patient, administrators; nobody else learns of it.
    let one = format!("/api/v1/emergency-accesses/{}", opened.id);
    for (who, status) in [
        (doctor.token.as_str(), StatusCode::OK),
        (&patient.token, StatusCode::OK),
        (admin, StatusCode::OK),
        (&cast.doctor.token, StatusCode::NOT_FOUND),
        (&cast.other_patient.token, StatusCode::NOT_FOUND),
    ] {
        assert_eq!(app.get(&one, Some(who)).await.status(), status);
    }
    assert_eq!(list(app, &cast.doctor.token, "").await.total, 0);
    assert_eq!(list(app, &cast.other_patient.token, "").await.total, 0);
    let end_by_other = app
        .send(
            Method::POST,
            &format!("{one}/end"),
            Some(&cast.doctor.token),
            None,
        )
        .await;
    assert_eq!(end_by_other.status(), StatusCode::NOT_FOUND);
}

/// Counted on the overview, reviewed once, the outcome shown to the patient.
async fn review_queue(s: &Scene) {
    let (app, doctor, patient, admin) = s.parts();
    let cast = &s.cast;
    let one = format!(
        "/api/v1/emergency-accesses/{}",
        list(app, admin, "").await.items[0].id
    );
    // The review queue: counted on the overview, reviewed once, the outcome shown to the
    // patient.
    assert_eq!(overview(app, admin).await.unreviewed_emergencies, 1);
    assert_eq!(list(app, admin, "?unreviewed=true").await.total, 1);
    let review = format!("{one}/review");
    let terse = app
        .post(
            &review,
            Some(admin),
            &json!({"outcome": "justified", "comment": "ok"}),
        )
        .await;
    expect_code(terse, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let by_doctor = app
        .post(
            &review,
            Some(&doctor.token),
            &json!({"outcome": "justified", "comment": "fine by me"}),
        )
        .await;
    expect_code(by_doctor, StatusCode::FORBIDDEN, "forbidden").await;
    let body = json!({"outcome": "justified", "comment": "Confirmed with the ward: patient arrived unconscious"});
    let reviewed: EmergencyAccess =
        expect_json(app.post(&review, Some(admin), &body).await, StatusCode::OK).await;
    let verdict = reviewed.review.expect("review");
    assert_eq!(verdict.outcome, ReviewOutcome::Justified);
    assert_eq!(verdict.reviewed_by, cast.admin.id);
    expect_code(
        app.post(&review, Some(admin), &body).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(overview(app, admin).await.unreviewed_emergencies, 0);
    assert_eq!(list(app, admin, "?unreviewed=true").await.total, 0);
    let seen = list(app, &patient.token, "").await;
    assert_eq!(
        seen.items[0].review.as_ref().map(|r| r.outcome),
        Some(ReviewOutcome::Justified)
    );
}

/// At its end it stops: nothing is readable, and one `emergency.end` says so.
async fn it_ends_at_expiry(s: &Scene, opened: &EmergencyAccess) {
    let (app, doctor, patient, admin) = s.parts();
    let profile = s.profile();
    // At its end it stops: nothing is readable, and one `emergency.end` says so.
    app.clock.advance(Duration::minutes(121));
    expect_code(
        app.get(&profile, Some(&doctor.token)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let over = list(app, &doctor.token, "").await;
    assert!(!over.items[0].active);
    assert_eq!(over.items[0].ended_at, Some(opened.expires_at));
    list(app, &patient.token, "").await;
    let ends = emergency_entries(app, admin, "emergency.end").await;
    assert_eq!(
        ends.len(),
        1,
        "one end entry however often it is listed: {ends:?}"
    );
    assert_eq!(ends[0]["by"], json!("expiry"));
    assert_eq!(
        emergency_entries(app, admin, "emergency.review")
            .await
            .len(),
        1
    );
    assert_ledger_ok(app, admin).await;
}

async fn emergency_limits_hold(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.emergency.per_doctor_per_day = 2).await;
    let cast = app.cast().await;
    let admin = cast.admin.token.clone();
    let third = app
        .create_patient(
            "/api/v1/doctor/patients",
            &cast.doctor.token,
            "third@home.example",
        )
        .await;
    let doctor = &cast.other_doctor;
    let mut mrns = Vec::new();
    for p in [cast.patient.id, cast.other_patient.id, third.patient.id] {
        mrns.push(mrn_of(&app, &admin, p).await);
    }
    reauthenticate(&app, &doctor.token).await;

    // Three openings at once against a limit of two: exactly two succeed.
    let bodies: Vec<Value> = mrns.iter().map(|mrn| emergency_body(mrn, 60)).collect();
    let answers = join_all(
        bodies
            .iter()
            .map(|body| app.post("/api/v1/emergency-accesses", Some(&doctor.token), body)),
    )
    .await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [201, 201, 429],
        "the daily limit holds under concurrency"
    );
    let refused = answers
        .into_iter()
        .find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .expect("a refusal");
    assert!(refused.headers().contains_key("retry-after"));

    // The doctor ends one early: reads stop at once; ending again is harmless.
    // (One outside the doctor's care: `other_patient` is in it, so stays readable.)
    let open = list(&app, &doctor.token, "").await;
    let first = open
        .items
        .iter()
        .find(|a| a.patient_id != cast.other_patient.id)
        .expect("an emergency access outside the doctor's care");
    let path = format!("/api/v1/emergency-accesses/{}/end", first.id);
    for _ in 0..2 {
        let ended: EmergencyAccess = expect_json(
            app.send(Method::POST, &path, Some(&doctor.token), None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(!ended.active && ended.ended_at.is_some());
    }
    let profile = format!("/api/v1/doctor/patients/{}", first.patient_id);
    assert_eq!(
        app.get(&profile, Some(&doctor.token)).await.status(),
        StatusCode::NOT_FOUND
    );
    let ends = emergency_entries(&app, &admin, "emergency.end").await;
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0]["by"], json!("doctor"));

    // Ended or not, both count for the day; a day later the doctor may open again (naming
    // the patient by id this time). The day's sessions ended long ago: both sign in again
    // (a fresh sign-in is a recent authentication).
    app.clock
        .advance(Duration::hours(24) + Duration::minutes(1));
    let doctor_token = app.login(&doctor.email, USER_PASSWORD).await.access_token;
    let admin = app.admin_token().await;
    let mut by_id = emergency_body("unused", 60);
    by_id["mrn"] = Value::Null;
    by_id["patient_id"] = json!(third.patient.id);
    let reopened = open_emergency(&app, &doctor_token, &by_id).await;
    assert_eq!(reopened.patient_id, third.patient.id);
    assert_ledger_ok(&app, &admin).await;

    // Switched off in configuration: 403 emergency_disabled.
    let off = TestApp::spawn_with(backend, |c| c.emergency.enabled = false).await;
    let cast = off.cast().await;
    let mrn = mrn_of(&off, &cast.admin.token, cast.patient.id).await;
    let resp = off
        .post(
            "/api/v1/emergency-accesses",
            Some(&cast.other_doctor.token),
            &emergency_body(&mrn, 60),
        )
        .await;
    expect_code(resp, StatusCode::FORBIDDEN, "emergency_disabled").await;
}
