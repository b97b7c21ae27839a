//! The consent model, black box (issue 11): who sees which health data, written as one table
//! of expected answers (actors x endpoints), then a ledger sweep: every 2xx on a health-data
//! endpoint left exactly one read entry naming its basis, and nothing else did.
//!
//! Cells: a status (`"403"`, `"404"`), or `"200"` with what the body must show: `n=K` items
//! (lists, visit notes), `notes` / `withheld` (a record's notes shown or withheld),
//! `clinical` / `identity` (a profile with or without its clinical fields).

use std::collections::BTreeMap;

use chrono::Duration;
use medvault_tests::records::{
    RawDb, Upload, approve_ok, emergency_body, grant_by_code, ledger_all, mrn_of, open_emergency,
    pdf_bytes, reauthenticate, request_access, spawn_recording, sql_str, upload_ok,
};
use medvault_tests::{Actor, Backend, TestApp, expect_json, on_both_backends, shown};
use medvault_types::{AccessBasis, AccessLogEntry, Page, RecordId, UserId};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    consent_model_matrix,
    care_is_the_patients_choice,
    consent_created_care_is_removed_at_start,
    a_cut_off_download_is_recorded
);

/// The columns: every endpoint that returns a patient's health data (and the admin's
/// identity-only view), for patient `p` with records `r` and `r2`.
const COLUMNS: [&str; 11] = [
    "GET /doctor/patients/{p}",
    "GET /records?patient_id={p}",
    "GET /records/{r}",
    "GET /records/{r2}",
    "GET /records/{r}/content",
    "GET /records/{r2}/content",
    "GET /doctor/patients/{p}/notes",
    "GET /me/profile",
    "GET /me/history",
    "GET /me/notes",
    "GET /admin/patients/{p}",
];

/// What a non-actor sees everywhere: nothing of `p`, and 403 on other roles' routes.
const NOTHING: [&str; 11] = [
    "404", "404", "404", "404", "404", "404", "404", "403", "403", "403", "403",
];

/// The table: actor -> expected cells, in `COLUMNS` order.
const TABLE: [(&str, [&str; 11]); 12] = [
    (
        "doctor in care, no grant",
        [
            "200 clinical",
            "200 n=2",
            "200 withheld",
            "200 withheld",
            "403",
            "403",
            "200 n=1",
            "403",
            "403",
            "403",
            "403",
        ],
    ),
    (
        "doctor in care, grant on r",
        [
            "200 clinical",
            "200 n=2",
            "200 notes",
            "200 withheld",
            "200",
            "403",
            "200 n=0",
            "403",
            "403",
            "403",
            "403",
        ],
    ),
    (
        "doctor in care, grant on all + notes",
        [
            "200 clinical",
            "200 n=2",
            "200 notes",
            "200 notes",
            "200",
            "200",
            "200 n=2",
            "403",
            "403",
            "403",
            "403",
        ],
    ),
    (
        "doctor not in care, grant on r (MRN)",
        [
            "404",
            "200 n=1",
            "200 notes",
            "404",
            "200",
            "404",
            "404",
            "403",
            "403",
            "403",
            "403",
        ],
    ),
    (
        "doctor in emergency access (not in care)",
        [
            "200 clinical",
            "200 n=2",
            "200 notes",
            "200 notes",
            "200",
            "200",
            "200 n=2",
            "403",
            "403",
            "403",
            "403",
        ],
    ),
    ("doctor after ending emergency access", NOTHING),
    ("doctor after revoke", NOTHING),
    ("doctor after removal from care", NOTHING),
    ("another doctor", NOTHING),
    (
        "admin",
        [
            "403",
            "403",
            "403",
            "403",
            "403",
            "403",
            "403",
            "403",
            "403",
            "403",
            "200 identity",
        ],
    ),
    (
        "the patient",
        [
            "403",
            "200 n=2",
            "200 notes",
            "200 notes",
            "200",
            "200",
            "403",
            "200 clinical",
            "200 n=4",
            "200 n=2",
            "403",
        ],
    ),
    (
        "another patient",
        [
            "403",
            "200 n=0",
            "404",
            "404",
            "404",
            "404",
            "403",
            "200 clinical",
            "200 n=0",
            "200 n=0",
            "403",
        ],
    ),
];

