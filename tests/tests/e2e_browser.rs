//! The whole journey in a real browser: the built SPA served by the real server, headless
//! Chromium driven through chromedriver, clicks and typing only.
//!
//! Admin adds a doctor; the doctor signs in, changes the temporary password and adds a patient;
//! the patient signs in, changes password, uploads a file; the doctor requests access; the
//! patient reads the code; the doctor enters a wrong code (sees the error), then the right one,
//! and downloads: the file's SHA-256 equals the upload's; the patient revokes; the doctor's
//! download button is gone and the API refuses; the patient's access log shows the download.
//! Screenshots of each role's main screen and of the consent dialog land in
//! `target/e2e-screenshots/`. Last, the admin's ledger lists the download and verifies.

#[path = "../src/browser.rs"]
mod browser;

use std::path::Path;

use anyhow::{Context, Result, ensure};
use browser::{Browser, Session};
use medvault_tests::records::Authenticator;
use medvault_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp, shown};
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};

const DOCTOR_EMAIL: &str = "dr.house@clinic.example";
const PATIENT_EMAIL: &str = "pat.smith@mail.example";
const DOCTOR_PASSWORD: &str = "doctor passphrase 2026";
const PATIENT_PASSWORD: &str = "patient passphrase 2026";
const FILE_NAME: &str = "blood-test.pdf";

/// Signs in through the form and waits to leave the sign-in page.
async fn sign_in(s: &Session, base: &str, email: &str, password: &str) -> Result<()> {
    s.goto(&format!("{base}/")).await?;
    s.wait_path("/login").await?;
    s.fill("#login-form input[name=email]", email).await?;
    s.fill("#login-form input[name=password]", password).await?;
    s.click("#login-form button[type=submit]").await?;
    s.wait_gone("#login-form").await
}

/// On the forced password change screen: replaces the temporary password.
async fn change_temporary_password(s: &Session, temporary: &str, new: &str) -> Result<()> {
    s.wait_path("/change-password").await?;
    s.fill("#password-form input[name=current_password]", temporary)
        .await?;
    s.fill("#password-form input[name=new_password]", new)
        .await?;
    s.fill("#password-form input[name=confirm_password]", new)
        .await?;
    s.click("#password-form button[type=submit]").await?;
    s.wait_gone("#password-form").await
}

async fn sign_out(s: &Session) -> Result<()> {
    s.click("#sign-out").await?;
    s.find("#login-form").await?;
    Ok(())
}

/// A PDF-looking file (the server sniffs `%PDF-`) of about 1.5 MiB so the upload takes a
/// moment, with content unique to this run.
fn sample_pdf() -> Vec<u8> {
    let mut data = b"%PDF-1.7\n% medvault e2e\n".to_vec();
    let seed = uuid::Uuid::new_v4();
    let mut block = Sha256::digest(seed.as_bytes()).to_vec();
    while data.len() < 1_500_000 {
        block = Sha256::digest(&block).to_vec();
        data.extend_from_slice(hex::encode(&block).as_bytes());
        data.push(b'\n');
    }
    data.extend_from_slice(b"%%EOF\n");
    data
}

/// A code that differs from `code` in every digit.
fn wrong_code(code: &str) -> String {
    code.chars()
        .map(|c| {
            c.to_digit(10)
                .map_or('0', |d| char::from_digit((d + 1) % 10, 10).unwrap_or('0'))
        })
        .collect()
}

