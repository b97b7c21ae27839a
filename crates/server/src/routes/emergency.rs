//! Emergency access (break-glass): a doctor opens and ends it; doctors, patients and
//! administrators list what concerns them; administrators review each one.

use actix_web::{HttpResponse, get, post, web};
use medvault_types::{
    EmergencyAccess, EmergencyAccessId, EmergencyListQuery, ErrorBody, OpenEmergencyAccess, Page,
    ReviewEmergencyAccess,
};

use crate::auth::{AdminUser, AnyUser, DoctorUser};
use crate::emergency::{lifecycle, review, views};
use crate::error::ApiError;
use crate::routes::responses::{AuthErrors, AuthOrNotFound};
use crate::state::AppState;

/// A doctor opens emergency access to a patient who cannot consent (by id or MRN), with a
/// reason and a justification. Needs a password confirmed within the last few minutes
/// (`POST /api/v1/auth/reauthenticate`). The patient is told at once; an administrator
/// reviews it.
#[utoipa::path(tag = "emergency", operation_id = "open_emergency_access",
    security(("bearer" = [])),
    request_body = OpenEmergencyAccess,
    responses(
        (status = 201, body = EmergencyAccess),
        (status = 401, description = "No or expired token", body = ErrorBody),
        (status = 403, description = "Not a doctor, `reauth_required` (confirm the password first) or `emergency_disabled`", body = ErrorBody),
        (status = 404, description = "No such active patient", body = ErrorBody),
        (status = 409, description = "An emergency access to this patient is already open", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "Daily limit of emergency accesses reached", body = ErrorBody),
    ))]
#[post("/api/v1/emergency-accesses")]
pub async fn open_emergency_access(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    body: super::json::Json<OpenEmergencyAccess>,
) -> Result<HttpResponse, ApiError> {
    let access = lifecycle::open_access(&state, doctor, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(access))
}

/// Emergency accesses, newest first: a doctor's own, those about the calling patient, or all
/// of them for administrators (`unreviewed=true`: the review queue).
#[utoipa::path(tag = "emergency", operation_id = "list_emergency_accesses",
    security(("bearer" = [])),
    params(EmergencyListQuery),
    responses(
        (status = 200, body = Page<EmergencyAccess>),
        AuthErrors,
        (status = 422, body = ErrorBody),
    ))]
#[get("/api/v1/emergency-accesses")]
pub async fn list_emergency_accesses(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    query: web::Query<EmergencyListQuery>,
) -> Result<web::Json<Page<EmergencyAccess>>, ApiError> {
    Ok(web::Json(
        views::list_for(&state, user, query.into_inner()).await?,
    ))
}

/// One emergency access: its doctor, its patient or an administrator.
#[utoipa::path(tag = "emergency", operation_id = "get_emergency_access",
    security(("bearer" = [])),
    params(("id" = EmergencyAccessId, Path, description = "Emergency access id")),
    responses((status = 200, body = EmergencyAccess), AuthOrNotFound))]
#[get("/api/v1/emergency-accesses/{id}")]
pub async fn get_emergency_access(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    id: web::Path<EmergencyAccessId>,
) -> Result<web::Json<EmergencyAccess>, ApiError> {
    Ok(web::Json(views::show(&state, user, id.into_inner()).await?))
}

/// The doctor ends their emergency access now (harmless when it already ended).
#[utoipa::path(tag = "emergency", operation_id = "end_emergency_access",
    security(("bearer" = [])),
    params(("id" = EmergencyAccessId, Path, description = "Emergency access id")),
    responses((status = 200, body = EmergencyAccess), AuthOrNotFound))]
#[post("/api/v1/emergency-accesses/{id}/end")]
pub async fn end_emergency_access(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    id: web::Path<EmergencyAccessId>,
) -> Result<web::Json<EmergencyAccess>, ApiError> {
    Ok(web::Json(
        lifecycle::end_access(&state, doctor.id, id.into_inner()).await?,
    ))
}

/// An administrator reviews an emergency access: justified or not, with a comment the patient
/// sees. Each is reviewed once.
#[utoipa::path(tag = "emergency", operation_id = "review_emergency_access",
    security(("bearer" = [])),
    params(("id" = EmergencyAccessId, Path, description = "Emergency access id")),
    request_body = ReviewEmergencyAccess,
    responses(
        (status = 200, body = EmergencyAccess),
        AuthOrNotFound,
        (status = 409, description = "Already reviewed", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
#[post("/api/v1/emergency-accesses/{id}/review")]
pub async fn review_emergency_access(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    id: web::Path<EmergencyAccessId>,
    body: super::json::Json<ReviewEmergencyAccess>,
) -> Result<web::Json<EmergencyAccess>, ApiError> {
    Ok(web::Json(
        review::record_review(&state, admin.id, id.into_inner(), body.into_inner()).await?,
    ))
}
