//! One function per API endpoint, typed with the DTOs.

use gloo_net::http::Method;

use super::ApiError;
use super::dto::{
    AccessLogEntry, AccessRequest, AddCareDoctor, AdminOverview, CareDoctor, ChangePasswordRequest,
    ConsentLocks, CreateAccessRequest, CreateDoctor, CreatePatient, CreateVisitNote, CreatedDoctor,
    CreatedPatient, Doctor, EmergencyAccess, EmergencyAccessId, Grant, GrantId, History,
    LedgerPage, LedgerVerification, LoginRequest, MfaChallenge, MfaLoginRequest, MfaStatus,
    OpenEmergencyAccess, Page, Patient, ReauthenticateRequest, Reauthenticated, RecordId,
    RecordMeta, RecoveryCodes, RedeemCode, RequestId, ReviewEmergencyAccess, StorageUsage,
    TemporaryPassword, TokenResponse, TotpCode, TotpEnrollment, TotpStatus, UnlockRequest,
    UpdateContact, UpdateDoctor, UpdatePatient, User, UserId, VisitNote,
};
use super::transport::{self, call};

type R<T> = Result<T, ApiError>;
const NONE: Option<&()> = None;

/// Percent-encodes a query value.
fn q(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}

/// Query string of a searchable, paginated list.
fn list_query(search: &str, page: u32, per_page: u32) -> String {
    let mut s = format!("?page={page}&per_page={per_page}");
    if !search.trim().is_empty() {
        s.push_str("&q=");
        s.push_str(&q(search.trim()));
    }
    s
}

// ---- auth -------------------------------------------------------------------------------

/// What the password step of sign-in led to.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// Signed in: the session has started.
    Done(TokenResponse),
    /// The account has an authenticator app: send a code with this challenge
    /// ([`login_mfa`]).
    SecondFactor(MfaChallenge),
}

/// The password step of sign-in: starts the session (200), or hands back the challenge of the
/// second step (202) for an account with an authenticator app.
pub async fn login(email: &str, password: &str) -> R<SignIn> {
    let body = LoginRequest {
        email: email.trim().to_string(),
        password: password.to_string(),
    };
    let (status, answer) =
        transport::public_with_status(Method::POST, "/auth/login", &body).await?;
    let unreadable = |_| {
        ApiError::local(
            status,
            "decode",
            "medvault answered in an unexpected way. Reload the page and try again.",
        )
    };
    if status == 202 {
        let challenge: MfaChallenge = serde_json::from_value(answer).map_err(unreadable)?;
        return Ok(SignIn::SecondFactor(challenge));
    }
    let resp: TokenResponse = serde_json::from_value(answer).map_err(unreadable)?;
    transport::set_session(&resp);
    Ok(SignIn::Done(resp))
}

/// The second step of sign-in: a code from the authenticator app or a recovery code for the
/// challenge of [`login`]; starts the session. A wrong code or a stale challenge is a 401.
pub async fn login_mfa(mfa_token: &str, code: &str) -> R<TokenResponse> {
    let body = MfaLoginRequest {
        mfa_token: mfa_token.to_string(),
        code: code.trim().to_string(),
    };
    let resp: TokenResponse = transport::public(Method::POST, "/auth/login/mfa", &body).await?;
    transport::set_session(&resp);
    Ok(resp)
}

/// Lifts the sign-in locks of the account the lock-out e-mail's code belongs to (204). No
/// session is needed: the user is locked out. An unknown, spent or expired code is a 401.
pub async fn unlock(code: &str) -> R<()> {
    let body = UnlockRequest {
        token: code.trim().to_string(),
    };
    transport::public(Method::POST, "/auth/unlock", &body).await
}

/// Signs out on the server (the session is revoked and the refresh cookie cleared; the
/// transport asks for the cookie mode), then forgets the access token here.
pub async fn logout() {
    let _ = call::<(), serde_json::Value>(Method::POST, "/auth/logout", None).await;
    transport::clear_session();
}

/// Ends the session here at once, then tells the server without renewing or retrying: after
/// an idle sign-out the server has usually ended the session already, and a refused renewal
/// must not turn this into "your session has ended".
pub async fn logout_quietly() {
    if let Some(token) = transport::end_session() {
        let _ = transport::send_with::<(), serde_json::Value>(
            Method::POST,
            "/auth/logout",
            None,
            &token,
        )
        .await;
    }
}

