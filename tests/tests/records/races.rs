//! Races: fifty concurrent requests on one consent transition or one quota, on both backends.
//! Exactly one outcome wins, the others get a clear 409 (or the refusal their state implies),
//! and every counter and ledger count is exact.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use medvault_server::config::Config;
use medvault_tests::records::{
    Upload, access_body, assert_ledger_ok, ledger_all, my_storage, patient_view, pdf_bytes,
    pending_code, redeem, request_access, spawn_recording, upload, wrong_code,
};
use medvault_tests::{Backend, Cast, TestApp, on_both_backends};
use medvault_types::consent::{AccessRequest, AccessRequestStatus};
use reqwest::{Method, Response};
use serde_json::{Value, json};

on_both_backends!(
    fifty_redeems_of_one_code_grant_once,
    approve_and_deny_race_to_one_outcome,
    wrong_codes_are_counted_exactly,
    fifty_revokes_ledger_one_revocation,
    quota_holds_under_fifty_uploads,
);

/// Concurrent requests per race.
const RACERS: usize = 50;

/// Each answer as "status code" or "status error-code", counted.
async fn outcomes(resps: Vec<Response>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in resps {
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        let key = match body["error"]["code"].as_str() {
            Some(code) if status >= 400 => format!("{status} {code}"),
            _ => status.to_string(),
        };
        *out.entry(key).or_default() += 1;
    }
    out
}

/// The expected tally, from `(key, count)` pairs.
fn tally(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| ((*k).to_owned(), *n))
        .collect()
}

/// An app (after `tweak`), its cast, and a pending request of the doctor for the patient.
async fn open_request(
    backend: Backend,
    tweak: impl FnOnce(&mut Config),
) -> (TestApp, Cast, AccessRequest) {
    let (app, _) = spawn_recording(backend, tweak).await;
    let cast = app.cast().await;
    let body = access_body(cast.patient.id, None);
    let req = request_access(&app, &cast.doctor.token, &body).await;
    (app, cast, req)
}

/// How many grants the user with `token` sees.
async fn grant_count(app: &TestApp, token: &str) -> usize {
    let grants: Value = app
        .get("/api/v1/grants", Some(token))
        .await
        .json()
        .await
        .expect("grants");
    grants["items"]
        .as_array()
        .map(Vec::len)
        .expect("a page of grants")
}

/// How many ledger entries carry `action`.
async fn ledgered(app: &TestApp, admin: &str, action: &str) -> usize {
    ledger_all(app, admin)
        .await
        .iter()
        .filter(|e| e.action == action)
        .count()
}

/// Fifty redemptions of the right code: one grant, 49 conflicts, one `consent.grant` entry.
async fn fifty_redeems_of_one_code_grant_once(backend: Backend) {
    let (app, cast, req) = open_request(backend, |_| {}).await;
    let code = pending_code(&app, &cast.patient.token, req.id).await;
    let resps =
        join_all((0..RACERS).map(|_| redeem(&app, &cast.doctor.token, req.id, &code))).await;
    assert_eq!(
        outcomes(resps).await,
        tally(&[("200", 1), ("409 conflict", RACERS - 1)])
    );
    assert_eq!(ledgered(&app, &cast.admin.token, "consent.grant").await, 1);
    assert_eq!(grant_count(&app, &cast.doctor.token).await, 1);
    assert_ledger_ok(&app, &cast.admin.token).await;
}

/// Twenty-five approvals race twenty-five denials: one of them decides, the other 49 get 409,
/// and the request's state agrees with the ledger and the grants.
async fn approve_and_deny_race_to_one_outcome(backend: Backend) {
    let (app, cast, req) = open_request(backend, |_| {}).await;
    let resps = join_all((0..RACERS).map(|i| {
        let verb = if i % 2 == 0 { "approve" } else { "deny" };
        let path = format!("/api/v1/access-requests/{}/{verb}", req.id);
        let app = &app;
        let token = cast.patient.token.clone();
        async move { app.post(&path, Some(&token), &json!({})).await }
    }))
    .await;
    assert_eq!(
        outcomes(resps).await,
        tally(&[("200", 1), ("409 conflict", RACERS - 1)])
    );
    let granted = ledgered(&app, &cast.admin.token, "consent.grant").await;
    let denied = ledgered(&app, &cast.admin.token, "consent.deny").await;
    assert_eq!(granted + denied, 1, "grant {granted}, deny {denied}");
    let view = patient_view(&app, &cast.patient.token, req.id).await;
    let want = if granted == 1 {
        AccessRequestStatus::Granted
    } else {
        AccessRequestStatus::Denied
    };
    assert_eq!(view.status, want);
    assert_eq!(grant_count(&app, &cast.patient.token).await, granted);
    assert_ledger_ok(&app, &cast.admin.token).await;
}