/// Admin signs in and adds a doctor (after seeing a validation message); returns the
/// doctor's temporary password.
async fn admin_adds_doctor(admin: &Session, base: &str) -> Result<String> {
    sign_in(admin, base, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    admin.wait_path("/admin").await?;
    admin.find_text("h1", "Overview").await?;
    admin.click_text("header a", "Doctors").await?;
    admin.click("#add-doctor").await?;
    admin
        .fill("#doctor-form input[name=email]", DOCTOR_EMAIL)
        .await?;
    admin
        .fill("#doctor-form input[name=full_name]", "Gregory House")
        .await?;
    admin
        .fill("#doctor-form input[name=specialty]", "Diagnostics")
        .await?;
    // No licence number: the form says what is missing before anything is sent.
    admin.click("#doctor-form button[type=submit]").await?;
    admin
        .find_text("#doctor-form .field-error", "required")
        .await?;
    admin
        .fill("#doctor-form input[name=licence_number]", "MD-12345")
        .await?;
    admin.click("#doctor-form button[type=submit]").await?;
    let temporary = admin.text(".temp-password").await?;
    ensure!(
        temporary.len() >= 12,
        "temporary password shown: {temporary:?}"
    );
    admin.find_text("table td", DOCTOR_EMAIL).await?;
    admin.screenshot("admin-doctors").await?;
    sign_out(admin).await?;
    Ok(temporary)
}

/// The doctor signs in, replaces the temporary password and adds a patient; returns the
/// patient's temporary password.
async fn doctor_adds_patient(doctor: &Session, base: &str, temporary: &str) -> Result<String> {
    sign_in(doctor, base, DOCTOR_EMAIL, temporary).await?;
    change_temporary_password(doctor, temporary, DOCTOR_PASSWORD).await?;
    doctor.wait_path("/doctor").await?;
    doctor.click("#add-patient").await?;
    doctor
        .fill("#patient-form input[name=email]", PATIENT_EMAIL)
        .await?;
    doctor
        .fill("#patient-form input[name=first_name]", "Pat")
        .await?;
    doctor
        .fill("#patient-form input[name=last_name]", "Smith")
        .await?;
    // Chromium's date input in en-US takes month, day, year.
    doctor
        .find("#patient-form input[name=date_of_birth]")
        .await?
        .send_keys("02141980")
        .await?;
    doctor
        .fill("#patient-form input[name=phone]", "+1 555 010 2030")
        .await?;
    doctor.click("#patient-form button[type=submit]").await?;
    let patient_temporary = doctor.text(".temp-password").await?;
    doctor.find_text("table a", "Pat Smith").await?;
    doctor.screenshot("doctor-patients").await?;
    Ok(patient_temporary)
}

/// The patient signs in, replaces the temporary password and uploads `file`; returns the
/// record's id.
async fn patient_uploads(
    patient: &Session,
    base: &str,
    temporary: &str,
    file: &Path,
) -> Result<String> {
    sign_in(patient, base, PATIENT_EMAIL, temporary).await?;
    change_temporary_password(patient, temporary, PATIENT_PASSWORD).await?;
    patient.wait_path("/patient").await?;
    patient.find("#my-mrn").await?;
    patient.screenshot("patient-details").await?;
    patient.click_text("header a", "Records").await?;
    // An unsupported file is refused at once, next to the file input.
    let exe = file.with_file_name("setup.exe");
    std::fs::write(&exe, b"MZ not a medical record")?;
    patient
        .find("#upload-file")
        .await?
        .send_keys(&exe.to_string_lossy())
        .await?;
    patient
        .find_text("#upload-file-err", "not accepted")
        .await?;
    patient
        .find("#upload-file")
        .await?
        .send_keys(&file.to_string_lossy())
        .await?;
    patient.wait_gone("#upload-file-err").await?;
    patient
        .fill("#upload-form input[name=title]", "Blood test March")
        .await?;
    patient.click("#upload-form button[type=submit]").await?;
    patient
        .find_text("#upload-done", "Blood test March")
        .await?;
    let row = patient
        .find_text("#my-records tbody tr", "Blood test March")
        .await?;
    let record_id = row
        .attr("data-record")
        .await?
        .context("record id on the row")?;
    patient.screenshot("patient-records").await?;
    Ok(record_id)
}

/// The doctor opens the patient, writes a visit note, and asks for the record; the code
/// dialog opens.
async fn doctor_requests_access(doctor: &Session) -> Result<()> {
    doctor.click_text("header a", "My patients").await?;
    doctor.click_text("table a", "Pat Smith").await?;
    doctor
        .find_text("#doctor-records td", "Blood test March")
        .await?;
    doctor
        .fill(
            "#note-form textarea[name=symptoms]",
            "Fatigue for two weeks",
        )
        .await?;
    doctor
        .fill("#note-form textarea[name=diagnosis]", "Suspected anaemia")
        .await?;
    doctor.click("#note-form button[type=submit]").await?;
    doctor
        .find_text(".timeline li", "Suspected anaemia")
        .await?;
    doctor.click("#doctor-records .request-access").await?;
    doctor
        .fill(
            "#request-form textarea[name=reason]",
            "Review before the follow-up visit",
        )
        .await?;
    doctor.click("#request-form button[type=submit]").await?;
    doctor.find("#code-form").await?;
    Ok(())
}

/// The patient opens the inbox and reads the one-time code.
async fn patient_reads_code(patient: &Session) -> Result<String> {
    patient.click_text("header a", "Requests").await?;
    let code = patient.text(".one-time-code").await?;
    ensure!(
        code.len() == 8 && code.chars().all(|c| c.is_ascii_digit()),
        "code shown: {code:?}"
    );
    patient.screenshot("patient-requests").await?;
    Ok(code)
}

/// A wrong code shows an error in the dialog; the right one grants; the download's SHA-256
/// matches the upload's.
async fn doctor_redeems_and_downloads(
    doctor: &Session,
    code: &str,
    upload_sha: &str,
) -> Result<()> {
    doctor
        .fill("#code-form input[name=code]", &wrong_code(code))
        .await?;
    doctor.click("#code-form button[type=submit]").await?;
    doctor.find("#code-form .form-error").await?;
    doctor.screenshot("doctor-consent-dialog").await?;
    doctor.fill("#code-form input[name=code]", code).await?;
    doctor.click("#code-form button[type=submit]").await?;
    doctor.wait_gone("#code-form").await?;
    doctor.click("#doctor-records .download").await?;
    let downloaded = doctor.downloaded(FILE_NAME).await?;
    let sha = hex::encode(Sha256::digest(&downloaded));
    ensure!(
        sha == upload_sha,
        "downloaded file ({} bytes) differs from the upload",
        downloaded.len()
    );
    doctor.screenshot("doctor-patient-page").await?;
    Ok(())
}

/// The patient revokes; the doctor's page no longer offers the download and the API refuses.
async fn revocation_takes_effect(
    app: &TestApp,
    doctor: &Session,
    patient: &Session,
    record_id: &str,
) -> Result<()> {
    patient.click_text("header a", "Grants").await?;
    patient.click("#my-grants .revoke").await?;
    patient.find_text("#my-grants td", "Revoked").await?;

    doctor.click_text("header a", "My patients").await?;
    doctor.click_text("table a", "Pat Smith").await?;
    doctor
        .find_text("#doctor-records td", "Blood test March")
        .await?;
    doctor.find("#doctor-records .request-access").await?;
    let buttons = doctor
        .client
        .find_all(fantoccini::Locator::Css("#doctor-records .download"))
        .await?;
    ensure!(
        buttons.is_empty(),
        "download button still shown after revocation"
    );
    let token = app.login(DOCTOR_EMAIL, DOCTOR_PASSWORD).await.access_token;
    let refused = app
        .request(
            Method::GET,
            &format!("/api/v1/records/{record_id}/content"),
            Some(&token),
        )
        .send()
        .await?;
    ensure!(
        refused.status() == StatusCode::FORBIDDEN,
        "download after revocation answered {}",
        refused.status()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_journey_in_the_browser() -> Result<()> {
    let spa = browser::spa_dir()?;
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.spa_dir = Some(spa)).await;
    let chrome = Browser::start().await?;
    let result = whole_journey(&app, &chrome).await;
    chrome.shutdown().await;
    result
}

async fn whole_journey(app: &TestApp, chrome: &Browser) -> Result<()> {
    let base = app.address.clone();
    let upload_dir = tempfile::tempdir()?;
    let upload_path = upload_dir.path().join(FILE_NAME);
    let bytes = sample_pdf();
    std::fs::write(&upload_path, &bytes)?;
    let upload_sha = hex::encode(Sha256::digest(&bytes));

    let admin = chrome.session(1280, 900).await?;
    let doctor_temporary = admin_adds_doctor(&admin, &base).await?;
    let doctor = chrome.session(1280, 900).await?;
    let patient_temporary = doctor_adds_patient(&doctor, &base, &doctor_temporary).await?;
    let patient = chrome.session(1280, 900).await?;
    let record_id = patient_uploads(&patient, &base, &patient_temporary, &upload_path).await?;
    doctor_requests_access(&doctor).await?;
    let code = patient_reads_code(&patient).await?;
    doctor_redeems_and_downloads(&doctor, &code, &upload_sha).await?;
    revocation_takes_effect(app, &doctor, &patient, &record_id).await?;

    // The patient's history shows the visit note and the report on one timeline.
    patient.click_text("header a", "History").await?;
    patient
        .find_text("#timeline li", "Suspected anaemia")
        .await?;
    patient
        .find_text("#timeline li", "Blood test March")
        .await?;
    patient.screenshot("patient-history").await?;

    // The patient sees the download in "who saw my records".
    patient.click_text("header a", "Who saw my records").await?;
    patient
        .find("#access-log tr[data-action='record.download']")
        .await?;
    patient.screenshot("patient-access-log").await?;

    // A phone-sized view of the patient's main screen.
    let phone = chrome.session(390, 844).await?;
    sign_in(&phone, &base, PATIENT_EMAIL, PATIENT_PASSWORD).await?;
    phone.wait_path("/patient").await?;
    phone.find("#my-mrn").await?;
    phone.screenshot("patient-details-phone").await?;

    // The admin's overview, and the ledger lists the download and verifies.
    sign_in(&admin, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    admin.find("#ledger-ok").await?;
    // Storage health: the uploaded records, never scrubbed (the scrubber is off in tests).
    admin.find("#storage-health").await?;
    let unscrubbed = admin.text("#storage-count-unscrubbed").await?;
    assert!(
        unscrubbed.trim().parse::<u64>().is_ok_and(|n| n > 0),
        "never-scrubbed records on the overview: {unscrubbed:?}"
    );
    admin.screenshot("admin-overview").await?;
    admin.click_text("header a", "Ledger").await?;
    admin
        .find_text("#ledger-entries td", "record.download")
        .await?;
    admin.click("#verify-ledger").await?;
    admin.find("#ledger-ok").await?;
    admin.screenshot("admin-ledger").await?;

    // Everything above ran under the strict Content-Security-Policy, without a violation.
    for (who, s) in [
        ("admin", &admin),
        ("doctor", &doctor),
        ("patient", &patient),
        ("phone", &phone),
    ] {
        let violations = s.csp_violations().await?;
        ensure!(
            violations.is_empty(),
            "{who}: CSP violations {violations:?}"
        );
    }
    Ok(())
}

/// With 8-second access tokens the app renews in the background, so a screen opened 15
/// seconds after sign-in still loads; when the session itself ends (30 seconds after sign-in)
/// the app returns to the sign-in screen and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_renews_then_ends_with_a_message() -> Result<()> {
    let spa = browser::spa_dir()?;
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.spa_dir = Some(spa);
        c.auth.access_ttl_secs = 8;
        c.auth.refresh_ttl_secs = 30;
    })
    .await;
    let chrome = Browser::start().await?;
    let result = session_journey(&app, &chrome).await;
    chrome.shutdown().await;
    result
}

