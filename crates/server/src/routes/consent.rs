//! Consent: access requests (doctor asks; patient's code redeemed by the doctor, or in-app
//! approval or denial), grants (list, revoke), and the patient's authenticator (TOTP).

use actix_web::{HttpResponse, delete, get, post, web};
use medvault_types::{
    AccessRequest, CreateAccessRequest, ErrorBody, Grant, GrantId, ListQuery, Page, RedeemCode,
    RequestId, TotpCode, TotpEnrollment, TotpStatus,
};

use crate::auth::{ClinicalUser, DoctorUser, PatientUser};
use crate::consent::{grants, requests, totp};
use crate::error::ApiError;
use crate::routes::responses::{AuthErrors, AuthOrInvalid, AuthOrNotFound, ClosedRequestErrors};
use crate::state::AppState;

/// A doctor asks for access to a patient's record (or all records). The patient receives a
/// one-time code in their inbox (and by email when SMTP is configured).
#[utoipa::path(tag = "consent", operation_id = "create_access_request",
    security(("bearer" = [])),
    request_body = CreateAccessRequest,
    responses(
        (status = 201, body = AccessRequest),
        AuthErrors,
        (status = 404, description = "No such patient in care / MRN / record", body = ErrorBody),
        (status = 409, description = "Too many open requests", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
#[post("/api/v1/access-requests")]
pub async fn create_access_request(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    body: super::json::Json<CreateAccessRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = requests::ask(&state, doctor.id, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(request))
}

/// A doctor's own requests, or the requests addressed to the calling patient (with the
/// one-time code while it is valid).
#[utoipa::path(tag = "consent", operation_id = "list_access_requests",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = Page<AccessRequest>),
        AuthOrInvalid,
    ))]
#[get("/api/v1/access-requests")]
pub async fn list_access_requests(
    state: web::Data<AppState>,
    ClinicalUser(user): ClinicalUser,
    query: web::Query<ListQuery>,
) -> Result<web::Json<Page<AccessRequest>>, ApiError> {
    Ok(web::Json(requests::list_for(&state, user, &query).await?))
}

/// One request the caller is party to.
#[utoipa::path(tag = "consent", operation_id = "get_access_request",
    security(("bearer" = [])),
    params(("id" = RequestId, Path, description = "Request id")),
    responses(
        (status = 200, body = AccessRequest),
        AuthOrNotFound,
    ))]
#[get("/api/v1/access-requests/{id}")]
pub async fn get_access_request(
    state: web::Data<AppState>,
    ClinicalUser(user): ClinicalUser,
    id: web::Path<RequestId>,
) -> Result<web::Json<AccessRequest>, ApiError> {
    Ok(web::Json(
        requests::show(&state, user, id.into_inner()).await?,
    ))
}

/// The doctor submits the code the patient read out (8-digit request code or 6-digit
/// authenticator code). Wrong codes count; the request locks after a few.
#[utoipa::path(tag = "consent", operation_id = "redeem_access_request",
    security(("bearer" = [])),
    params(("id" = RequestId, Path, description = "Request id")),
    request_body = RedeemCode,
    responses(
        (status = 200, description = "Consent given", body = Grant),
        AuthOrNotFound,
        (status = 409, description = "Already decided", body = ErrorBody),
        (status = 410, description = "Code or request expired", body = ErrorBody),
        (status = 422, description = "Wrong or malformed code", body = ErrorBody),
        (status = 423, description = "Locked after too many wrong codes", body = ErrorBody),
        (status = 429, description = "Too many failed codes recently", body = ErrorBody),
    ))]
#[post("/api/v1/access-requests/{id}/redeem")]
pub async fn redeem_access_request(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    id: web::Path<RequestId>,
    body: super::json::Json<RedeemCode>,
) -> Result<web::Json<Grant>, ApiError> {
    let code = zeroize::Zeroizing::new(body.into_inner().code);
    Ok(web::Json(
        requests::redeem_code(&state, doctor.id, id.into_inner(), code).await?,
    ))
}

/// The patient approves a request in the app. Needs a recent password (403
/// `reauth_required`: `POST /api/v1/auth/reauthenticate`).
#[utoipa::path(tag = "consent", operation_id = "approve_access_request",
    security(("bearer" = [])),
    params(("id" = RequestId, Path, description = "Request id")),
    responses(
        (status = 200, body = Grant),
        AuthOrNotFound,
        ClosedRequestErrors,
    ))]
#[post("/api/v1/access-requests/{id}/approve")]
pub async fn approve_access_request(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
    id: web::Path<RequestId>,
) -> Result<web::Json<Grant>, ApiError> {
    Ok(web::Json(
        requests::approve_request(&state, patient, id.into_inner()).await?,
    ))
}

