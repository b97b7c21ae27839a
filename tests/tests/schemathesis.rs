//! Schemathesis (property-based API testing from the OpenAPI spec) against the live server,
//! once per role: every phase (examples, coverage, fuzzing, stateful through the spec's
//! links), with a fixed seed and a bounded number of cases, so `make test` fails on a server
//! error, an answer that breaks its documented schema, an undocumented status or an operation
//! that ignores its authentication.
//!
//! * `MEDVAULT_TEST_SCHEMATHESIS`: the `st` executable (`scripts/schemathesis.sh install`;
//!   `make test` exports it from `scripts/schemathesis.sh path`).
//! * `MEDVAULT_SCHEMATHESIS_SEED`: another seed than the fixed one (to explore; CI keeps the
//!   fixed one so a run is repeatable).
//!
//! Reports (the `JUnit` XML and the NDJSON event stream, one per role) land in
//! `<target>/tmp/schemathesis/<role>/`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use medvault_tests::records::{self, Upload};
use medvault_tests::{
    ADMIN_PASSWORD, Backend, TestApp, USER_PASSWORD, day_long_sessions, expect_json,
};
use reqwest::StatusCode;
use serde_json::json;

/// The seed CI runs with.
const SEED: &str = "20260514";

/// Test cases per operation and phase (the fuzzing phase's budget; examples and coverage
/// generate what the schema implies).
const MAX_EXAMPLES: &str = "40";

/// A role's run may take this long before the test gives up on it (the three together are
/// meant to take about three minutes).
const RUN_TIMEOUT: Duration = Duration::from_secs(240);

/// Per-operation settings (`tests/schemathesis.toml`): where a schema-valid request may be
/// refused for a rule JSON Schema cannot state, with the rule named. Every check runs.
const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schemathesis.toml");

/// Operations left out, with the reason:
/// * `delete_session` (sign-out) ends the very token under test, so every later case would
///   be a 401 that tests nothing.
const EXCLUDED_OPERATIONS: &[&str] = &["delete_session"];

fn st_path() -> String {
    std::env::var("MEDVAULT_TEST_SCHEMATHESIS").unwrap_or_else(|_| {
        panic!(
            "MEDVAULT_TEST_SCHEMATHESIS is not set. This test runs schemathesis against the server: \
             run `scripts/schemathesis.sh install` and \
             `export MEDVAULT_TEST_SCHEMATHESIS=$(scripts/schemathesis.sh path)` (make test does both)"
        )
    })
}

/// Where a role's reports go.
fn report_dir(role: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("schemathesis")
        .join(role)
}

/// Runs `st run` against `app` with `token`; returns its exit status and output.
async fn run_schemathesis(app: &TestApp, role: &str, token: &str) -> (bool, String, Duration) {
    let dir = report_dir(role);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("report dir");
    let seed = std::env::var("MEDVAULT_SCHEMATHESIS_SEED").unwrap_or_else(|_| SEED.into());
    let mut cmd = tokio::process::Command::new(st_path());
    cmd.args(["--config-file", CONFIG])
        .arg("run")
        .arg(format!("{}/api/openapi.json", app.address))
        .args(["--url", &app.address])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--checks", "all"])
        .args(["--seed", &seed])
        .args(["--max-examples", MAX_EXAMPLES])
        // One worker: with two, hypothesis's lambda descriptions call `ast.parse` from two
        // threads at once, which CPython 3.11 can fail with "AST constructor recursion depth
        // mismatch" (seen as a schemathesis error on the admin run).
        .args(["--workers", "1"])
        .args(["--generation-database", "none"])
        .args(["--continue-on-failure"])
        .args(["--no-color"])
        .args(["--report", "junit,ndjson"])
        .arg("--report-dir")
        .arg(&dir);
    for op in EXCLUDED_OPERATIONS {
        cmd.args(["--exclude-operation-id", op]);
    }
    cmd.current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let child = cmd.spawn().expect("starting schemathesis");
    let out = tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis ({role}) ran over {RUN_TIMEOUT:?}"))
        .expect("schemathesis output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing() {
    let _ = st_path();
    let app = TestApp::spawn_with(Backend::Sqlite, day_long_sessions).await;
    let cast = app.cast().await;
    // Data for the ids the runs reach: a record, a visit note, a granted access request and
    // an open one.
    let record = records::upload_ok(
        &app,
        &cast.patient.token,
        &Upload::pdf(records::pdf_bytes(4096)),
    )
    .await;
    let note = app
        .post(
            &format!("/api/v1/doctor/patients/{}/notes", cast.patient.id),
            Some(&cast.doctor.token),
            &json!({
                "visit_date": "2026-03-14",
                "symptoms": "Tiredness",
                "diagnosis": "Iron-deficiency anaemia",
                "prescription": "Ferrous sulfate 200 mg",
                "notes": "",
            }),
        )
        .await;
    let _: serde_json::Value = expect_json(note, StatusCode::CREATED).await;
    records::grant_by_code(
        &app,
        &cast.doctor.token,
        &cast.patient.token,
        &records::access_body(cast.patient.id, Some(record.id)),
    )
    .await;
    records::request_access(
        &app,
        &cast.doctor.token,
        &records::access_body(cast.patient.id, None),
    )
    .await;

    // The admin goes last: it may reset the others' passwords, which ends their sessions.
    let mut failed = Vec::new();
    for (role, token, password) in [
        ("patient", &cast.patient.token, USER_PASSWORD),
        ("doctor", &cast.doctor.token, USER_PASSWORD),
        ("admin", &cast.admin.token, ADMIN_PASSWORD),
    ] {
        // A recent password lets the run reach the operations that ask for one.
        let resp = app
            .post(
                "/api/v1/auth/reauthenticate",
                Some(token),
                &json!({ "password": password }),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK, "re-authentication as {role}");
        let (ok, output, took) = run_schemathesis(&app, role, token).await;
        println!("==== schemathesis as {role}: {took:.0?} ====\n{output}");
        if !ok {
            failed.push(role);
        }
    }
    assert!(
        failed.is_empty(),
        "schemathesis found problems as {failed:?} (output above; reports in {})",
        report_dir("").display()
    );
}