async fn session_journey(app: &TestApp, chrome: &Browser) -> Result<()> {
    let admin = chrome.session(1280, 900).await?;
    let signed_in_at = std::time::Instant::now();
    sign_in(&admin, &app.address, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    admin.wait_path("/admin").await?;

    tokio::time::sleep(std::time::Duration::from_secs(15)).await;
    admin.click_text("header a", "Doctors").await?;
    admin.find_text("main p", "No doctors found").await?;
    ensure!(
        admin.path().await? == "/admin/doctors",
        "still signed in after 15 s"
    );

    let left = std::time::Duration::from_secs(32).saturating_sub(signed_in_at.elapsed());
    tokio::time::sleep(left).await;
    admin.find_text("#flash", "session has ended").await?;
    admin.wait_path("/login").await?;
    admin.screenshot("session-ended").await?;
    Ok(())
}

/// The screens the journey does not pass through: the admin puts a patient in a doctor's
/// care, deactivates and reactivates the doctor, resets the doctor's password and lifts their
/// sign-in lock; the patient
/// sets up an authenticator app from the QR screen, uploads a text file and deletes it after
/// confirming.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn care_accounts_authenticator_and_delete() -> Result<()> {
    let spa = browser::spa_dir()?;
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.spa_dir = Some(spa)).await;
    let chrome = Browser::start().await?;
    let result = other_screens(&app, &chrome).await;
    chrome.shutdown().await;
    result
}