/// The signed-in user.
pub async fn me() -> R<User> {
    call(Method::GET, "/me", NONE).await
}

/// Changes the password (other sessions are revoked by the server).
pub async fn change_password(current: &str, new: &str) -> R<serde_json::Value> {
    let body = ChangePasswordRequest {
        current_password: current.to_string(),
        new_password: new.to_string(),
    };
    call(Method::POST, "/me/password", Some(&body)).await
}

/// Confirms the password again, with a code from the sign-in authenticator app when the
/// account has one: for the next few minutes the session may take sensitive actions (opening
/// emergency access). A wrong password is a 422 on `password`; a missing or wrong code, on
/// `code`. An empty `code` is not sent.
pub async fn reauthenticate(password: &str, code: Option<&str>) -> R<Reauthenticated> {
    let body = ReauthenticateRequest {
        password: password.to_string(),
        code: code
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string),
    };
    call(Method::POST, "/auth/reauthenticate", Some(&body)).await
}

// ---- sign-in second factor --------------------------------------------------------------

/// Whether the caller's sign-in authenticator app is set up, required, and how many recovery
/// codes are left (allowed while the set-up is pending).
pub async fn mfa_status() -> R<MfaStatus> {
    call(Method::GET, "/me/mfa", NONE).await
}

/// Starts setting up a sign-in authenticator app: a fresh secret (409 once one is set up).
pub async fn mfa_enroll() -> R<TotpEnrollment> {
    call(Method::POST, "/me/mfa/enrollment", NONE).await
}

/// Confirms the set-up with a first code; the answer holds the ten recovery codes, shown
/// once. A wrong code is a 422 on `code`.
pub async fn mfa_confirm(code: &str) -> R<RecoveryCodes> {
    let body = TotpCode {
        code: code.to_string(),
    };
    call(Method::POST, "/me/mfa/enrollment/confirm", Some(&body)).await
}

/// Turns the sign-in authenticator off (accounts that need none; recent authentication).
pub async fn mfa_disable() -> R<MfaStatus> {
    call(Method::DELETE, "/me/mfa", NONE).await
}

/// Replaces the recovery codes with ten new ones, shown once (recent authentication).
pub async fn mfa_renew_codes() -> R<RecoveryCodes> {
    call(Method::POST, "/me/mfa/recovery-codes", NONE).await
}

// ---- admin ------------------------------------------------------------------------------

/// Doctors, searchable and paginated.
pub async fn admin_doctors(search: &str, page: u32, per_page: u32) -> R<Page<Doctor>> {
    call(
        Method::GET,
        &format!("/admin/doctors{}", list_query(search, page, per_page)),
        NONE,
    )
    .await
}

/// Adds a doctor; the answer carries the temporary password.
pub async fn admin_create_doctor(input: &CreateDoctor) -> R<CreatedDoctor> {
    call(Method::POST, "/admin/doctors", Some(input)).await
}

/// Edits a doctor's profile.
pub async fn admin_update_doctor(id: UserId, input: &UpdateDoctor) -> R<Doctor> {
    call(Method::PATCH, &format!("/admin/doctors/{id}"), Some(input)).await
}

/// Patients, searchable and paginated.
pub async fn admin_patients(search: &str, page: u32, per_page: u32) -> R<Page<Patient>> {
    call(
        Method::GET,
        &format!("/admin/patients{}", list_query(search, page, per_page)),
        NONE,
    )
    .await
}

/// The clinical fields of a patient body. Admins manage accounts, not clinical data: the
/// server refuses any of these an admin sends, even as `null` (which is how the shared types
/// serialise an absent PATCH field), so every admin patient body leaves them out here.
const CLINICAL_FIELDS: [&str; 4] = ["blood_group", "height_cm", "weight_kg", "allergies"];

/// `body` as JSON without the [`CLINICAL_FIELDS`].
fn without_clinical(body: &impl serde::Serialize) -> serde_json::Value {
    let mut json = serde_json::to_value(body).unwrap_or(serde_json::Value::Null);
    if let Some(fields) = json.as_object_mut() {
        for name in CLINICAL_FIELDS {
            fields.remove(name);
        }
    }
    json
}

