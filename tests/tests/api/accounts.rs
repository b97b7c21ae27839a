//! The foundation journey, management endpoints, validation.

use medvault_tests::{
    Backend, TestApp, USER_PASSWORD, doctor_body, expect_error, expect_json, identity_only,
    on_both_backends, patient_body, shown,
};
use medvault_types::{Doctor, Page, Patient, TemporaryPassword, User};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(
    journey,
    admin_manages_accounts,
    validation_names_fields,
    must_change_password_gates,
    common_passwords_are_refused,
);

/// Admin creates a doctor; the doctor signs in, changes the password and creates a patient;
/// the patient signs in and sees their profile.
async fn journey(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_token().await;
    let created = app
        .create_doctor(&admin, "Grace.Okafor@Clinic.example")
        .await;
    assert_eq!(created.doctor.email, "grace.okafor@clinic.example");
    assert!(created.doctor.must_change_password);
    assert!(shown(&created.temporary_password).len() >= 16);

    let doctor = app
        .activate(
            "grace.okafor@clinic.example",
            shown(&created.temporary_password),
        )
        .await;
    // The temporary password is gone; the new one works.
    assert!(
        app.try_login(
            "grace.okafor@clinic.example",
            shown(&created.temporary_password)
        )
        .await
        .is_err()
    );
    let doctor_again = app
        .login("GRACE.okafor@clinic.example", USER_PASSWORD)
        .await;
    assert!(!doctor_again.user.must_change_password);

    let patient = app
        .create_patient(
            "/api/v1/doctor/patients",
            &doctor.access_token,
            "amara@home.example",
        )
        .await;
    assert!(patient.patient.mrn.starts_with("MRN-"));
    assert_eq!(patient.patient.doctor_ids, vec![doctor.user.id]);

    let patient_tokens = app
        .activate("amara@home.example", shown(&patient.temporary_password))
        .await;
    let me: User = expect_json(
        app.get("/api/v1/me", Some(&patient_tokens.access_token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me.role, medvault_types::Role::Patient);
    assert!(!me.must_change_password);
    let profile: Patient = expect_json(
        app.get("/api/v1/me/profile", Some(&patient_tokens.access_token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(profile.mrn, patient.patient.mrn);
    assert_eq!(profile.first_name, "Amara");

    // The patient edits contact fields only.
    let resp = app
        .send(
            Method::PATCH,
            "/api/v1/me/profile",
            Some(&patient_tokens.access_token),
            Some(&json!({"phone": "+234 803 555 0142", "city": null})),
        )
        .await;
    let updated: Patient = expect_json(resp, StatusCode::OK).await;
    assert_eq!(updated.phone.as_deref(), Some("+234 803 555 0142"));
    assert_eq!(updated.city, None);
    let resp = app
        .send(
            Method::PATCH,
            "/api/v1/me/profile",
            Some(&patient_tokens.access_token),
            Some(&json!({"first_name": "Eve"})),
        )
        .await;
    expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY).await;

    // The doctor sees the patient in their list and by id; search works.
    let list: Page<Patient> = expect_json(
        app.get("/api/v1/doctor/patients?q=nwo", Some(&doctor.access_token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!((list.total, list.items[0].id), (1, patient.patient.id));
    let none: Page<Patient> = expect_json(
        app.get("/api/v1/doctor/patients?q=zzz", Some(&doctor.access_token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(none.total, 0);
    let one: Patient = expect_json(
        app.get(
            &format!("/api/v1/doctor/patients/{}", patient.patient.id),
            Some(&doctor.access_token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one.email, "amara@home.example");
}

#[expect(clippy::too_many_lines, reason = "one scenario, read top to bottom")]
async fn admin_manages_accounts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_token().await;
    for n in 0..5 {
        app.create_doctor(&admin, &format!("doc{n}@clinic.example"))
            .await;
    }
    // Duplicate email (any case) is 409.
    let resp = app
        .post(
            "/api/v1/admin/doctors",
            Some(&admin),
            &doctor_body("DOC1@clinic.example"),
        )
        .await;
    expect_error(resp, StatusCode::CONFLICT).await;
    let resp = app
        .post(
            "/api/v1/admin/patients",
            Some(&admin),
            &identity_only(patient_body("doc2@clinic.example")),
        )
        .await;
    expect_error(resp, StatusCode::CONFLICT).await;

    // Pagination and search.
    let page: Page<Doctor> = expect_json(
        app.get("/api/v1/admin/doctors?page=2&per_page=2", Some(&admin))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (page.total, page.page, page.per_page, page.items.len()),
        (5, 2, 2, 2)
    );
    let capped: Page<Doctor> = expect_json(
        app.get("/api/v1/admin/doctors?per_page=5000", Some(&admin))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(capped.per_page, 100);
    let found: Page<Doctor> = expect_json(
        app.get("/api/v1/admin/doctors?q=DOC3", Some(&admin)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(found.total, 1);
    let wildcard: Page<Doctor> = expect_json(
        app.get("/api/v1/admin/doctors?q=%25", Some(&admin)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(wildcard.total, 0, "a literal % must not match everything");

    // Update a doctor.
    let id = found.items[0].id;
    let resp = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/doctors/{id}"),
            Some(&admin),
            Some(&json!({"specialty": "Neurology", "phone": null})),
        )
        .await;
    let doctor: Doctor = expect_json(resp, StatusCode::OK).await;
    assert_eq!(
        (doctor.specialty.as_str(), doctor.phone),
        ("Neurology", None)
    );

    // Patients: admin-created patient, assign, unassign.
    let p = app
        .create_patient("/api/v1/admin/patients", &admin, "pat@home.example")
        .await;
    assert!(p.patient.doctor_ids.is_empty());
    let pid = p.patient.id;
    let assign = format!("/api/v1/admin/patients/{pid}/doctors/{id}");
    assert_eq!(
        app.send(Method::PUT, &assign, Some(&admin), None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.send(Method::PUT, &assign, Some(&admin), None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let got: Patient = expect_json(
        app.get(&format!("/api/v1/admin/patients/{pid}"), Some(&admin))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got.doctor_ids, vec![id]);
    assert_eq!(
        app.send(Method::DELETE, &assign, Some(&admin), None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    expect_error(
        app.send(Method::DELETE, &assign, Some(&admin), None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Assigning a patient as a doctor (wrong role ids) is 404.
    let swapped = format!("/api/v1/admin/patients/{id}/doctors/{pid}");
    expect_error(
        app.send(Method::PUT, &swapped, Some(&admin), None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // A doctor id is not a patient id and vice versa.
    expect_error(
        app.get(&format!("/api/v1/admin/patients/{id}"), Some(&admin))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        app.get(&format!("/api/v1/admin/doctors/{pid}"), Some(&admin))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Admin patch of a patient: identity and contact fields, with a clear. Clinical fields
    // are refused (even a clear), and the admin's view carries none.
    let resp = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/patients/{pid}"),
            Some(&admin),
            Some(&json!({"blood_group": "AB-", "allergies": null, "height_cm": 170.5})),
        )
        .await;
    let refused = expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let fields = refused.error.fields.expect("fields");
    for field in ["blood_group", "allergies", "height_cm"] {
        assert!(fields.contains_key(field), "{field} refused: {fields:?}");
    }
    let resp = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/patients/{pid}"),
            Some(&admin),
            Some(&json!({"last_name": "Okoro", "phone": null})),
        )
        .await;
    let patched: Patient = expect_json(resp, StatusCode::OK).await;
    assert_eq!((patched.last_name.as_str(), patched.phone), ("Okoro", None));
    assert_eq!(
        (
            patched.blood_group,
            patched.allergies,
            patched.height_cm,
            patched.weight_kg
        ),
        (None, None, None, None),
        "no clinical fields for admins"
    );

    // Reset password returns a new temporary password that must be changed.
    let reset: TemporaryPassword = expect_json(
        app.send(
            Method::POST,
            &format!("/api/v1/admin/users/{pid}/reset-password"),
            Some(&admin),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let tokens = app
        .login("pat@home.example", shown(&reset.temporary_password))
        .await;
    assert!(tokens.user.must_change_password);
    assert!(
        app.try_login("pat@home.example", shown(&p.temporary_password))
            .await
            .is_err()
    );

    // Admins cannot deactivate or reset themselves.
    let me: User = expect_json(app.get("/api/v1/me", Some(&admin)).await, StatusCode::OK).await;
    expect_error(
        app.send(
            Method::POST,
            &format!("/api/v1/admin/users/{}/deactivate", me.id),
            Some(&admin),
            None,
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let unknown = uuid::Uuid::new_v4();
    expect_error(
        app.send(
            Method::POST,
            &format!("/api/v1/admin/users/{unknown}/deactivate"),
            Some(&admin),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

async fn validation_names_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_token().await;
    let resp = app
        .post(
            "/api/v1/admin/doctors",
            Some(&admin),
            &json!({
                "email": "not-an-email", "full_name": "  ", "specialty": "x".repeat(101),
                "licence_number": "!", "phone": "call me"
            }),
        )
        .await;
    let err = expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(err.error.code, "validation_failed");
    let fields = err.error.fields.expect("fields");
    for f in ["email", "full_name", "specialty", "licence_number", "phone"] {
        assert!(fields.contains_key(f), "missing {f}: {fields:?}");
    }

    let mut bad = serde_json::to_value(patient_body("p@home.example")).expect("json");
    bad["date_of_birth"] = json!("2999-01-01");
    bad["height_cm"] = json!(1000);
    bad["weight_kg"] = json!(-3);
    bad["postal_code"] = json!("!!");
    bad["allergies"] = json!("a".repeat(1001));
    let err = expect_error(
        app.post("/api/v1/admin/patients", Some(&admin), &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields = err.error.fields.expect("fields");
    for f in [
        "date_of_birth",
        "height_cm",
        "weight_kg",
        "postal_code",
        "allergies",
    ] {
        assert!(fields.contains_key(f), "missing {f}: {fields:?}");
    }
    // Nothing was created.
    let list: Page<Patient> = expect_json(
        app.get("/api/v1/admin/patients", Some(&admin)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list.total, 0);

    // Wrong enum values and unknown fields are 422 too.
    let mut wrong = serde_json::to_value(patient_body("p@home.example")).expect("json");
    wrong["sex"] = json!("robot");
    expect_error(
        app.post("/api/v1/admin/patients", Some(&admin), &wrong)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut extra = serde_json::to_value(patient_body("p@home.example")).expect("json");
    extra["is_admin"] = json!(true);
    expect_error(
        app.post("/api/v1/admin/patients", Some(&admin), &extra)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    // Paging parameters.
    expect_error(
        app.get("/api/v1/admin/doctors?page=0", Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    expect_error(
        app.get("/api/v1/admin/doctors?per_page=0", Some(&admin))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    expect_error(
        app.get("/api/v1/admin/doctors?page=abc", Some(&admin))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // Weak new password.
    let resp = app
        .post(
            "/api/v1/me/password",
            Some(&admin),
            &json!({"current_password": medvault_tests::ADMIN_PASSWORD, "new_password": "short"}),
        )
        .await;
    let err = expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        err.error
            .fields
            .expect("fields")
            .contains_key("new_password")
    );
}

/// Long enough but common: refused by the strength estimate, with the reason.
async fn common_passwords_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_token().await;
    for common in ["password1234", "qwertyuiop12"] {
        let resp = app
            .post(
                "/api/v1/me/password",
                Some(&admin),
                &json!({"current_password": medvault_tests::ADMIN_PASSWORD, "new_password": common}),
            )
            .await;
        let err = expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
        let message = err.error.fields.expect("fields")["new_password"].clone();
        assert!(
            message.starts_with("is too easy to guess"),
            "{common}: {message}"
        );
    }
}

async fn must_change_password_gates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_token().await;
    let d = app.create_doctor(&admin, "new@clinic.example").await;
    let tokens = app
        .login("new@clinic.example", shown(&d.temporary_password))
        .await;
    let err = expect_error(
        app.get("/api/v1/doctor/patients", Some(&tokens.access_token))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(err.error.code, "password_change_required");
    let me: User = expect_json(
        app.get("/api/v1/me", Some(&tokens.access_token)).await,
        StatusCode::OK,
    )
    .await;
    assert!(me.must_change_password);
    let resp = app
        .post(
            "/api/v1/me/password",
            Some(&tokens.access_token),
            &json!({"current_password": "wrong wrong wrong", "new_password": USER_PASSWORD}),
        )
        .await;
    let err = expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        err.error
            .fields
            .expect("fields")
            .contains_key("current_password")
    );
    let resp = app
        .post(
            "/api/v1/me/password",
            Some(&tokens.access_token),
            &json!({"current_password": d.temporary_password, "new_password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/doctor/patients", Some(&tokens.access_token))
            .await
            .status(),
        StatusCode::OK
    );
}
