//! Tampered storage metadata: someone with write access to the database points one record at
//! another record's manifest (and root hash). The download must be refused with an error, never
//! answered with the other record's bytes.

use medvault_tests::records::{RawDb, Upload, pdf_bytes, spawn_recording, sql_str, upload_ok};
use medvault_tests::{Backend, on_both_backends};
use reqwest::StatusCode;

async fn swapped_manifest_is_refused(backend: Backend) {
    let (app, paths) = spawn_recording(backend, |_| {}).await;
    let cast = app.cast().await;
    let patient = cast.patient.token.as_str();
    let a = upload_ok(&app, patient, &Upload::pdf(pdf_bytes(150 * 1024))).await;
    let b = upload_ok(&app, patient, &Upload::pdf(pdf_bytes(170 * 1024))).await;

    let mut db = RawDb::open(&paths);
    let manifest_b = db.texts(&format!(
        "SELECT manifest AS v FROM records WHERE id = {}",
        sql_str(&b.id.to_string())
    ));
    let root_b = db.texts(&format!(
        "SELECT root_hash AS v FROM records WHERE id = {}",
        sql_str(&b.id.to_string())
    ));
    let changed = db.execute(&format!(
        "UPDATE records SET manifest = {}, root_hash = {} WHERE id = {}",
        sql_str(&manifest_b[0]),
        sql_str(&root_b[0]),
        sql_str(&a.id.to_string())
    ));
    assert_eq!(changed, 1);

    let resp = app
        .get(&format!("/api/v1/records/{}/content", a.id), Some(patient))
        .await;
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: serde_json::Value = resp.json().await.expect("JSON error envelope");
    assert_eq!(body["error"]["code"], "internal");
    assert!(
        !body.to_string().contains("manifest"),
        "no internal detail in the body: {body}"
    );

    // The untouched record still reads back.
    let ok = app
        .get(&format!("/api/v1/records/{}/content", b.id), Some(patient))
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
}

on_both_backends!(swapped_manifest_is_refused);
