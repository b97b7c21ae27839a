//! The mission's core journey: upload, request, wrong code, right code, byte-identical
//! download, revoke, refused download, the patient's access log, a verifying ledger; then the
//! clinical history and what is (not) stored in plaintext.

use medvault_tests::records::{
    AppPaths, RawDb, TEST_STRIPE, Upload, access_body, assert_ledger_ok, assert_linked,
    contains_bytes, download, download_identical, expect_code, ledger_all, my_records, my_storage,
    patient_view, pdf_bytes, redeem, request_access, spawn_recording, stored_files, upload_ok,
    wrong_code,
};
use medvault_tests::{Backend, TestApp, expect_json, on_both_backends};
use medvault_types::Page;
use medvault_types::consent::{AccessLogEntry, AccessRequestStatus, Grant};
use medvault_types::history::{History, HistoryItem, VisitNote};
use medvault_types::records::{RecordCategory, RecordMeta};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(full_journey, clinical_history, nothing_sensitive_at_rest);

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
async fn full_journey(backend: Backend) {
    let (app, _) = spawn_recording(backend, |_| {}).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);

    // The patient uploads a few hundred KiB (more than one stripe).
    let bytes = pdf_bytes(TEST_STRIPE + 123_457);
    let mut up = Upload::pdf(bytes.clone());
    up.notes = Some("Fasting sample, taken at 08:10".into());
    let meta = upload_ok(&app, &patient.token, &up).await;
    assert_eq!(meta.patient_id, patient.id);
    assert_eq!(meta.content_type, "application/pdf");
    assert_eq!(meta.file_name, "blood-panel.pdf");
    assert_eq!(meta.category, RecordCategory::LabReport);
    assert_eq!(meta.title, "Full blood count");
    assert_eq!(
        meta.notes.as_deref(),
        Some("Fasting sample, taken at 08:10")
    );
    assert_eq!(
        my_storage(&app, &patient.token).await.used_bytes,
        bytes.len() as u64
    );

    // The doctor (in care, no grant yet) lists metadata (no bytes) and reads one record's
    // metadata: the record's notes are withheld until a grant covers the record.
    let withheld = RecordMeta {
        notes: None,
        notes_withheld: true,
        ..meta.clone()
    };
    let list: Page<RecordMeta> = expect_json(
        app.get(
            &format!("/api/v1/records?patient_id={}", patient.id),
            Some(&doctor.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list.total, 1);
    assert_eq!(list.items, vec![withheld.clone()]);
    let one: RecordMeta = expect_json(
        app.get(&format!("/api/v1/records/{}", meta.id), Some(&doctor.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one, withheld);

    // Without consent the doctor cannot download.
    expect_code(
        download(&app, Some(&doctor.token), meta.id).await,
        StatusCode::FORBIDDEN,
        "no_grant",
    )
    .await;

    // The doctor asks; the code is in the patient's inbox only.
    let req = request_access(&app, &doctor.token, &access_body(patient.id, Some(meta.id))).await;
    assert_eq!(req.status, AccessRequestStatus::Pending);
    assert_eq!(req.record_id, Some(meta.id));
    assert_eq!(req.record_title.as_deref(), Some("Full blood count"));
    let doctor_list: Page<medvault_types::consent::AccessRequest> = expect_json(
        app.get("/api/v1/access-requests", Some(&doctor.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        doctor_list.items.iter().all(|r| r.code.is_none()),
        "a doctor's list shows a code"
    );
    let doctor_one: medvault_types::consent::AccessRequest = expect_json(
        app.get(
            &format!("/api/v1/access-requests/{}", req.id),
            Some(&doctor.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        doctor_one.code, None,
        "a doctor's view of one request shows the code"
    );
    let inbox = patient_view(&app, &patient.token, req.id).await;
    let code = inbox.code.clone().expect("the patient sees the code");
    assert_eq!(code.len(), 8);
    assert_eq!(
        inbox.reason,
        "Follow-up of anaemia; need the latest blood count"
    );

    // Wrong code: 422, counted.
    expect_code(
        redeem(&app, &doctor.token, req.id, &wrong_code(&code)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_code",
    )
    .await;
    assert_eq!(
        patient_view(&app, &patient.token, req.id)
            .await
            .failed_attempts,
        1
    );

    // Right code: a live grant for that record.
    let grant: Grant = expect_json(
        redeem(&app, &doctor.token, req.id, &code).await,
        StatusCode::OK,
    )
    .await;
    assert!(grant.active);
    assert_eq!(grant.record_id, Some(meta.id));
    assert_eq!(grant.doctor_id, doctor.id);
    assert_eq!(grant.patient_id, patient.id);
    assert_eq!(grant.downloads_used, 0);
    assert!(grant.max_downloads >= 1);
    let minutes = (grant.expires_at - grant.created_at).num_minutes();
    assert!(
        (119..=121).contains(&minutes),
        "grant lasts the 2 hours asked for, got {minutes} minutes"
    );
    // The request is decided: the same code again is a conflict, and the code is gone.
    expect_code(
        redeem(&app, &doctor.token, req.id, &code).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    let decided = patient_view(&app, &patient.token, req.id).await;
    assert_eq!(decided.status, AccessRequestStatus::Granted);
    assert_eq!(decided.grant_id, Some(grant.id));
    assert_eq!(decided.code, None, "a used code is no longer shown");

    // Download: byte-identical (SHA-256 of the upload, RecordMeta.sha256, Repr-Digest).
    let got = download_identical(&app, &doctor.token, &meta, &bytes).await;
    let cd = got.header("content-disposition");
    assert!(cd.contains("blood-panel.pdf"), "Content-Disposition {cd:?}");

    // The patient sees the grant used once, and revokes it.
    let grants: Page<Grant> = expect_json(
        app.get("/api/v1/grants", Some(&patient.token)).await,
        StatusCode::OK,
    )
    .await;
    let mine = grants
        .items
        .iter()
        .find(|g| g.id == grant.id)
        .expect("grant in the patient's list");
    assert_eq!(mine.downloads_used, 1);
    let revoked: Grant = expect_json(
        app.send(
            Method::DELETE,
            &format!("/api/v1/grants/{}", grant.id),
            Some(&patient.token),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(!revoked.active);
    assert!(revoked.revoked_at.is_some());

    // Download refused now.
    expect_code(
        download(&app, Some(&doctor.token), meta.id).await,
        StatusCode::FORBIDDEN,
        "no_grant",
    )
    .await;

    // The access log lists the download and the refusals, with who and whether allowed.
    let log = access_log(&app, &patient.token).await;
    let of = |action: &str| {
        log.iter()
            .filter(|e| e.action == action)
            .collect::<Vec<_>>()
    };
    let downloads = of("record.download");
    assert_eq!(downloads.len(), 1, "one download by the doctor: {log:?}");
    assert_eq!(downloads[0].actor_id, Some(doctor.id));
    assert_eq!(downloads[0].record_id, Some(meta.id));
    assert_eq!(
        downloads[0].record_title.as_deref(),
        Some("Full blood count")
    );
    assert!(downloads[0].allowed);
    assert_eq!(downloads[0].actor_name.as_deref(), Some("Dr Grace Okafor"));
    let denied = of("record.download_denied");
    assert_eq!(
        denied.len(),
        2,
        "refused before consent and after revocation: {log:?}"
    );
    assert!(
        denied
            .iter()
            .all(|e| !e.allowed && e.actor_id == Some(doctor.id) && e.record_id == Some(meta.id))
    );
    for action in [
        "consent.request",
        "consent.code_failed",
        "consent.grant",
        "consent.revoke",
    ] {
        assert_eq!(of(action).len(), 1, "{action} in the access log: {log:?}");
    }
    assert!(!of("consent.code_failed")[0].allowed);
    // Newest first, and the refusal after revocation is the newest.
    assert!(
        log.windows(2).all(|w| w[0].seq > w[1].seq),
        "access log not newest first"
    );
    assert_eq!(log[0].action, "record.download_denied");

    // The owner downloads freely.
    download_identical(&app, &patient.token, &meta, &bytes).await;

    // The admin verifies the chain; it records the upload with its manifest root.
    let v = assert_ledger_ok(&app, &cast.admin.token).await;
    let entries = ledger_all(&app, &cast.admin.token).await;
    assert_linked(&entries);
    assert_eq!(v.entries, entries.len() as u64);
    assert_eq!(
        v.head_hash.as_deref(),
        entries.last().map(|e| e.hash.as_str())
    );
    let uploads: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "record.upload")
        .collect();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].subject, format!("record:{}", meta.id));
    assert!(
        uploads[0]
            .payload
            .get("manifest_root")
            .and_then(|v| v.as_str())
            .is_some_and(|s| s.len() == 64)
    );
    // Payloads hold ids and hashes: not the title, notes, or file name.
    for e in &entries {
        let text = e.payload.to_string();
        for secret in [
            "Full blood count",
            "Fasting sample",
            "blood-panel",
            code.as_str(),
        ] {
            assert!(
                !text.contains(secret),
                "ledger payload of {} leaks {secret:?}",
                e.seq
            );
        }
    }
    let filtered: medvault_types::ledger::LedgerPage = expect_json(
        app.get(
            "/api/v1/admin/ledger?action=record.download_denied&limit=1",
            Some(&cast.admin.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(filtered.items.len(), 1);
    assert_eq!(filtered.items[0].action, "record.download_denied");
    assert!(
        filtered.next_before.is_some(),
        "a second denied entry is on the next page"
    );

    // Deleting: 404 for everyone at once, storage freed, ledger still verifies.
    let resp = app
        .send(
            Method::DELETE,
            &format!("/api/v1/records/{}", meta.id),
            Some(&patient.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for token in [&patient.token, &doctor.token] {
        expect_code(
            app.get(&format!("/api/v1/records/{}", meta.id), Some(token))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // Admins never read records, deleted or not.
    expect_code(
        app.get(
            &format!("/api/v1/records/{}", meta.id),
            Some(&cast.admin.token),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_code(
        download(&app, Some(&patient.token), meta.id).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(my_records(&app, &patient.token).await.total, 0);
    assert_eq!(my_storage(&app, &patient.token).await.used_bytes, 0);
    let v = assert_ledger_ok(&app, &cast.admin.token).await;
    let newest: Vec<String> = ledger_all(&app, &cast.admin.token)
        .await
        .split_off(entries.len())
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(v.entries, (entries.len() + newest.len()) as u64);
    assert_eq!(
        newest,
        ["record.delete", "record.list"],
        "the delete, then the patient's (empty) list read"
    );
}

async fn clinical_history(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);
    let note = json!({
        "visit_date": "2026-03-15",
        "symptoms": "Fatigue for three weeks, pale conjunctivae",
        "diagnosis": "Iron-deficiency anaemia",
        "prescription": "Ferrous sulfate 200 mg twice daily",
        "notes": "Review in six weeks with a repeat blood count.",
    });
    let path = format!("/api/v1/doctor/patients/{}/notes", patient.id);
    let created: VisitNote = expect_json(
        app.post(&path, Some(&doctor.token), &note).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created.patient_id, patient.id);
    assert_eq!(created.doctor_id, doctor.id);
    assert_eq!(created.diagnosis, "Iron-deficiency anaemia");
    // Invalid notes: 422 naming the fields.
    let bad = json!({"visit_date": "2999-01-01", "symptoms": "", "diagnosis": "x", "prescription": "", "notes": ""});
    let err = expect_code(
        app.post(&path, Some(&doctor.token), &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields = err.error.fields.expect("fields");
    assert!(
        fields.contains_key("visit_date") && fields.contains_key("symptoms"),
        "{fields:?}"
    );
    // A doctor outside the patient's care can neither write nor read.
    expect_code(
        app.post(&path, Some(&cast.other_doctor.token), &note).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_code(
        app.get(&path, Some(&cast.other_doctor.token)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let doctor_view: Vec<VisitNote> =
        expect_json(app.get(&path, Some(&doctor.token)).await, StatusCode::OK).await;
    assert_eq!(doctor_view, vec![created.clone()]);
    let mine: Vec<VisitNote> = expect_json(
        app.get("/api/v1/me/notes", Some(&patient.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine, vec![created.clone()]);
    let theirs: Vec<VisitNote> = expect_json(
        app.get("/api/v1/me/notes", Some(&cast.other_patient.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(theirs.is_empty(), "another patient sees foreign notes");

    // The timeline merges notes and records, newest date first.
    let mut older = Upload::pdf(pdf_bytes(2_000));
    older.report_date = Some("2026-01-05".into());
    let older = upload_ok(&app, &patient.token, &older).await;
    let mut newer = Upload::pdf(pdf_bytes(3_000));
    newer.report_date = Some("2026-04-01".into());
    let newer = upload_ok(&app, &patient.token, &newer).await;
    let history: History = expect_json(
        app.get("/api/v1/me/history", Some(&patient.token)).await,
        StatusCode::OK,
    )
    .await;
    let timeline: Vec<String> = history
        .items
        .iter()
        .map(|i| match i {
            HistoryItem::Note(n) => format!("note:{}", n.id),
            HistoryItem::Record(r) => format!("record:{}", r.id),
        })
        .collect();
    assert_eq!(
        timeline,
        vec![
            format!("record:{}", newer.id),
            format!("note:{}", created.id),
            format!("record:{}", older.id)
        ]
    );
    // The note is in the patient's access log as written by the doctor.
    let log = access_log(&app, &patient.token).await;
    assert!(
        log.iter()
            .any(|e| e.action == "note.add" && e.actor_id == Some(doctor.id)),
        "{log:?}"
    );
    assert_ledger_ok(&app, &cast.admin.token).await;
}

/// Notes, record notes, codes and TOTP secrets are sealed in the database; shards in the
/// directory buckets never hold plaintext.
async fn nothing_sensitive_at_rest(backend: Backend) {
    let (app, paths): (TestApp, AppPaths) = spawn_recording(backend, |_| {}).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);
    let marker = b"PLAINTEXT-MARKER-7f3a9c0e1d2b4a6f";
    let mut bytes = pdf_bytes(TEST_STRIPE * 2 + 17);
    for at in [100, TEST_STRIPE + 5, bytes.len() - marker.len() - 1] {
        bytes[at..at + marker.len()].copy_from_slice(marker);
    }
    let files_before = stored_files(&paths.data_dir);
    let mut up = Upload::pdf(bytes.clone());
    up.notes = Some("Suspected coeliac disease".into());
    let meta = upload_ok(&app, &patient.token, &up).await;
    let note = json!({"visit_date": "2026-03-15", "symptoms": "Chronic diarrhoea", "diagnosis": "Coeliac disease",
        "prescription": "Gluten-free diet", "notes": "Refer to dietician"});
    let resp = app
        .post(
            &format!("/api/v1/doctor/patients/{}/notes", patient.id),
            Some(&doctor.token),
            &note,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let req = request_access(&app, &doctor.token, &access_body(patient.id, Some(meta.id))).await;
    let code = patient_view(&app, &patient.token, req.id)
        .await
        .code
        .expect("code");
    let enrol: medvault_types::consent::TotpEnrollment = expect_json(
        app.post("/api/v1/me/totp", Some(&patient.token), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let secret_raw = totp_rs::Secret::Encoded(enrol.secret_base32.clone())
        .to_bytes()
        .expect("base32");

    let mut db = RawDb::open(&paths);
    let notes = db.blobs("SELECT body_enc AS v FROM visit_notes");
    assert_eq!(notes.len(), 1);
    for plain in [
        "Coeliac disease",
        "Chronic diarrhoea",
        "Gluten-free",
        "dietician",
    ] {
        assert!(
            !contains_bytes(&notes[0], plain.as_bytes()),
            "visit note stored with {plain:?} in plaintext"
        );
    }
    let record_notes = db.blobs("SELECT notes_enc AS v FROM records WHERE notes_enc IS NOT NULL");
    assert_eq!(record_notes.len(), 1);
    assert!(
        !contains_bytes(&record_notes[0], b"coeliac"),
        "record notes stored in plaintext"
    );
    let codes = db.blobs("SELECT code_enc AS v FROM access_requests");
    assert_eq!(codes.len(), 1);
    assert!(
        !contains_bytes(&codes[0], code.as_bytes()),
        "request code stored in plaintext"
    );
    let secrets = db.blobs("SELECT secret_enc AS v FROM totp_secrets");
    assert_eq!(secrets.len(), 1);
    assert!(
        !contains_bytes(&secrets[0], &secret_raw),
        "TOTP secret stored in plaintext"
    );
    assert!(
        !contains_bytes(&secrets[0], enrol.secret_base32.as_bytes()),
        "TOTP secret stored in base32"
    );

    // Directory buckets (SQLite apps): new shard files, none with plaintext.
    if backend == Backend::Sqlite {
        let new: Vec<_> = stored_files(&paths.data_dir)
            .difference(&files_before)
            .cloned()
            .collect();
        assert!(
            new.len() >= 6,
            "expected shard files under the data dir, found {new:?}"
        );
        for f in &new {
            let content = std::fs::read(paths.data_dir.join(f)).expect("shard");
            assert!(
                !contains_bytes(&content, marker),
                "{} holds plaintext",
                f.display()
            );
            assert!(
                !contains_bytes(&content, b"%PDF-1.7"),
                "{} holds the plaintext header",
                f.display()
            );
        }
    }
    // And the record still reads back intact.
    download_identical(&app, &patient.token, &meta, &bytes).await;
}