/// The patient denies a request.
#[utoipa::path(tag = "consent", operation_id = "deny_access_request",
    security(("bearer" = [])),
    params(("id" = RequestId, Path, description = "Request id")),
    responses(
        (status = 200, body = AccessRequest),
        AuthOrNotFound,
        ClosedRequestErrors,
    ))]
#[post("/api/v1/access-requests/{id}/deny")]
pub async fn deny_access_request(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
    id: web::Path<RequestId>,
) -> Result<web::Json<AccessRequest>, ApiError> {
    Ok(web::Json(
        requests::deny_request(&state, patient.id, id.into_inner()).await?,
    ))
}

/// Grants the caller holds (doctor) or gave (patient), newest first.
#[utoipa::path(tag = "consent", operation_id = "list_grants",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = Page<Grant>),
        AuthOrInvalid,
    ))]
#[get("/api/v1/grants")]
pub async fn list_grants(
    state: web::Data<AppState>,
    ClinicalUser(user): ClinicalUser,
    query: web::Query<ListQuery>,
) -> Result<web::Json<Page<Grant>>, ApiError> {
    Ok(web::Json(grants::list_for(&state, user, &query).await?))
}

/// Revokes a grant (patient) or gives it up (doctor). Takes effect on the next download.
#[utoipa::path(tag = "consent", operation_id = "revoke_grant",
    security(("bearer" = [])),
    params(("id" = GrantId, Path, description = "Grant id")),
    responses(
        (status = 200, body = Grant),
        AuthOrNotFound,
    ))]
#[delete("/api/v1/grants/{id}")]
pub async fn revoke_grant(
    state: web::Data<AppState>,
    ClinicalUser(user): ClinicalUser,
    id: web::Path<GrantId>,
) -> Result<web::Json<Grant>, ApiError> {
    Ok(web::Json(
        grants::revoke_as(&state, user, id.into_inner()).await?,
    ))
}

/// Whether the patient has an authenticator set up.
#[utoipa::path(tag = "consent", operation_id = "get_totp",
    security(("bearer" = [])),
    responses((status = 200, body = TotpStatus), AuthErrors))]
#[get("/api/v1/me/totp")]
pub async fn get_totp(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
) -> Result<web::Json<TotpStatus>, ApiError> {
    Ok(web::Json(totp::status_of(&state, patient.id).await?))
}

/// Starts authenticator enrolment: the otpauth URI, its QR code, and the secret for manual
/// entry. Confirm with a first code.
#[utoipa::path(tag = "consent", operation_id = "enrol_totp",
    security(("bearer" = [])),
    responses(
        (status = 200, body = TotpEnrollment),
        AuthErrors,
        (status = 409, description = "Already enrolled", body = ErrorBody),
    ))]
#[post("/api/v1/me/totp")]
pub async fn enrol_totp(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
) -> Result<web::Json<TotpEnrollment>, ApiError> {
    Ok(web::Json(
        totp::start_enrolment(&state, patient.id, patient.email).await?,
    ))
}

/// Confirms enrolment with a code from the app.
#[utoipa::path(tag = "consent", operation_id = "confirm_totp",
    security(("bearer" = [])),
    request_body = TotpCode,
    responses(
        (status = 200, body = TotpStatus),
        AuthErrors,
        (status = 404, description = "No enrolment started", body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, description = "Wrong code", body = ErrorBody),
        (status = 429, description = "Too many wrong codes recently", body = ErrorBody),
    ))]
#[post("/api/v1/me/totp/confirm")]
pub async fn confirm_totp(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
    body: super::json::Json<TotpCode>,
) -> Result<web::Json<TotpStatus>, ApiError> {
    Ok(web::Json(
        totp::confirm_with_code(&state, patient.id, body.into_inner().code).await?,
    ))
}

/// Removes the authenticator; needs a current code from it.
#[utoipa::path(tag = "consent", operation_id = "remove_totp",
    security(("bearer" = [])),
    request_body = TotpCode,
    responses(
        (status = 200, body = TotpStatus),
        AuthOrNotFound,
        (status = 422, description = "Wrong code", body = ErrorBody),
        (status = 429, description = "Too many wrong codes recently", body = ErrorBody),
    ))]
#[delete("/api/v1/me/totp")]
pub async fn remove_totp(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
    body: super::json::Json<TotpCode>,
) -> Result<web::Json<TotpStatus>, ApiError> {
    Ok(web::Json(
        totp::remove_with_code(&state, patient.id, body.into_inner().code).await?,
    ))
}