async fn other_screens(app: &TestApp, chrome: &Browser) -> Result<()> {
    let admin_token = app.admin_token().await;
    let created_doctor = app
        .create_doctor(&admin_token, "dr.okafor@clinic.example")
        .await;
    let created_patient = app
        .create_patient(
            "/api/v1/admin/patients",
            &admin_token,
            "jo.bloggs@mail.example",
        )
        .await;
    app.activate(
        "jo.bloggs@mail.example",
        shown(&created_patient.temporary_password),
    )
    .await;
    let base = app.address.as_str();

    let admin = chrome.session(1280, 900).await?;
    sign_in(&admin, base, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    admin.click_text("header a", "Patients").await?;
    admin.click("table .care").await?;
    admin
        .find("#assign-doctor")
        .await?
        .select_by_value(&created_doctor.doctor.id.to_string())
        .await?;
    admin.click("#assign-doctor-button").await?;
    admin
        .find_text(".dialog li.in-care", &created_doctor.doctor.full_name)
        .await?;
    admin.screenshot("admin-patient-care").await?;
    admin.click(".dialog-head button").await?;
    admin.wait_gone(".dialog").await?;

    admin.click_text("header a", "Doctors").await?;
    admin.click("table .toggle-active").await?;
    admin.find_text("table td", "Deactivated").await?;
    admin.click("table .toggle-active").await?;
    admin.find_text("table td", "Active").await?;
    admin.click("table .reset-password").await?;
    let temporary = admin.text(".temp-password").await?;
    ensure!(temporary.len() >= 12, "reset password shown: {temporary:?}");
    admin.click("table .unlock").await?;
    admin.find_text("#row-done", "lock is lifted").await?;

    let patient = chrome.session(1280, 900).await?;
    sign_in(
        &patient,
        base,
        "jo.bloggs@mail.example",
        medvault_tests::USER_PASSWORD,
    )
    .await?;
    patient.click_text("header a", "Security").await?;
    patient.click("#totp-start").await?;
    patient.find("img.qr").await?;
    // The QR code (a data: image) shows under the Content-Security-Policy without a violation.
    let violations = patient.csp_violations().await?;
    ensure!(violations.is_empty(), "CSP violations {violations:?}");
    let secret = patient.text("#totp-secret").await?;
    patient.screenshot("patient-security").await?;
    let mut authenticator = Authenticator::from_base32(&secret);
    let (code, _) = authenticator.fresh_code().await;
    patient
        .fill("#totp-confirm-form input[name=code]", &code)
        .await?;
    patient
        .click("#totp-confirm-form button[type=submit]")
        .await?;
    patient
        .find_text("p.ok", "authenticator app is set up")
        .await?;

    let dir = tempfile::tempdir()?;
    let note = dir.path().join("blood-pressure.txt");
    std::fs::write(&note, "2026-11-20 morning: 122/79 mmHg\n")?;
    patient.click_text("header a", "Records").await?;
    patient
        .find("#upload-file")
        .await?
        .send_keys(&note.to_string_lossy())
        .await?;
    patient.click("#upload-form button[type=submit]").await?;
    patient.find_text("#upload-done", "blood-pressure").await?;
    patient.click("#my-records .delete").await?;
    patient.click("#confirm-delete").await?;
    patient.find_text("main p", "No records yet").await?;
    Ok(())
}

/// Emergency access in the browser (issue 11 part 5): a doctor outside the patient's care opens
/// it from the "Emergency access" screen (warning, reason, justification, password) and reads
/// the patient's page; the patient sees the notice and the badge, and the emergency reads in
/// "Who saw my records"; an administrator sees the count on the overview and reviews it; the
/// patient then sees the outcome. No CSP violation anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emergency_access_in_the_browser() -> Result<()> {
    let spa = browser::spa_dir()?;
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.spa_dir = Some(spa)).await;
    let chrome = Browser::start().await?;
    let result = emergency_journey(&app, &chrome).await;
    chrome.shutdown().await;
    result
}