/// After the clock passed every grant's end.
const AFTER_EXPIRY: [(&str, [&str; 11]); 3] = [
    ("doctor not in care, grant on r expired", NOTHING),
    ("doctor after emergency access expired", NOTHING),
    (
        "doctor in care, grant on r expired",
        [
            "200 clinical",
            "200 n=2",
            "200 withheld",
            "200 withheld",
            "403",
            "403",
            "200 n=0",
            "403",
            "403",
            "403",
            "403",
        ],
    ),
];

/// The patient's world: ids and tokens.
struct World {
    p: UserId,
    r: RecordId,
    r2: RecordId,
    actors: BTreeMap<&'static str, Actor>,
}

/// A read the ledger must show: (actor, action, patient or record id).
type Seen = (String, String, String);

fn path(col: usize, w: &World) -> String {
    let (p, r, r2) = (w.p, w.r, w.r2);
    match col {
        0 => format!("/api/v1/doctor/patients/{p}"),
        1 => format!("/api/v1/records?patient_id={p}"),
        2 => format!("/api/v1/records/{r}"),
        3 => format!("/api/v1/records/{r2}"),
        4 => format!("/api/v1/records/{r}/content"),
        5 => format!("/api/v1/records/{r2}/content"),
        6 => format!("/api/v1/doctor/patients/{p}/notes"),
        7 => "/api/v1/me/profile".into(),
        8 => "/api/v1/me/history".into(),
        9 => "/api/v1/me/notes".into(),
        _ => format!("/api/v1/admin/patients/{p}"),
    }
}

/// The ledger read a 2xx in column `col` must leave (none for the admin's identity view).
fn expected_read(col: usize, actor: &Actor, w: &World) -> Option<Seen> {
    let me = actor.id.to_string();
    let (action, key) = match col {
        0 => ("patient.read", w.p.to_string()),
        // A patient's list is always their own (`patient_id` names no one else's).
        1 if actor_is_patient(actor, w) => ("record.list", me.clone()),
        1 => ("record.list", w.p.to_string()),
        2 => ("record.read", w.r.to_string()),
        3 => ("record.read", w.r2.to_string()),
        4 => ("record.download", w.r.to_string()),
        5 => ("record.download", w.r2.to_string()),
        6 => ("note.read", w.p.to_string()),
        7 => ("patient.read", me.clone()),
        8 => ("history.read", me.clone()),
        9 => ("note.read", me.clone()),
        _ => return None,
    };
    Some((me, action.into(), key))
}

/// Whether `actor` is one of the world's patients.
fn actor_is_patient(actor: &Actor, w: &World) -> bool {
    ["the patient", "another patient"]
        .iter()
        .any(|who| w.actors[who].id == actor.id)
}

/// Checks one cell; returns the read it must have left when it answered 2xx.
async fn check(app: &TestApp, w: &World, who: &str, col: usize, want: &str) -> Option<Seen> {
    let actor = &w.actors[who];
    let resp = app.get(&path(col, w), Some(&actor.token)).await;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("body");
    let (want_status, detail) = want.split_once(' ').unwrap_or((want, ""));
    let cell = format!("{who} x {}", COLUMNS[col]);
    assert_eq!(
        status.to_string(),
        want_status,
        "{cell}: {}",
        String::from_utf8_lossy(&body)
    );
    if status != 200 {
        return None;
    }
    if col == 4 || col == 5 {
        return expected_read(col, actor, w);
    }
    let json: Value = serde_json::from_slice(&body).expect("JSON body");
    let count = |v: &Value| {
        v.get("items")
            .and_then(Value::as_array)
            .or_else(|| v.as_array())
            .map_or(usize::MAX, Vec::len)
    };
    match detail {
        "" => {}
        "notes" => assert!(json["notes"].is_string(), "{cell}: notes shown"),
        "withheld" => {
            assert!(json["notes"].is_null(), "{cell}: notes withheld");
            assert_eq!(json["notes_withheld"], json!(true), "{cell}: says so");
        }
        "clinical" => assert_eq!(json["allergies"], json!("Penicillin"), "{cell}"),
        "identity" => {
            for field in ["allergies", "blood_group", "height_cm", "weight_kg"] {
                assert!(json[field].is_null(), "{cell}: {field} hidden from admins");
            }
            assert!(
                json["mrn"].is_string() && json["email"].is_string(),
                "{cell}"
            );
        }
        n => {
            let n: usize = n.trim_start_matches("n=").parse().expect("n=K");
            assert_eq!(count(&json), n, "{cell}: items");
        }
    }
    expected_read(col, actor, w)
}