/// Fifty wrong codes at once: exactly `max_attempts` are counted (and ledgered), the request
/// locks once, and every answer after the lock is 423.
async fn wrong_codes_are_counted_exactly(backend: Backend) {
    const MAX: usize = 5;
    let (app, cast, req) = open_request(backend, |c| {
        c.consent.max_attempts = 5;
        // The doctor-wide limit stays out of the way: this race is about the request's count.
        c.consent.doctor_failures_per_window = 1_000;
    })
    .await;
    let wrong = wrong_code(&pending_code(&app, &cast.patient.token, req.id).await);
    let resps =
        join_all((0..RACERS).map(|_| redeem(&app, &cast.doctor.token, req.id, &wrong))).await;
    assert_eq!(
        outcomes(resps).await,
        tally(&[
            ("422 wrong_code", MAX - 1),
            ("423 locked", RACERS - MAX + 1)
        ])
    );
    assert_eq!(
        ledgered(&app, &cast.admin.token, "consent.code_failed").await,
        MAX
    );
    assert_eq!(ledgered(&app, &cast.admin.token, "consent.locked").await, 1);
    let view = patient_view(&app, &cast.patient.token, req.id).await;
    assert_eq!(view.status, AccessRequestStatus::Locked);
    assert_ledger_ok(&app, &cast.admin.token).await;
}

/// Fifty revocations of one grant: every one answers with the revoked grant, and the ledger
/// holds one revocation.
async fn fifty_revokes_ledger_one_revocation(backend: Backend) {
    let (app, cast, req) = open_request(backend, |_| {}).await;
    let code = pending_code(&app, &cast.patient.token, req.id).await;
    let grant: Value = redeem(&app, &cast.doctor.token, req.id, &code)
        .await
        .json()
        .await
        .expect("grant");
    let path = format!("/api/v1/grants/{}", grant["id"].as_str().expect("id"));
    let resps = join_all(
        (0..RACERS).map(|_| app.send(Method::DELETE, &path, Some(&cast.patient.token), None)),
    )
    .await;
    assert_eq!(outcomes(resps).await, tally(&[("200", RACERS)]));
    assert_eq!(ledgered(&app, &cast.admin.token, "consent.revoke").await, 1);
    assert_ledger_ok(&app, &cast.admin.token).await;
}

/// Fifty uploads against a quota with room for ten: exactly ten are kept, the rest get 413,
/// and the patient's usage is exactly ten files.
async fn quota_holds_under_fifty_uploads(backend: Backend) {
    const FILE: usize = 20_000;
    const FIT: usize = 10;
    let (app, _) = spawn_recording(backend, |c| {
        c.records.quota_bytes = (FILE * FIT + FILE / 2) as u64;
    })
    .await;
    let cast = app.cast().await;
    let files: Vec<Upload> = (0..RACERS).map(|_| Upload::pdf(pdf_bytes(FILE))).collect();
    let resps = join_all(
        files
            .iter()
            .map(|f| upload(&app, Some(&cast.patient.token), f)),
    )
    .await;
    assert_eq!(
        outcomes(resps).await,
        tally(&[("201", FIT), ("413 quota_exceeded", RACERS - FIT)])
    );
    let usage = my_storage(&app, &cast.patient.token).await;
    assert_eq!(usage.used_bytes, (FILE * FIT) as u64);
    assert_eq!(
        ledgered(&app, &cast.admin.token, "record.upload").await,
        FIT
    );
    assert_ledger_ok(&app, &cast.admin.token).await;
}