/// Adds a patient (identity and contact only); the answer carries the temporary password.
pub async fn admin_create_patient(input: &CreatePatient) -> R<CreatedPatient> {
    let body = without_clinical(input);
    call(Method::POST, "/admin/patients", Some(&body)).await
}

/// Edits a patient's identity and contact fields.
pub async fn admin_update_patient(id: UserId, input: &UpdatePatient) -> R<Patient> {
    let body = without_clinical(input);
    call(Method::PATCH, &format!("/admin/patients/{id}"), Some(&body)).await
}

/// Puts a patient in a doctor's care.
pub async fn admin_assign_doctor(patient: UserId, doctor: UserId) -> R<serde_json::Value> {
    call(
        Method::PUT,
        &format!("/admin/patients/{patient}/doctors/{doctor}"),
        NONE,
    )
    .await
}

/// Takes a patient out of a doctor's care.
pub async fn admin_unassign_doctor(patient: UserId, doctor: UserId) -> R<serde_json::Value> {
    call(
        Method::DELETE,
        &format!("/admin/patients/{patient}/doctors/{doctor}"),
        NONE,
    )
    .await
}

/// Deactivates (`active = false`) or reactivates a user.
pub async fn admin_set_active(user: UserId, active: bool) -> R<serde_json::Value> {
    let verb = if active { "reactivate" } else { "deactivate" };
    call(Method::POST, &format!("/admin/users/{user}/{verb}"), NONE).await
}

/// Lifts a user's sign-in lock and forgets their failed attempts.
pub async fn admin_unlock(user: UserId) -> R<serde_json::Value> {
    call(Method::POST, &format!("/admin/users/{user}/unlock"), NONE).await
}

/// Removes a user's sign-in authenticator app (recent authentication); they set up a new one
/// at their next sign-in. 404 when they have none.
pub async fn admin_reset_mfa(user: UserId) -> R<serde_json::Value> {
    call(
        Method::POST,
        &format!("/admin/users/{user}/mfa/reset"),
        NONE,
    )
    .await
}

/// Resets a user's password; the answer carries the temporary password.
pub async fn admin_reset_password(user: UserId) -> R<TemporaryPassword> {
    call(
        Method::POST,
        &format!("/admin/users/{user}/reset-password"),
        NONE,
    )
    .await
}

/// A page of the ledger, newest first.
pub async fn admin_ledger(before: Option<i64>, limit: u32, action: &str) -> R<LedgerPage> {
    let mut path = format!("/admin/ledger?limit={limit}");
    if let Some(b) = before {
        path = format!("{path}&before={b}");
    }
    if !action.trim().is_empty() {
        path.push_str("&action=");
        path.push_str(&q(action.trim()));
    }
    call(Method::GET, &path, NONE).await
}

/// Recomputes the ledger's hash chain.
pub async fn admin_verify_ledger() -> R<LedgerVerification> {
    call(Method::GET, "/admin/ledger/verify", NONE).await
}

/// Records an admin's review of an emergency access (once per access).
pub async fn review_emergency(
    id: EmergencyAccessId,
    input: &ReviewEmergencyAccess,
) -> R<EmergencyAccess> {
    call(
        Method::POST,
        &format!("/emergency-accesses/{id}/review"),
        Some(input),
    )
    .await
}

/// Counts and storage health for the admin's first screen.
pub async fn admin_overview() -> R<AdminOverview> {
    call(Method::GET, "/admin/overview", NONE).await
}

// ---- doctor -----------------------------------------------------------------------------

/// Patients in the signed-in doctor's care.
pub async fn doctor_patients(search: &str, page: u32, per_page: u32) -> R<Page<Patient>> {
    call(
        Method::GET,
        &format!("/doctor/patients{}", list_query(search, page, per_page)),
        NONE,
    )
    .await
}

/// Adds a patient to the doctor's care; the answer carries the temporary password.
pub async fn doctor_create_patient(input: &CreatePatient) -> R<CreatedPatient> {
    call(Method::POST, "/doctor/patients", Some(input)).await
}