/// A fresh doctor, signed in.
async fn doctor(app: &TestApp, admin: &str, email: &str) -> Actor {
    let d = app.create_doctor(admin, email).await;
    let t = app
        .activate(&d.doctor.email, shown(&d.temporary_password))
        .await;
    let refresh = medvault_tests::refresh_token_of(&t).to_owned();
    Actor {
        id: t.user.id,
        email: t.user.email,
        token: t.access_token,
        refresh,
    }
}

fn body(
    patient: Option<UserId>,
    mrn: Option<&str>,
    record: Option<RecordId>,
    notes: bool,
) -> Value {
    json!({
        "patient_id": patient,
        "mrn": mrn,
        "record_id": record,
        "reason": "Review before the clinic visit",
        "duration_hours": 2,
        "purpose": "second_opinion",
        "include_notes": notes,
    })
}

async fn note(app: &TestApp, doctor: &str, p: UserId) {
    let resp = app
        .post(
            &format!("/api/v1/doctor/patients/{p}/notes"),
            Some(doctor),
            &json!({"visit_date": "2026-03-01", "symptoms": "cough", "diagnosis": "bronchitis",
                    "prescription": "rest", "notes": "review in a week"}),
        )
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::CREATED,
        "{}",
        resp.text().await.unwrap_or_default()
    );
}

/// Emergency access: `during` holds one for two hours; `ended` opened one and ended it.
async fn break_glass(app: &TestApp, during: &Actor, ended: &Actor, mrn: &str) {
    for d in [during, ended] {
        reauthenticate(app, &d.token).await;
        let opened = open_emergency(app, &d.token, &emergency_body(mrn, 120)).await;
        if d.id == ended.id {
            let end = format!("/api/v1/emergency-accesses/{}/end", opened.id);
            let resp = app
                .send(reqwest::Method::POST, &end, Some(&d.token), None)
                .await;
            assert_eq!(resp.status(), StatusCode::OK);
        }
    }
}

/// Builds the cast: each actor gets exactly the relation its row names.
async fn world(app: &TestApp) -> World {
    let cast = app.cast().await;
    let admin = cast.admin.token.clone();
    let (p, pt) = (cast.patient.id, cast.patient.token.clone());
    let with_notes = |mut u: Upload| {
        u.notes = Some("fasting sample".into());
        u
    };
    let r = upload_ok(app, &pt, &with_notes(Upload::pdf(pdf_bytes(3_000))))
        .await
        .id;
    let r2 = upload_ok(app, &pt, &with_notes(Upload::pdf(pdf_bytes(4_000))))
        .await
        .id;
    let mrn = mrn_of(app, &admin, p).await;

    // cast.doctor created the patient: in care, no grant.
    let d_rec = doctor(app, &admin, "rec@clinic.example").await;
    let d_all = doctor(app, &admin, "all@clinic.example").await;
    let d_mrn = doctor(app, &admin, "mrn@clinic.example").await;
    let d_revoked = doctor(app, &admin, "rev@clinic.example").await;
    let d_rm = doctor(app, &admin, "rm@clinic.example").await;
    let d_break = doctor(app, &admin, "em@clinic.example").await;
    let d_break_end = doctor(app, &admin, "em-end@clinic.example").await;
    // d_rec: assigned by an admin; d_all and d_rm: added by the patient.
    let put = app
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/patients/{p}/doctors/{}", d_rec.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    for d in [&d_all, &d_rm] {
        let added = app
            .post("/api/v1/me/care", Some(&pt), &json!({"email": d.email}))
            .await;
        assert_eq!(added.status(), StatusCode::OK);
    }
    grant_by_code(app, &d_rec.token, &pt, &body(Some(p), None, Some(r), false)).await;
    let all = request_access(app, &d_all.token, &body(Some(p), None, None, true)).await;
    approve_ok(app, &pt, all.id).await;
    grant_by_code(
        app,
        &d_mrn.token,
        &pt,
        &body(None, Some(&mrn), Some(r), false),
    )
    .await;
    let rev = grant_by_code(
        app,
        &d_revoked.token,
        &pt,
        &body(None, Some(&mrn), None, true),
    )
    .await;
    let revoked = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/grants/{}", rev.id),
            Some(&pt),
            None,
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let rm = request_access(app, &d_rm.token, &body(Some(p), None, None, true)).await;
    approve_ok(app, &pt, rm.id).await;
    let removed = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/me/care/{}", d_rm.id),
            Some(&pt),
            None,
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    note(app, &cast.doctor.token, p).await;
    note(app, &d_all.token, p).await;
    break_glass(app, &d_break, &d_break_end, &mrn).await;

    let actors = BTreeMap::from([
        ("doctor in care, no grant", cast.doctor),
        ("doctor in care, grant on r", d_rec.clone()),
        ("doctor in care, grant on all + notes", d_all),
        ("doctor not in care, grant on r (MRN)", d_mrn.clone()),
        ("doctor in emergency access (not in care)", d_break.clone()),
        ("doctor after ending emergency access", d_break_end),
        ("doctor after emergency access expired", d_break),
        ("doctor after revoke", d_revoked),
        ("doctor after removal from care", d_rm),
        ("another doctor", cast.other_doctor),
        ("admin", cast.admin),
        ("the patient", cast.patient),
        ("another patient", cast.other_patient),
        ("doctor not in care, grant on r expired", d_mrn),
        ("doctor in care, grant on r expired", d_rec),
    ]);
    World { p, r, r2, actors }
}

