//! Tampering with the ledger behind the server's back (raw SQL on its database): verify names
//! the first broken link for a deleted row, an edited row, and an edited row whose hash was
//! recomputed by an attacker who knows the format.

use medvault_server::ledger::chain::{EntryContent, Format, entry_hash};
use medvault_tests::records::{
    RawDb, Upload, access_body, assert_ledger_ok, download_identical, grant_by_code, ledger_all,
    pdf_bytes, spawn_recording, sql_str, upload_ok, verify_ledger,
};
use medvault_tests::{Backend, expect_json, on_both_backends};
use medvault_types::ledger::{LedgerEntry, LedgerPage, LedgerVerification};
use reqwest::{Method, StatusCode};

on_both_backends!(
    tampering_is_detected_and_located,
    logins_and_user_changes_are_recorded
);

fn broken_at(v: &LedgerVerification, seq: i64, reason: &str) {
    assert!(!v.ok, "tampering not detected: {v:?}");
    assert_eq!(
        v.first_broken_seq,
        Some(seq),
        "wrong broken link named: {v:?}"
    );
    let why = v.reason.as_deref().unwrap_or("");
    assert!(
        why.contains(reason),
        "reason {why:?} should mention {reason:?}"
    );
}

fn entry(entries: &[LedgerEntry], seq: i64) -> &LedgerEntry {
    entries.iter().find(|e| e.seq == seq).expect("entry")
}