async fn emergency_journey(app: &TestApp, chrome: &Browser) -> Result<()> {
    use medvault_tests::USER_PASSWORD;
    use medvault_tests::records::{Upload, mrn_of, pdf_bytes, upload_ok};

    let admin_token = app.admin_token().await;
    let doctor = app
        .create_doctor(&admin_token, "dr.er@clinic.example")
        .await;
    app.activate(&doctor.doctor.email, shown(&doctor.temporary_password))
        .await;
    let patient = app
        .create_patient(
            "/api/v1/admin/patients",
            &admin_token,
            "unconscious@mail.example",
        )
        .await;
    let tokens = app
        .activate(&patient.patient.email, shown(&patient.temporary_password))
        .await;
    let mut upload = Upload::pdf(pdf_bytes(20_000));
    upload.title = Some("Cardiology letter".into());
    upload_ok(app, &tokens.access_token, &upload).await;
    let mrn = mrn_of(app, &admin_token, patient.patient.id).await;
    let patient_name = format!(
        "{} {}",
        patient.patient.first_name, patient.patient.last_name
    );
    let base = app.address.as_str();

    // The doctor opens emergency access after confirming their password.
    let dr = chrome.session(1280, 900).await?;
    sign_in(&dr, base, &doctor.doctor.email, USER_PASSWORD).await?;
    dr.click_text("header a", "Emergency access").await?;
    dr.find_text("#emergency-warning", "review").await?;
    dr.fill("#emergency-mrn", &mrn).await?;
    dr.find("#emergency-reason")
        .await?
        .select_by_value("unconscious_patient")
        .await?;
    dr.fill(
        "#emergency-justification",
        "Brought in unconscious by ambulance; need allergies and cardiology history",
    )
    .await?;
    dr.fill("#emergency-password", USER_PASSWORD).await?;
    dr.click("#emergency-open").await?;
    dr.find_text("#emergency-list .emergency-row", &patient_name)
        .await?;
    dr.screenshot("doctor-emergency").await?;
    dr.click(".emergency-open-patient").await?;
    dr.find_text("main", "Cardiology letter").await?;

    // The patient sees the notice, the badge and the emergency reads.
    let pt = chrome.session(1280, 900).await?;
    sign_in(&pt, base, &patient.patient.email, USER_PASSWORD).await?;
    pt.wait_path("/patient").await?;
    pt.find_text(
        "#emergency-notice .emergency-item",
        &doctor.doctor.full_name,
    )
    .await?;
    pt.find_text("#emergency-notice", "Awaiting review").await?;
    pt.find(".badge-emergency").await?;
    pt.screenshot("patient-emergency-notice").await?;
    pt.click_text("header a", "Who saw my records").await?;
    pt.find_text(".badge-emergency", "Emergency").await?;

    // An administrator sees the count and reviews it.
    let admin = chrome.session(1280, 900).await?;
    sign_in(&admin, base, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    admin.find_text("#unreviewed-emergencies", "1").await?;
    admin.click_text("header a", "Emergency reviews").await?;
    admin
        .find_text(".emergency-row", "Brought in unconscious")
        .await?;
    admin
        .find(".emergency-row .review-outcome")
        .await?
        .select_by_value("justified")
        .await?;
    admin
        .fill(
            ".emergency-row .review-comment",
            "Confirmed with the emergency department",
        )
        .await?;
    admin.screenshot("admin-emergency-review").await?;
    admin.click(".emergency-row .review-submit").await?;
    admin.click("#emergency-unreviewed-only").await?;
    admin
        .find_text(
            ".review-outcome-shown",
            "Confirmed with the emergency department",
        )
        .await?;

    // The patient sees the outcome.
    pt.click_text("header a", "My details").await?;
    pt.find_text("#emergency-notice", "Justified").await?;
    for s in [&dr, &pt, &admin] {
        let violations = s.csp_violations().await?;
        ensure!(violations.is_empty(), "CSP violations {violations:?}");
    }
    Ok(())
}

/// The staff second factor in the browser (issue 12 part 1): the first admin signs in, is held
/// on the set-up screen, scans the QR code (the test reads the secret shown for manual entry),
/// confirms a code, sees the ten recovery codes once, and reaches the admin pages; the next
/// sign-in asks for a code. Then a patient's idle session: the warning a few seconds before the
/// (short, for the test) idle limit, "Stay signed in" keeping it, and the sign-out with its
/// message when nobody answers. No CSP violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_factor_and_idle_sign_out() -> Result<()> {
    let spa = browser::spa_dir()?;
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.spa_dir = Some(spa);
        c.auth.staff_mfa_required = true;
        c.auth.patient_idle_secs = 16;
    })
    .await;
    let chrome = Browser::start().await?;
    let result = match second_factor_journey(&app, &chrome).await {
        Ok(phone) => idle_journey(&app, &chrome, &phone).await,
        Err(e) => Err(e),
    };
    chrome.shutdown().await;
    result
}