/// Every read entry on the ledger as (actor, action, patient or record id), checking each
/// names its basis (and its grant, when a grant allowed it).
async fn ledger_reads(app: &TestApp, admin: &str) -> Vec<Seen> {
    let reads = [
        "patient.read",
        "record.list",
        "record.read",
        "note.read",
        "history.read",
    ];
    let mut seen = Vec::new();
    for e in ledger_all(app, admin).await {
        let is_read = reads.contains(&e.action.as_str());
        if !is_read && e.action != "record.download" {
            continue;
        }
        let basis = e.payload["basis"].as_str().and_then(AccessBasis::parse);
        let basis = basis.unwrap_or_else(|| panic!("read without its basis: {e:?}"));
        if basis == AccessBasis::Grant {
            assert!(
                e.payload["grant_id"].is_string(),
                "grant basis names the grant: {e:?}"
            );
        }
        if basis == AccessBasis::Emergency {
            assert!(
                e.payload["emergency_id"].is_string(),
                "emergency basis names the emergency access: {e:?}"
            );
        }
        let key = if e.action.starts_with("record.read") || e.action == "record.download" {
            e.payload["record_id"].as_str()
        } else {
            e.payload["patient_id"].as_str()
        };
        seen.push((
            e.actor.map(|a| a.to_string()).unwrap_or_default(),
            e.action.clone(),
            key.expect("read names its patient or record").to_owned(),
        ));
    }
    seen.sort();
    seen
}