#[allow(clippy::too_many_lines)] // one scenario, read top to bottom
async fn tampering_is_detected_and_located(backend: Backend) {
    let (app, paths) = spawn_recording(backend, |_| {}).await;
    let cast = app.cast().await;
    let (doctor, patient, admin) = (&cast.doctor, &cast.patient, &cast.admin.token);
    for len in [10_000, 70_000, 300_000] {
        let bytes = pdf_bytes(len);
        let meta = upload_ok(&app, &patient.token, &Upload::pdf(bytes.clone())).await;
        let grant = grant_by_code(
            &app,
            &doctor.token,
            &patient.token,
            &access_body(patient.id, Some(meta.id)),
        )
        .await;
        download_identical(&app, &doctor.token, &meta, &bytes).await;
        let resp = app
            .send(
                Method::DELETE,
                &format!("/api/v1/grants/{}", grant.id),
                Some(&patient.token),
                None,
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let intact = assert_ledger_ok(&app, admin).await;
    let entries = ledger_all(&app, admin).await;
    let n = entries.last().expect("entries").seq;
    assert!(n >= 12, "too few entries to tamper with: {n}");
    let n_entries = u64::try_from(n).expect("positive seq");
    assert_eq!(intact.entries, n_entries);
    let mut db = RawDb::open(&paths);

    // 1. Delete the second-newest row: the newest no longer follows its predecessor.
    assert_eq!(
        db.execute(&format!("DELETE FROM ledger WHERE seq = {}", n - 1)),
        1
    );
    let v = verify_ledger(&app, admin).await;
    broken_at(&v, n, &format!("entry {} is missing", n - 1));

    // 2. Rewrite an earlier row's payload and recompute its hash: the next row's prev_hash no
    //    longer matches, so the link after it is named.
    let target = entry(&entries, n - 4);
    let target_patient = db.texts(&format!(
        "SELECT COALESCE(patient_id, '') AS v FROM ledger WHERE seq = {}",
        target.seq
    ));
    let target_patient = Some(target_patient[0].as_str()).filter(|p| !p.is_empty());
    let forged = r#"{"forged":true}"#;
    let forged_hash = entry_hash(
        &target.prev_hash,
        &EntryContent {
            seq: target.seq,
            at: target.at,
            actor: target.actor.map(|a| a.to_string()).as_deref(),
            action: &target.action,
            subject: &target.subject,
            payload: forged,
            patient: target_patient,
            format: Format::V2,
        },
    );
    // Sanity: the same computation over the untouched payload reproduces the stored hash.
    let stored_payload = db.texts(&format!(
        "SELECT payload AS v FROM ledger WHERE seq = {}",
        target.seq
    ));
    let recomputed = entry_hash(
        &target.prev_hash,
        &EntryContent {
            seq: target.seq,
            at: target.at,
            actor: target.actor.map(|a| a.to_string()).as_deref(),
            action: &target.action,
            subject: &target.subject,
            payload: &stored_payload[0],
            patient: target_patient,
            format: Format::V2,
        },
    );
    assert_eq!(
        recomputed, target.hash,
        "the test recomputes hashes as the server does"
    );
    let changed = db.execute(&format!(
        "UPDATE ledger SET payload = {}, hash = {} WHERE seq = {}",
        sql_str(forged),
        sql_str(&forged_hash),
        target.seq
    ));
    assert_eq!(changed, 1);
    broken_at(&verify_ledger(&app, admin).await, n - 3, "prev_hash");

    // 3. Edit an even earlier row's payload only: that row itself is named.
    let edited = entry(&entries, n - 6);
    db.execute(&format!(
        "UPDATE ledger SET payload = {} WHERE seq = {}",
        sql_str(r#"{"record_id":"00000000-0000-4000-8000-000000000000"}"#),
        edited.seq
    ));
    broken_at(
        &verify_ledger(&app, admin).await,
        n - 6,
        "content does not match",
    );

    // 4. File an earlier upload under no patient (hiding it from their access log) or under
    //    another one: the patient id is inside the hash of every entry after the switch to
    //    format v2, which the server puts on the chain at its first start.
    assert_eq!(
        entries[0].action, "ledger.format",
        "the chain starts with the switch"
    );
    let upload = entries
        .iter()
        .find(|e| e.action == "record.upload" && e.seq < n - 6)
        .expect("an upload entry");
    for edit in [
        "NULL".to_owned(),
        sql_str(&uuid::Uuid::new_v4().to_string()),
    ] {
        db.execute(&format!(
            "UPDATE ledger SET patient_id = {edit} WHERE seq = {}",
            upload.seq
        ));
        broken_at(
            &verify_ledger(&app, admin).await,
            upload.seq,
            "content does not match",
        );
    }

    // 5. Change who acted in the second entry.
    let someone = uuid::Uuid::new_v4().to_string();
    db.execute(&format!(
        "UPDATE ledger SET actor = {} WHERE seq = 2",
        sql_str(&someone)
    ));
    broken_at(
        &verify_ledger(&app, admin).await,
        2,
        "content does not match",
    );

    // 6. Delete the very first entry: the chain does not start at 1.
    db.execute("DELETE FROM ledger WHERE seq = 1");
    broken_at(&verify_ledger(&app, admin).await, 2, "entry 1 is missing");

    // Browsing a tampered ledger still works (no 500), and shows what is there.
    let page: LedgerPage = expect_json(
        app.get("/api/v1/admin/ledger?limit=500", Some(admin)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page.total, n_entries - 2);
    assert!(
        page.items
            .iter()
            .any(|e| e.payload == serde_json::json!({"forged": true}))
    );
}

/// Issue 4: "every ... login, and user change appends an entry". The cast's creation signs in
/// every user, creates two doctors and two patients and changes their passwords; an admin
/// deactivation follows.
async fn logins_and_user_changes_are_recorded(backend: Backend) {
    let (app, _) = spawn_recording(backend, |_| {}).await;
    let cast = app.cast().await;
    let admin = &cast.admin;
    let resp = app
        .post(
            &format!("/api/v1/admin/users/{}/deactivate", cast.other_patient.id),
            Some(&admin.token),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let entries = ledger_all(&app, &admin.token).await;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    let mentions =
        |e: &LedgerEntry, id: &str| e.subject.contains(id) || e.payload.to_string().contains(id);
    for user in [
        &cast.admin,
        &cast.doctor,
        &cast.other_doctor,
        &cast.patient,
        &cast.other_patient,
    ] {
        let id = user.id.to_string();
        assert!(
            entries
                .iter()
                .any(|e| e.action.contains("login") && e.actor == Some(user.id)),
            "no login entry for {}; actions: {actions:?}",
            user.email
        );
        if user.id != admin.id {
            assert!(
                entries
                    .iter()
                    .any(|e| e.actor != Some(user.id) && mentions(e, &id)),
                "no entry for the creation of {}; actions: {actions:?}",
                user.email
            );
        }
    }
    let other = cast.other_patient.id.to_string();
    assert!(
        entries.iter().any(|e| e.actor == Some(admin.id)
            && e.action.contains("deactivat")
            && mentions(e, &other)),
        "no entry for the deactivation; actions: {actions:?}"
    );
    assert_ledger_ok(&app, &admin.token).await;
}