/// One patient in care.
pub async fn doctor_patient(id: UserId) -> R<Patient> {
    call(Method::GET, &format!("/doctor/patients/{id}"), NONE).await
}

/// Visit notes of a patient in care.
pub async fn doctor_notes(patient: UserId) -> R<Vec<VisitNote>> {
    call(
        Method::GET,
        &format!("/doctor/patients/{patient}/notes"),
        NONE,
    )
    .await
}

/// Adds a visit note.
pub async fn doctor_add_note(patient: UserId, note: &CreateVisitNote) -> R<VisitNote> {
    call(
        Method::POST,
        &format!("/doctor/patients/{patient}/notes"),
        Some(note),
    )
    .await
}

/// Record metadata of a patient in care.
pub async fn patient_records_for_doctor(patient: UserId) -> R<Page<RecordMeta>> {
    call(
        Method::GET,
        &format!("/records?patient_id={patient}&per_page=100"),
        NONE,
    )
    .await
}

/// Asks a patient for access.
pub async fn request_access(req: &CreateAccessRequest) -> R<AccessRequest> {
    call(Method::POST, "/access-requests", Some(req)).await
}

/// Redeems the code the patient read out.
pub async fn redeem(request: RequestId, code: &str) -> R<Grant> {
    let body = RedeemCode {
        code: code.to_string(),
    };
    call(
        Method::POST,
        &format!("/access-requests/{request}/redeem"),
        Some(&body),
    )
    .await
}

/// Opens emergency access to a patient who cannot consent (needs a fresh [`reauthenticate`]).
pub async fn open_emergency(input: &OpenEmergencyAccess) -> R<EmergencyAccess> {
    call(Method::POST, "/emergency-accesses", Some(input)).await
}

/// Ends the doctor's own emergency access now.
pub async fn end_emergency(id: EmergencyAccessId) -> R<EmergencyAccess> {
    call(Method::POST, &format!("/emergency-accesses/{id}/end"), NONE).await
}

// ---- shared by doctor and patient -------------------------------------------------------

/// Emergency accesses, newest first: a doctor's own, those to the patient's records, or all
/// of them for an admin (`unreviewed`: only those waiting for review).
pub async fn list_emergencies(
    unreviewed: bool,
    page: u32,
    per_page: u32,
) -> R<Page<EmergencyAccess>> {
    call(
        Method::GET,
        &format!("/emergency-accesses?page={page}&per_page={per_page}&unreviewed={unreviewed}"),
        NONE,
    )
    .await
}

/// Access requests: a doctor's own, or those addressed to the patient.
pub async fn access_requests() -> R<Vec<AccessRequest>> {
    let page: Page<AccessRequest> =
        call(Method::GET, "/access-requests?per_page=100", NONE).await?;
    Ok(page.items)
}

/// Grants: a doctor's, or those on the patient's records.
pub async fn grants() -> R<Vec<Grant>> {
    let page: Page<Grant> = call(Method::GET, "/grants?per_page=100", NONE).await?;
    Ok(page.items)
}

/// Revokes (patient) or gives up (doctor) a grant.
pub async fn revoke_grant(id: GrantId) -> R<serde_json::Value> {
    call(Method::DELETE, &format!("/grants/{id}"), NONE).await
}

/// Downloads a record's file into the browser's downloads.
pub async fn download_record(record: &RecordMeta) -> R<()> {
    transport::download(
        &format!("/records/{}/content", record.id),
        &record.file_name,
    )
    .await
}

/// Downloads a record known only by id (a doctor's grant).
pub async fn download_record_by_id(id: RecordId, fallback_name: &str) -> R<()> {
    transport::download(&format!("/records/{id}/content"), fallback_name).await
}

// ---- patient ----------------------------------------------------------------------------

/// The patient's own profile.
pub async fn my_profile() -> R<Patient> {
    call(Method::GET, "/me/profile", NONE).await
}

/// Edits the patient's contact fields.
pub async fn update_my_profile(update: &UpdateContact) -> R<Patient> {
    call(Method::PATCH, "/me/profile", Some(update)).await
}

/// The patient's timeline.
pub async fn my_history() -> R<History> {
    call(Method::GET, "/me/history", NONE).await
}