async fn second_factor_journey(app: &TestApp, chrome: &Browser) -> Result<Authenticator> {
    let base = app.address.as_str();
    let admin = chrome.session(1280, 900).await?;
    sign_in(&admin, base, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    admin.wait_path("/account/mfa").await?;
    admin.find("#mfa-required").await?;
    // Other pages lead back to the set-up.
    admin.goto(&format!("{base}/admin/doctors")).await?;
    admin.wait_path("/account/mfa").await?;
    admin.click("#mfa-start").await?;
    admin.find("#mfa-qr").await?;
    let secret: String = admin
        .text("#mfa-secret")
        .await?
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    admin.screenshot("mfa-setup").await?;
    let phone = Authenticator::from_base32(&secret);
    admin
        .fill("#mfa-confirm-code", &app.fresh_code(&phone))
        .await?;
    admin.click("#mfa-confirm").await?;
    admin.find("#recovery-codes").await?;
    let codes = admin.text("#recovery-codes").await?;
    ensure!(
        codes.lines().filter(|l| l.trim().len() == 19).count() == 10,
        "ten recovery codes shown: {codes}"
    );
    admin.screenshot("mfa-recovery-codes").await?;
    admin.click("#recovery-saved").await?;
    admin.wait_path("/admin").await?;
    admin.click_text("header a", "Doctors").await?;
    admin.wait_path("/admin/doctors").await?;

    // The next sign-in takes the password, then a code.
    sign_out(&admin).await?;
    sign_in(&admin, base, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    admin.find("#mfa-code").await?;
    admin.fill("#mfa-code", "000000").await?;
    admin.click("#mfa-submit").await?;
    admin.find_text("main", "Wrong or expired code").await?;
    admin.screenshot("mfa-sign-in").await?;
    admin.fill("#mfa-code", &app.fresh_code(&phone)).await?;
    admin.click("#mfa-submit").await?;
    admin.wait_path("/admin").await?;
    hardened_session(&admin).await?;
    let violations = admin.csp_violations().await?;
    ensure!(violations.is_empty(), "CSP violations {violations:?}");
    Ok(phone)
}

/// The session is hardened (issue 12 part 5): the refresh token is only in an `HttpOnly`,
/// `SameSite=Strict` cookie scoped to `/api/v1/auth`; neither web storage holds a token; a
/// reload resumes the session from the cookie.
async fn hardened_session(s: &Session) -> Result<()> {
    let stored = s
        .client
        .execute(
            "return JSON.stringify([Object.assign({}, sessionStorage), Object.assign({}, localStorage)]);",
            Vec::new(),
        )
        .await?;
    let stored = stored.as_str().unwrap_or_default().to_owned();
    // The browser shows a cookie only to pages under its path: look from there.
    let url = s.client.current_url().await?;
    let origin = url.origin().ascii_serialization();
    s.goto(&format!("{origin}/api/v1/auth/refresh")).await?;
    let cookies = s.client.get_all_cookies().await?;
    let refresh = cookies
        .iter()
        .find(|c| c.name() == "medvault_refresh")
        .with_context(|| format!("the refresh cookie among {cookies:?}"))?;
    ensure!(refresh.http_only() == Some(true), "HttpOnly: {refresh:?}");
    ensure!(
        format!("{:?}", refresh.same_site()) == "Some(Strict)",
        "SameSite=Strict: {refresh:?}"
    );
    ensure!(refresh.path() == Some("/api/v1/auth"), "path: {refresh:?}");
    ensure!(
        !stored.contains("eyJ") && !stored.contains(refresh.value()),
        "no token in web storage: {stored}"
    );
    // A fresh load of the app resumes the session from the cookie.
    s.goto(url.as_str()).await?;
    s.wait_path(url.path()).await?;
    s.find("#sign-out").await?;
    Ok(())
}

/// A patient's session with a 16-second idle limit: the warning comes 8 seconds before the
/// end, "Stay signed in" keeps the session, and when nobody answers the app signs out and says
/// why. `phone` is the admin's authenticator (to create the patient through the API).
async fn idle_journey(app: &TestApp, chrome: &Browser, phone: &Authenticator) -> Result<()> {
    use medvault_tests::USER_PASSWORD;
    let admin = app.login_with_app(ADMIN_EMAIL, ADMIN_PASSWORD, phone).await;
    let created = app
        .create_patient(
            "/api/v1/admin/patients",
            &admin.access_token,
            "idle@mail.example",
        )
        .await;
    app.activate(&created.patient.email, shown(&created.temporary_password))
        .await;
    let patient = chrome.session(1280, 900).await?;
    // The unlock page opens from the e-mail's link with the code in the fragment; a wrong one
    // is refused in plain words. The sign-in page links to it.
    patient
        .goto(&format!("{}/unlock#not-a-real-code", app.address))
        .await?;
    patient.click("#unlock-submit").await?;
    patient
        .find_text("main", "unknown, already used or expired")
        .await?;
    patient.goto(&format!("{}/login", app.address)).await?;
    patient.click("#unlock-link").await?;
    patient.wait_path("/unlock").await?;
    sign_in(
        &patient,
        &app.address,
        &created.patient.email,
        USER_PASSWORD,
    )
    .await?;
    patient.wait_path("/patient").await?;
    patient
        .find_text("#idle-warning", "because of inactivity")
        .await?;
    patient.screenshot("idle-warning").await?;
    patient.click("#idle-stay").await?;
    patient.wait_gone("#idle-warning").await?;
    ensure!(
        patient.path().await? == "/patient",
        "still signed in after staying"
    );
    // Nobody answers the next warning: signed out, with the reason.
    patient.find("#idle-warning").await?;
    patient
        .find_text("#flash", "signed out after 16 seconds without activity")
        .await?;
    patient.wait_path("/login").await?;
    patient.screenshot("idle-signed-out").await?;
    let violations = patient.csp_violations().await?;
    ensure!(violations.is_empty(), "CSP violations {violations:?}");
    Ok(())
}
