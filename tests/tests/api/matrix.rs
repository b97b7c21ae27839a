//! Every endpoint x {anonymous, admin, doctor, other doctor, patient, other patient}.

use medvault_tests::{
    Backend, Cast, TestApp, doctor_body, identity_only, on_both_backends, patient_body,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(role_matrix);

/// Expected statuses in the order anonymous, admin, doctor, other doctor, patient, other
/// patient.
type Row = (Method, String, Option<Value>, [u16; 6]);

#[expect(
    clippy::too_many_lines,
    reason = "the matrix table, one endpoint per line"
)]
fn rows(cast: &Cast, extra_patient: medvault_types::UserId) -> Vec<Row> {
    let d = cast.doctor.id;
    let p = cast.patient.id;
    let op = cast.other_patient.id;
    let x = extra_patient;
    let mut rows: Vec<Row> = vec![
        (
            Method::GET,
            "/api/v1/me".into(),
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/me/profile".into(),
            None,
            [401, 403, 403, 403, 200, 200],
        ),
        (
            Method::PATCH,
            "/api/v1/me/profile".into(),
            Some(json!({"city": "Abuja"})),
            [401, 403, 403, 403, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/admin/doctors".into(),
            None,
            [401, 200, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            format!("/api/v1/admin/doctors/{d}"),
            None,
            [401, 200, 403, 403, 403, 403],
        ),
        (
            Method::PATCH,
            format!("/api/v1/admin/doctors/{d}"),
            Some(json!({"specialty": "Oncology"})),
            [401, 200, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/api/v1/admin/patients".into(),
            None,
            [401, 200, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            format!("/api/v1/admin/patients/{p}"),
            None,
            [401, 200, 403, 403, 403, 403],
        ),
        (
            Method::PATCH,
            format!("/api/v1/admin/patients/{p}"),
            Some(json!({"state": "Lagos"})),
            [401, 200, 403, 403, 403, 403],
        ),
        (
            Method::PUT,
            format!("/api/v1/admin/patients/{x}/doctors/{d}"),
            None,
            [401, 204, 403, 403, 403, 403],
        ),
        (
            Method::DELETE,
            format!("/api/v1/admin/patients/{x}/doctors/{d}"),
            None,
            [401, 204, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{x}/deactivate"),
            None,
            [401, 200, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{x}/reactivate"),
            None,
            [401, 200, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{x}/reset-password"),
            None,
            [401, 200, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/api/v1/doctor/patients".into(),
            None,
            [401, 403, 200, 200, 403, 403],
        ),
        (
            Method::GET,
            format!("/api/v1/doctor/patients/{p}"),
            None,
            [401, 403, 200, 404, 403, 403],
        ),
        (
            Method::GET,
            format!("/api/v1/doctor/patients/{op}"),
            None,
            [401, 403, 404, 200, 403, 403],
        ),
        (
            Method::GET,
            format!("/api/v1/doctor/patients/{x}"),
            None,
            [401, 403, 404, 404, 403, 403],
        ),
        (
            Method::POST,
            "/api/v1/me/password".into(),
            Some(
                json!({"current_password": "wrong password!", "new_password": "another long passphrase"}),
            ),
            [401, 422, 422, 422, 422, 422],
        ),
        (Method::GET, "/healthz".into(), None, [200; 6]),
        (Method::GET, "/readyz".into(), None, [200; 6]),
    ];
    // Creations: each caller gets its own email (filled in below) so a success is a real 201.
    rows.push((
        Method::POST,
        "/api/v1/admin/doctors".into(),
        None,
        [401, 201, 403, 403, 403, 403],
    ));
    rows.push((
        Method::POST,
        "/api/v1/admin/patients".into(),
        None,
        [401, 201, 403, 403, 403, 403],
    ));
    rows.push((
        Method::POST,
        "/api/v1/doctor/patients".into(),
        None,
        [401, 403, 201, 201, 403, 403],
    ));
    // Last: sign-out ends every session.
    rows.push((
        Method::POST,
        "/api/v1/auth/logout".into(),
        None,
        [401, 204, 204, 204, 204, 204],
    ));
    rows
}

async fn role_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let extra = app
        .create_patient(
            "/api/v1/admin/patients",
            &cast.admin.token,
            "extra@home.example",
        )
        .await;
    let actors: [(&str, Option<&str>); 6] = [
        ("anonymous", None),
        ("admin", Some(&cast.admin.token)),
        ("doctor", Some(&cast.doctor.token)),
        ("other doctor", Some(&cast.other_doctor.token)),
        ("patient", Some(&cast.patient.token)),
        ("other patient", Some(&cast.other_patient.token)),
    ];
    let mut n = 0;
    let mut failures = Vec::new();
    for (method, path, body, expected) in rows(&cast, extra.patient.id) {
        for ((who, token), want) in actors.iter().zip(expected) {
            n += 1;
            let body = body.clone().or_else(|| match path.as_str() {
                "/api/v1/admin/doctors" if method == Method::POST => {
                    serde_json::to_value(doctor_body(&format!("d{n}@matrix.example"))).ok()
                }
                "/api/v1/admin/patients" if method == Method::POST => serde_json::to_value(
                    identity_only(patient_body(&format!("p{n}@matrix.example"))),
                )
                .ok(),
                "/api/v1/doctor/patients" if method == Method::POST => {
                    serde_json::to_value(patient_body(&format!("p{n}@matrix.example"))).ok()
                }
                _ => None,
            });
            let resp = app.send(method.clone(), &path, *token, body.as_ref()).await;
            let got = resp.status();
            if got != StatusCode::from_u16(want).expect("status") {
                failures.push(format!(
                    "{method} {path} as {who}: expected {want}, got {got}"
                ));
            }
            if !got.is_success() {
                let text = resp.text().await.expect("body");
                let parsed: Result<medvault_types::ErrorBody, _> = serde_json::from_str(&text);
                if parsed.is_err() {
                    failures.push(format!(
                        "{method} {path} as {who}: not an error envelope: {text}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "role matrix mismatches:\n{}",
        failures.join("\n")
    );
}