/// The patient's records.
pub async fn my_records() -> R<Page<RecordMeta>> {
    call(Method::GET, "/records?per_page=100", NONE).await
}

/// Limits and usage for the upload form.
pub async fn my_storage() -> R<StorageUsage> {
    call(Method::GET, "/me/storage", NONE).await
}

/// Uploads a report with progress.
pub async fn upload_record(
    form: &web_sys::FormData,
    on_progress: impl Fn(u8) + Clone + 'static,
) -> R<RecordMeta> {
    transport::upload("/records", form, on_progress).await
}

/// Deletes a record (crypto-shredding).
pub async fn delete_record(id: RecordId) -> R<serde_json::Value> {
    call(Method::DELETE, &format!("/records/{id}"), NONE).await
}

/// Approves a request in the app.
pub async fn approve(request: RequestId) -> R<serde_json::Value> {
    call(
        Method::POST,
        &format!("/access-requests/{request}/approve"),
        NONE,
    )
    .await
}

/// Denies a request.
pub async fn deny(request: RequestId) -> R<serde_json::Value> {
    call(
        Method::POST,
        &format!("/access-requests/{request}/deny"),
        NONE,
    )
    .await
}

/// The doctors in the patient's care, and how each came to be.
pub async fn my_care() -> R<Vec<CareDoctor>> {
    call(Method::GET, "/me/care", NONE).await
}

/// Adds a doctor, named by sign-in e-mail, to the patient's care; the answer is the new list.
pub async fn add_care_doctor(email: &str) -> R<Vec<CareDoctor>> {
    let body = AddCareDoctor {
        doctor_id: None,
        email: Some(email.trim().to_string()),
    };
    call(Method::POST, "/me/care", Some(&body)).await
}

/// Takes a doctor out of the patient's care; the doctor's live grants end too.
pub async fn remove_care_doctor(doctor: UserId) -> R<serde_json::Value> {
    call(Method::DELETE, &format!("/me/care/{doctor}"), NONE).await
}

/// Confirms the e-mail address staff set (consent codes are e-mailed to it again).
pub async fn confirm_email() -> R<serde_json::Value> {
    call(Method::POST, "/me/email/confirm", NONE).await
}

/// Doctors locked out of the patient's authenticator codes, and the delay in force.
pub async fn consent_locks() -> R<ConsentLocks> {
    call(Method::GET, "/me/consent-locks", NONE).await
}

/// Lifts every authenticator-code lock and the delay.
pub async fn lift_consent_locks() -> R<serde_json::Value> {
    call(Method::DELETE, "/me/consent-locks", NONE).await
}

/// Who saw my records.
pub async fn access_log() -> R<Vec<AccessLogEntry>> {
    let page: Page<AccessLogEntry> = call(Method::GET, "/me/access-log?per_page=100", NONE).await?;
    Ok(page.items)
}

/// Whether an authenticator is enrolled.
pub async fn totp_status() -> R<TotpStatus> {
    call(Method::GET, "/me/totp", NONE).await
}

/// Starts authenticator enrolment.
pub async fn totp_enroll() -> R<TotpEnrollment> {
    call(Method::POST, "/me/totp", NONE).await
}

/// Confirms enrolment with a first code.
pub async fn totp_confirm(code: &str) -> R<serde_json::Value> {
    let body = TotpCode {
        code: code.to_string(),
    };
    call(Method::POST, "/me/totp/confirm", Some(&body)).await
}

/// Removes the authenticator (needs a valid code).
pub async fn totp_remove(code: &str) -> R<serde_json::Value> {
    let body = TotpCode {
        code: code.to_string(),
    };
    call(Method::DELETE, "/me/totp", Some(&body)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_patient_bodies_never_carry_clinical_fields() {
        let update = UpdatePatient {
            phone: Some(None),
            ..UpdatePatient::default()
        };
        let json = without_clinical(&update);
        let fields = json.as_object().unwrap();
        for name in CLINICAL_FIELDS {
            assert!(!fields.contains_key(name), "{name} sent");
        }
        assert_eq!(fields["phone"], serde_json::Value::Null);
        assert!(fields.contains_key("email"));
    }
}
