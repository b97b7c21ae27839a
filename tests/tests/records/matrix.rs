//! Every issue-4 endpoint x {anonymous, admin, doctor, other doctor, patient, other patient},
//! with the callers' own and foreign ids: 401 without a token, 403 for the wrong role, 404 for
//! another patient's record, request or grant (never a 403 that confirms it exists).

use medvault_tests::records::{
    Upload, access_body, approve_ok, assert_ledger_ok, grant_by_code, pdf_bytes, request_access,
    upload, upload_ok,
};
use medvault_tests::{Backend, TestApp, on_both_backends};
use medvault_types::{RecordId, UserId};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use Body::{Json, None as N};
use Method as M;

on_both_backends!(records_consent_history_ledger_matrix);

/// Request body of a row.
#[derive(Debug, Clone)]
enum Body {
    None,
    Json(Value),
    /// A small valid PDF upload (multipart).
    Upload,
}

/// Expected statuses in the order anonymous, admin, doctor, other doctor, patient, other
/// patient; `0` skips that caller (used where an earlier caller's success changes the object).
struct Row {
    method: Method,
    path: String,
    body: Body,
    expect: [u16; 6],
}

fn row(method: Method, path: impl Into<String>, body: Body, expect: [u16; 6]) -> Row {
    Row {
        method,
        path: path.into(),
        body,
        expect,
    }
}

