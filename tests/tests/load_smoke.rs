//! Smoke load (issue 15): `hey` at 50 connections for a few seconds on each read a patient
//! makes most (`/me`, `/records`, the access log) and on sign-in, against the test server on
//! each backend; every request must get a 2xx answer, none may fail. No timing is asserted
//! (the load bench, `make bench`, measures); this catches errors that only concurrency shows
//! (pool exhaustion, `database is locked`, lost writes of the ledger append) in `make test`.
//!
//! Needs `hey` (`MEDVAULT_TEST_HEY` or on `PATH`; `make test` installs it) and fails without it.
//! Both backends together take about 15 s.

use std::time::Duration;

use medvault_tests::load::{Api, Hey, HeyReport, Load, SeedPlan, seed, unthrottled};
use medvault_tests::{Backend, TestApp, USER_PASSWORD, on_both_backends};

/// Connections of each run.
const CONNECTIONS: usize = 50;
/// Length of each read run.
const READ_RUN: Duration = Duration::from_secs(2);

fn assert_clean(what: &str, report: &HeyReport) {
    assert!(report.responses() > 0, "{what}: no response at all");
    assert_eq!(
        (report.errors, report.non_2xx()),
        (0, 0),
        "{what}: requests failed or answered non-2xx: statuses {:?}, errors {:?}",
        report.statuses,
        report.error_lines
    );
}

async fn smoke_load(backend: Backend) {
    let hey = Hey::require();
    let app = TestApp::spawn_with(backend, |config| unthrottled(&mut config.auth)).await;
    let api = Api::new(app.address.clone());
    let plan = SeedPlan {
        patients: 3,
        records_per_patient: 3,
        concurrency: 3,
        record_bytes: 1024,
    };
    let seeded = seed(&api, &plan).await;
    let patient = &seeded.patients[0];
    let page: medvault_types::Page<medvault_types::RecordMeta> = app
        .get("/api/v1/records", Some(&patient.token))
        .await
        .json()
        .await
        .expect("records page");
    assert_eq!(page.total, 3, "the seeded records are listed");
    for path in ["/api/v1/me", "/api/v1/records", "/api/v1/me/access-log"] {
        let report = hey
            .run(&Load::get(
                api.url(path),
                Some(&patient.token),
                CONNECTIONS,
                READ_RUN,
            ))
            .await;
        assert_clean(&format!("GET {path} ({backend:?})"), &report);
    }
    // Every listing was ledgered: the chain still verifies after the concurrent appends.
    let admin = app.admin_token().await;
    let verification: medvault_types::LedgerVerification = app
        .get("/api/v1/admin/ledger/verify", Some(&admin))
        .await
        .json()
        .await
        .expect("verification");
    assert!(verification.ok, "ledger after the load: {verification:?}");
    let login = serde_json::json!({"email": patient.email, "password": USER_PASSWORD});
    let report = hey
        .run(&Load::post_json(
            api.url("/api/v1/auth/login"),
            &login,
            10,
            Duration::from_secs(2),
        ))
        .await;
    assert_clean(&format!("POST /api/v1/auth/login ({backend:?})"), &report);
}

on_both_backends!(smoke_load);