async fn consent_model_matrix(backend: Backend) {
    let app = TestApp::spawn_with(backend, medvault_tests::day_long_sessions).await;
    let w = world(&app).await;
    let mut reads: Vec<Seen> = Vec::new();
    for (who, cells) in TABLE {
        for (col, want) in cells.iter().enumerate() {
            reads.extend(check(&app, &w, who, col, want).await);
        }
    }
    app.clock.advance(Duration::hours(3));
    for (who, cells) in AFTER_EXPIRY {
        for (col, want) in cells.iter().enumerate() {
            reads.extend(check(&app, &w, who, col, want).await);
        }
    }

    // The sweep: the ledger's reads are exactly the 2xx answers above.
    reads.sort();
    let admin = w.actors["admin"].token.clone();
    let ledgered = ledger_reads(&app, &admin).await;
    let unanswered: Vec<&Seen> = ledgered.iter().filter(|e| !reads.contains(e)).collect();
    let unrecorded: Vec<&Seen> = reads.iter().filter(|e| !ledgered.contains(e)).collect();
    assert_eq!(
        ledgered, reads,
        "ledger reads = 2xx health-data answers; ledgered without an answer: {unanswered:?}; \
         answered without an entry: {unrecorded:?}"
    );

    // The patient's access log shows the doctors' reads with their basis, not their own.
    let log: Page<AccessLogEntry> = expect_json(
        app.get(
            "/api/v1/me/access-log?per_page=100",
            Some(&w.actors["the patient"].token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let me = w.actors["the patient"].id;
    assert!(
        log.items
            .iter()
            .all(|e| e.actor_id != Some(me) || !e.action.contains("read")),
        "own reads stay out of the access log"
    );
    let bases: Vec<AccessBasis> = log.items.iter().filter_map(|e| e.basis).collect();
    for basis in [
        AccessBasis::Care,
        AccessBasis::Grant,
        AccessBasis::Emergency,
    ] {
        assert!(bases.contains(&basis), "{basis:?} in the access log");
    }
}

/// The patient's care list (`GET /me/care`).
async fn care_list(app: &TestApp, token: &str) -> Vec<Value> {
    expect_json(
        app.get("/api/v1/me/care", Some(token)).await,
        StatusCode::OK,
    )
    .await
}

/// The patient's care as sorted (doctor id, origin) pairs.
async fn care_pairs(app: &TestApp, token: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = care_list(app, token)
        .await
        .iter()
        .map(|c| {
            (
                c["doctor_id"].as_str().unwrap_or("").to_owned(),
                c["origin"].to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

/// Care is the patient's choice: consent never creates it; the patient lists, adds and removes
/// doctors, and removing one ends that doctor's live grants.
async fn care_is_the_patients_choice(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let (p, pt) = (cast.patient.id, cast.patient.token.clone());
    let d = doctor(&app, &cast.admin.token, "outside@clinic.example").await;
    let mrn = mrn_of(&app, &cast.admin.token, p).await;
    let before = care_list(&app, &pt).await;
    assert_eq!(before.len(), 1, "the creating doctor: {before:?}");
    assert_eq!(before[0]["origin"], json!("creator"));

    // Consent by MRN: a grant, never care.
    grant_by_code(&app, &d.token, &pt, &body(None, Some(&mrn), None, false)).await;
    assert_eq!(
        care_list(&app, &pt).await.len(),
        1,
        "consent created no care"
    );
    let mine: Page<Value> = expect_json(
        app.get("/api/v1/doctor/patients", Some(&d.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine.total, 0, "the patient is not on the doctor's list");

    // The patient adds the doctor by e-mail (idempotent), then removes them.
    for _ in 0..2 {
        let list: Vec<Value> = expect_json(
            app.post("/api/v1/me/care", Some(&pt), &json!({"email": d.email}))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list.len(), 2);
        assert_eq!(list[1]["origin"], json!("patient"));
    }
    let unknown = app
        .post(
            "/api/v1/me/care",
            Some(&pt),
            &json!({"email": "nobody@clinic.example"}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let both = app
        .post(
            "/api/v1/me/care",
            Some(&pt),
            &json!({"email": d.email, "doctor_id": d.id}),
        )
        .await;
    assert_eq!(both.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Removed once; a second removal finds nothing.
    for want in [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND] {
        let resp = app
            .send(
                reqwest::Method::DELETE,
                &format!("/api/v1/me/care/{}", d.id),
                Some(&pt),
                None,
            )
            .await;
        assert_eq!(resp.status(), want);
    }
    let grants: Page<Value> = expect_json(
        app.get("/api/v1/grants", Some(&d.token)).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        grants.items.iter().all(|g| g["active"] == json!(false)),
        "removal from care ended the doctor's grants: {grants:?}"
    );
    // Doctors and admins cannot use the patient's care routes.
    for token in [&d.token, &cast.admin.token] {
        assert_eq!(
            app.get("/api/v1/me/care", Some(token)).await.status(),
            StatusCode::FORBIDDEN
        );
    }
}

/// A download the client abandons after its first bytes leaves a `record.download_failed`
/// entry after its `record.download`.
async fn a_cut_off_download_is_recorded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let bytes = medvault_tests::records::text_bytes(48 << 20);
    let upload = Upload::new(bytes, "observations.txt", "text/plain");
    let id = upload_ok(&app, &cast.patient.token, &upload).await.id;
    let mut resp = app
        .get(
            &format!("/api/v1/records/{id}/content"),
            Some(&cast.patient.token),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let first = resp.chunk().await.expect("first bytes").expect("a chunk");
    assert!(!first.is_empty());
    drop(resp);
    let wanted = id.to_string();
    for _ in 0..100 {
        let entries = ledger_all(&app, &cast.admin.token).await;
        let of_record: Vec<&str> = entries
            .iter()
            .filter(|e| e.payload["record_id"].as_str() == Some(wanted.as_str()))
            .map(|e| e.action.as_str())
            .collect();
        if of_record.contains(&"record.download_failed") {
            assert_eq!(
                of_record,
                ["record.upload", "record.download", "record.download_failed"]
            );
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no record.download_failed entry after the client went away");
}

/// Earlier versions put a doctor in care on every consent. The start-up task removes exactly
/// those rows: a pair with a `consent.grant` and neither a `care.assign` nor the doctor's
/// creation of the patient's account.
#[allow(clippy::too_many_lines)] // one scenario, read top to bottom
async fn consent_created_care_is_removed_at_start(backend: Backend) {
    let (app, paths) = spawn_recording(backend, |_| {}).await;
    let cast = app.cast().await;
    let (p, pt, admin) = (
        cast.patient.id,
        cast.patient.token.clone(),
        cast.admin.token.clone(),
    );
    let by_consent = doctor(&app, &admin, "by-consent@clinic.example").await;
    let assigned = doctor(&app, &admin, "assigned@clinic.example").await;
    let mrn = mrn_of(&app, &admin, p).await;
    // Consent for three doctors: the creator, an assigned doctor, and one with consent only.
    let put = app
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/patients/{p}/doctors/{}", assigned.id),
            Some(&admin),
            None,
        )
        .await;
    assert!(put.status().is_success(), "assign: {}", put.status());
    for d in [&cast.doctor.token, &assigned.token] {
        grant_by_code(&app, d, &pt, &body(Some(p), None, None, false)).await;
    }
    grant_by_code(
        &app,
        &by_consent.token,
        &pt,
        &body(None, Some(&mrn), None, false),
    )
    .await;
    // What the old rule left behind, and a database that has not run the task yet.
    let mut db = RawDb::open(&paths);
    db.execute(&format!(
        "INSERT INTO care (patient_id, doctor_id, created_at) VALUES ({}, {}, CURRENT_TIMESTAMP)",
        sql_str(&p.to_string()),
        sql_str(&by_consent.id.to_string())
    ));
    db.execute("UPDATE care SET origin = 'admin'");
    assert_eq!(
        db.execute(
            "DELETE FROM startup_tasks WHERE name LIKE '%care no longer created by consent'"
        ),
        1
    );
    assert_eq!(
        care_pairs(&app, &pt).await.len(),
        3,
        "the old rule's row is in place"
    );

    // A server starting on this database (and its data directory: the same key ring) runs
    // the task (once).
    let database_url = paths.database_url.clone();
    let data_dir = paths.data_dir.clone();
    let restarted = TestApp::spawn_with(backend, move |cfg| {
        cfg.database_url = Some(database_url.into());
        cfg.data_dir = data_dir;
    })
    .await;
    drop(restarted);
    let mut want = vec![
        (cast.doctor.id.to_string(), json!("creator").to_string()),
        (assigned.id.to_string(), json!("admin").to_string()),
    ];
    want.sort();
    assert_eq!(
        care_pairs(&app, &pt).await,
        want,
        "only the consent-created row is gone"
    );
    let unassigned: Vec<Value> = ledger_all(&app, &admin)
        .await
        .into_iter()
        .filter(|e| e.action == "care.unassign")
        .map(|e| e.payload)
        .collect();
    assert_eq!(unassigned.len(), 1, "{unassigned:?}");
    assert_eq!(unassigned[0]["doctor_id"], json!(by_consent.id.to_string()));
    assert_eq!(
        db.texts("SELECT name AS v FROM startup_tasks WHERE name LIKE '%care no longer%'")
            .len(),
        1,
        "marked done again"
    );
}
