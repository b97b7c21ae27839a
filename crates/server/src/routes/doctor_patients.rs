//! Doctor: the patients in their care.

use actix_web::{HttpResponse, get, post, web};
use medvault_types::{CreatePatient, CreatedPatient, ErrorBody, ListQuery, Page, Patient, UserId};

use crate::accounts::patients::{self, Scope};
use crate::auth::DoctorUser;
use crate::error::ApiError;
use crate::routes::responses::{AuthOrInvalid, AuthOrNotFound};
use crate::state::AppState;

/// Lists the caller's patients, newest first; `q` searches name, email and MRN.
#[utoipa::path(tag = "doctor", operation_id = "list_my_patients",
    security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = Page<Patient>), AuthOrInvalid))]
#[get("/api/v1/doctor/patients")]
pub async fn list_my_patients(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    query: web::Query<ListQuery>,
) -> Result<web::Json<Page<Patient>>, ApiError> {
    Ok(web::Json(
        patients::list_page(&state, Scope::CareOf(doctor.id), &query).await?,
    ))
}

/// Creates a patient (and their login, temporary password returned once) in the caller's
/// care.
#[utoipa::path(tag = "doctor", operation_id = "create_my_patient",
    security(("bearer" = [])),
    request_body = CreatePatient,
    responses(
        (status = 201, body = CreatedPatient),
        AuthOrInvalid,
        (status = 409, description = "Email already in use", body = ErrorBody),
    ))]
#[post("/api/v1/doctor/patients")]
pub async fn create_my_patient(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    body: super::json::Json<CreatePatient>,
) -> Result<HttpResponse, ApiError> {
    let created =
        patients::create_account(&state, doctor.id, body.into_inner(), Some(doctor.id)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// One patient in the caller's care; any other id is 404.
#[utoipa::path(tag = "doctor", operation_id = "get_my_patient",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "Patient id")),
    responses((status = 200, body = Patient), AuthOrNotFound))]
#[get("/api/v1/doctor/patients/{id}")]
pub async fn get_my_patient(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    id: web::Path<UserId>,
) -> Result<web::Json<Patient>, ApiError> {
    Ok(web::Json(
        patients::read_profile(&state, doctor, id.into_inner()).await?,
    ))
}