#[allow(clippy::too_many_lines, clippy::many_single_char_names)]
async fn records_consent_history_ledger_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let (p, op) = (cast.patient.id, cast.other_patient.id);
    let x = app
        .create_patient(
            "/api/v1/admin/patients",
            &cast.admin.token,
            "nobodys@home.example",
        )
        .await
        .patient
        .id;
    let nobody = Uuid::new_v4();
    let pdf = || Upload::pdf(pdf_bytes(2_000));
    let pt = &cast.patient.token;
    let opt = &cast.other_patient.token;

    // The patient's records: r (covered by the doctor's one-record grant), r2 (no grant),
    // ra / rc (to delete). The other patient's: or, rb (to delete).
    let r = upload_ok(&app, pt, &pdf()).await.id;
    let r2 = upload_ok(&app, pt, &pdf()).await.id;
    let ra = upload_ok(&app, pt, &pdf()).await.id;
    let rc = upload_ok(&app, pt, &pdf()).await.id;
    let or = upload_ok(&app, opt, &pdf()).await.id;
    let rb = upload_ok(&app, opt, &pdf()).await.id;
    let g = grant_by_code(&app, &cast.doctor.token, pt, &access_body(p, Some(r)))
        .await
        .id;
    let og_req = request_access(&app, &cast.other_doctor.token, &access_body(op, None)).await;
    let og = approve_ok(&app, opt, og_req.id).await.id;
    let q = request_access(&app, &cast.doctor.token, &access_body(p, None))
        .await
        .id;
    let q2 = request_access(&app, &cast.doctor.token, &access_body(p, None))
        .await
        .id;
    let oq = request_access(&app, &cast.other_doctor.token, &access_body(op, None))
        .await
        .id;

    let note = json!({"visit_date": "2026-03-15", "symptoms": "Cough", "diagnosis": "Bronchitis",
        "prescription": "", "notes": ""});
    let code = |c: &str| Body::Json(json!({ "code": c }));
    let ask = |patient: UserId, record: Option<RecordId>| Body::Json(access_body(patient, record));
    let rows = vec![
        // Records.
        row(
            M::POST,
            "/api/v1/records",
            Body::Upload,
            [401, 403, 403, 403, 201, 201],
        ),
        row(M::GET, "/api/v1/records", N, [401, 403, 422, 422, 200, 200]),
        row(
            M::GET,
            format!("/api/v1/records?patient_id={p}"),
            N,
            [401, 403, 200, 404, 200, 200],
        ),
        row(
            M::GET,
            format!("/api/v1/records?patient_id={op}"),
            N,
            [401, 403, 404, 200, 200, 200],
        ),
        row(
            M::GET,
            format!("/api/v1/records?patient_id={x}"),
            N,
            [401, 403, 404, 404, 200, 200],
        ),
        row(
            M::GET,
            format!("/api/v1/records/{r}"),
            N,
            [401, 403, 200, 404, 200, 404],
        ),
        row(
            M::GET,
            format!("/api/v1/records/{or}"),
            N,
            [401, 403, 404, 200, 404, 200],
        ),
        row(
            M::GET,
            format!("/api/v1/records/{nobody}"),
            N,
            [401, 403, 404, 404, 404, 404],
        ),
        row(
            M::GET,
            format!("/api/v1/records/{r}/content"),
            N,
            [401, 403, 200, 404, 200, 404],
        ),
        row(
            M::GET,
            format!("/api/v1/records/{r2}/content"),
            N,
            [401, 403, 403, 404, 200, 404],
        ),
        row(
            M::GET,
            format!("/api/v1/records/{or}/content"),
            N,
            [401, 403, 404, 200, 404, 200],
        ),
        row(
            M::GET,
            format!("/api/v1/records/{nobody}/content"),
            N,
            [401, 404, 404, 404, 404, 404],
        ),
        row(
            M::GET,
            "/api/v1/me/storage",
            N,
            [401, 403, 403, 403, 200, 200],
        ),
        // Access requests.
        row(
            M::POST,
            "/api/v1/access-requests",
            ask(p, None),
            [401, 403, 201, 404, 403, 403],
        ),
        row(
            M::POST,
            "/api/v1/access-requests",
            ask(op, None),
            [401, 403, 404, 201, 403, 403],
        ),
        row(
            M::POST,
            "/api/v1/access-requests",
            ask(p, Some(or)),
            [401, 403, 404, 404, 403, 403],
        ),
        row(
            M::POST,
            "/api/v1/access-requests",
            ask(x, None),
            [401, 403, 404, 404, 403, 403],
        ),
        row(
            M::GET,
            "/api/v1/access-requests",
            N,
            [401, 403, 200, 200, 200, 200],
        ),
        row(
            M::GET,
            format!("/api/v1/access-requests/{q}"),
            N,
            [401, 403, 200, 404, 200, 404],
        ),
        row(
            M::GET,
            format!("/api/v1/access-requests/{oq}"),
            N,
            [401, 403, 404, 200, 404, 200],
        ),
        row(
            M::GET,
            format!("/api/v1/access-requests/{nobody}"),
            N,
            [401, 403, 404, 404, 404, 404],
        ),
        row(
            M::POST,
            format!("/api/v1/access-requests/{q}/redeem"),
            code("00000000"),
            [401, 403, 422, 404, 403, 403],
        ),
        row(
            M::POST,
            format!("/api/v1/access-requests/{oq}/redeem"),
            code("00000000"),
            [401, 403, 404, 422, 403, 403],
        ),
        row(
            M::POST,
            format!("/api/v1/access-requests/{nobody}/redeem"),
            code("00000000"),
            [401, 403, 404, 404, 403, 403],
        ),
        row(
            M::POST,
            format!("/api/v1/access-requests/{q}/approve"),
            N,
            [401, 403, 403, 403, 200, 404],
        ),
        row(
            M::POST,
            format!("/api/v1/access-requests/{oq}/approve"),
            N,
            [401, 403, 403, 403, 404, 200],
        ),
        row(
            M::POST,
            format!("/api/v1/access-requests/{q2}/deny"),
            N,
            [401, 403, 403, 403, 200, 404],
        ),
        row(
            M::POST,
            format!("/api/v1/access-requests/{nobody}/approve"),
            N,
            [401, 403, 403, 403, 404, 404],
        ),
        row(
            M::POST,
            format!("/api/v1/access-requests/{nobody}/deny"),
            N,
            [401, 403, 403, 403, 404, 404],
        ),
        // Grants.
        row(M::GET, "/api/v1/grants", N, [401, 403, 200, 200, 200, 200]),
        row(
            M::DELETE,
            format!("/api/v1/grants/{g}"),
            N,
            [401, 403, 200, 404, 200, 404],
        ),
        row(
            M::DELETE,
            format!("/api/v1/grants/{og}"),
            N,
            [401, 403, 404, 200, 404, 200],
        ),
        row(
            M::DELETE,
            format!("/api/v1/grants/{nobody}"),
            N,
            [401, 403, 404, 404, 404, 404],
        ),
        // Authenticator.
        row(M::GET, "/api/v1/me/totp", N, [401, 403, 403, 403, 200, 200]),
        row(
            M::POST,
            "/api/v1/me/totp",
            N,
            [401, 403, 403, 403, 200, 200],
        ),
        row(
            M::POST,
            "/api/v1/me/totp/confirm",
            code("000000"),
            [401, 403, 403, 403, 422, 422],
        ),
        row(
            M::DELETE,
            "/api/v1/me/totp",
            code("000000"),
            [401, 403, 403, 403, 422, 422],
        ),
        // Clinical history.
        row(
            M::POST,
            format!("/api/v1/doctor/patients/{p}/notes"),
            Json(note.clone()),
            [401, 403, 201, 404, 403, 403],
        ),
        row(
            M::POST,
            format!("/api/v1/doctor/patients/{op}/notes"),
            Json(note.clone()),
            [401, 403, 404, 201, 403, 403],
        ),
        row(
            M::POST,
            format!("/api/v1/doctor/patients/{x}/notes"),
            Json(note.clone()),
            [401, 403, 404, 404, 403, 403],
        ),
        row(
            M::GET,
            format!("/api/v1/doctor/patients/{p}/notes"),
            N,
            [401, 403, 200, 404, 403, 403],
        ),
        row(
            M::GET,
            format!("/api/v1/doctor/patients/{op}/notes"),
            N,
            [401, 403, 404, 200, 403, 403],
        ),
        row(
            M::GET,
            format!("/api/v1/doctor/patients/{nobody}/notes"),
            N,
            [401, 403, 404, 404, 403, 403],
        ),
        row(
            M::GET,
            "/api/v1/me/notes",
            N,
            [401, 403, 403, 403, 200, 200],
        ),
        row(
            M::GET,
            "/api/v1/me/history",
            N,
            [401, 403, 403, 403, 200, 200],
        ),
        row(
            M::GET,
            "/api/v1/me/access-log",
            N,
            [401, 403, 403, 403, 200, 200],
        ),
        // Ledger and overview.
        row(
            M::GET,
            "/api/v1/admin/ledger",
            N,
            [401, 200, 403, 403, 403, 403],
        ),
        row(
            M::GET,
            "/api/v1/admin/ledger/verify",
            N,
            [401, 200, 403, 403, 403, 403],
        ),
        row(
            M::GET,
            "/api/v1/admin/overview",
            N,
            [401, 200, 403, 403, 403, 403],
        ),
        row(
            M::GET,
            "/api/v1/admin/storage",
            N,
            [401, 200, 403, 403, 403, 403],
        ),
        // Deletion last: each record is deleted by one allowed caller; everyone before that
        // caller is refused while it exists, and everyone after sees a 404.
        row(
            M::DELETE,
            format!("/api/v1/records/{ra}"),
            N,
            [401, 0, 404, 404, 204, 404],
        ),
        row(
            M::DELETE,
            format!("/api/v1/records/{rb}"),
            N,
            [401, 0, 404, 404, 404, 204],
        ),
        row(
            M::DELETE,
            format!("/api/v1/records/{rc}"),
            N,
            [401, 204, 404, 404, 404, 404],
        ),
        row(
            M::DELETE,
            format!("/api/v1/records/{nobody}"),
            N,
            [401, 404, 404, 404, 404, 404],
        ),
        row(
            M::GET,
            format!("/api/v1/records/{ra}"),
            N,
            [401, 403, 404, 404, 404, 404],
        ),
        row(
            M::GET,
            format!("/api/v1/records/{rc}/content"),
            N,
            [401, 404, 404, 404, 404, 404],
        ),
    ];

    let actors: [(&str, Option<&str>); 6] = [
        ("anonymous", None),
        ("admin", Some(&cast.admin.token)),
        ("doctor", Some(&cast.doctor.token)),
        ("other doctor", Some(&cast.other_doctor.token)),
        ("patient", Some(pt)),
        ("other patient", Some(opt)),
    ];
    let mut failures = Vec::new();
    let mut checked = 0;
    for Row {
        method,
        path,
        body,
        expect,
    } in rows
    {
        for ((who, token), want) in actors.iter().zip(expect) {
            if want == 0 {
                continue;
            }
            checked += 1;
            let resp = match &body {
                Body::Upload => upload(&app, *token, &pdf()).await,
                Body::Json(v) => app.send(method.clone(), &path, *token, Some(v)).await,
                Body::None => app.send(method.clone(), &path, *token, None).await,
            };
            let got = resp.status();
            let json_type = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("application/json"));
            let text = resp.text().await.unwrap_or_default();
            if got != StatusCode::from_u16(want).expect("status") {
                failures.push(format!(
                    "{method} {path} as {who}: expected {want}, got {got}: {text:.200}"
                ));
            } else if got.is_client_error() {
                let envelope = serde_json::from_str::<medvault_types::ErrorBody>(&text);
                if !json_type || envelope.is_err() {
                    failures.push(format!("{method} {path} as {who}: {got} without the JSON error envelope: {text:.200}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_ledger_ok(&app, &cast.admin.token).await;
}
