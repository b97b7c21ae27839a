//! Patient: the doctors of my care (list, add, remove).

use actix_web::{HttpResponse, delete, get, post, web};
use medvault_types::{AddCareDoctor, CareDoctor, UserId};

use crate::accounts::care;
use crate::auth::PatientUser;
use crate::error::ApiError;
use crate::routes::responses::{AuthErrors, AuthNotFoundOrInvalid, AuthOrNotFound};
use crate::state::AppState;

/// The doctors of the calling patient's care, oldest first, with how each care began.
#[utoipa::path(tag = "me", operation_id = "list_my_care",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<CareDoctor>), AuthErrors))]
#[get("/api/v1/me/care")]
pub async fn list_my_care(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
) -> Result<web::Json<Vec<CareDoctor>>, ApiError> {
    Ok(web::Json(care::list_for_patient(&state, patient.id).await?))
}

/// Adds a doctor (by id or by sign-in e-mail) to the calling patient's care; answers the
/// updated list. Idempotent. A doctor in care sees the profile, the record list and their own
/// visit notes without asking; record content and notes still need consent.
#[utoipa::path(tag = "me", operation_id = "add_my_care_doctor",
    security(("bearer" = [])),
    request_body = AddCareDoctor,
    responses((status = 200, body = Vec<CareDoctor>), AuthNotFoundOrInvalid))]
#[post("/api/v1/me/care")]
pub async fn add_my_care_doctor(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
    body: super::json::Json<AddCareDoctor>,
) -> Result<web::Json<Vec<CareDoctor>>, ApiError> {
    Ok(web::Json(
        care::add_by_patient(&state, patient.id, body.into_inner()).await?,
    ))
}

/// Removes a doctor from the calling patient's care; the doctor's live grants for the patient
/// end with it.
#[utoipa::path(tag = "me", operation_id = "remove_my_care_doctor",
    security(("bearer" = [])),
    params(("doctor_id" = UserId, Path, description = "Doctor id")),
    responses((status = 204, description = "No longer in care"), AuthOrNotFound))]
#[delete("/api/v1/me/care/{doctor_id}")]
pub async fn remove_my_care_doctor(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
    doctor: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    care::remove_by_patient(&state, patient.id, doctor.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
