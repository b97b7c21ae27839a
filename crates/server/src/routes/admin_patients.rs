//! Admin: patients and their doctors.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use medvault_types::{
    CreatePatient, CreatedPatient, ErrorBody, ListQuery, Page, Patient, UpdatePatient, UserId,
};

use crate::accounts::care;
use crate::accounts::patients::{self, Scope};
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::routes::responses::{AuthErrors, AuthNotFoundOrInvalid, AuthOrInvalid, AuthOrNotFound};
use crate::state::AppState;

/// Lists patients, newest first; `q` searches name, email and MRN.
#[utoipa::path(tag = "admin", operation_id = "list_patients",
    security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = Page<Patient>), AuthOrInvalid))]
#[get("/api/v1/admin/patients")]
pub async fn list_patients(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<ListQuery>,
) -> Result<web::Json<Page<Patient>>, ApiError> {
    Ok(web::Json(
        patients::list_page(&state, Scope::All, &query).await?,
    ))
}

/// Creates a patient and their login; the temporary password is returned once.
#[utoipa::path(tag = "admin", operation_id = "create_patient",
    security(("bearer" = [])),
    request_body = CreatePatient,
    responses(
        (status = 201, body = CreatedPatient),
        AuthOrInvalid,
        (status = 409, description = "Email already in use", body = ErrorBody),
    ))]
#[post("/api/v1/admin/patients")]
pub async fn create_patient(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    body: super::json::Json<CreatePatient>,
) -> Result<HttpResponse, ApiError> {
    let created = patients::create_account(&state, admin.id, body.into_inner(), None).await?;
    Ok(HttpResponse::Created().json(created))
}

/// One patient.
#[utoipa::path(tag = "admin", operation_id = "get_patient",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "Patient id")),
    responses((status = 200, body = Patient), AuthOrNotFound))]
#[get("/api/v1/admin/patients/{id}")]
pub async fn get_patient(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<UserId>,
) -> Result<web::Json<Patient>, ApiError> {
    Ok(web::Json(
        patients::show_to_admin(&state, id.into_inner()).await?,
    ))
}

/// Changes a patient's email or profile; absent fields stay, `null` clears optional ones.
#[utoipa::path(tag = "admin", operation_id = "update_patient",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "Patient id")),
    request_body = UpdatePatient,
    responses(
        (status = 200, body = Patient),
        AuthNotFoundOrInvalid,
        (status = 409, body = ErrorBody),
    ))]
#[patch("/api/v1/admin/patients/{id}")]
pub async fn update_patient(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    id: web::Path<UserId>,
    body: super::json::Json<UpdatePatient>,
) -> Result<web::Json<Patient>, ApiError> {
    Ok(web::Json(
        patients::change(&state, admin.id, id.into_inner(), body.into_inner()).await?,
    ))
}

/// Puts the patient in the doctor's care (idempotent).
#[utoipa::path(tag = "admin", operation_id = "assign_doctor",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "Patient id"), ("doctor_id" = UserId, Path, description = "Doctor id")),
    responses(
        (status = 204, description = "In care"),
        AuthErrors,
        (status = 404, description = "No such patient or doctor", body = ErrorBody),
    ))]
#[put("/api/v1/admin/patients/{id}/doctors/{doctor_id}")]
pub async fn assign_doctor(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    path: web::Path<(UserId, UserId)>,
) -> Result<HttpResponse, ApiError> {
    let (patient, doctor) = path.into_inner();
    care::assign_by_admin(&state, admin.id, patient, doctor).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends the doctor's care of the patient.
#[utoipa::path(tag = "admin", operation_id = "unassign_doctor",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "Patient id"), ("doctor_id" = UserId, Path, description = "Doctor id")),
    responses(
        (status = 204, description = "No longer in care"),
        AuthErrors,
        (status = 404, description = "Not in this doctor's care", body = ErrorBody),
    ))]
#[delete("/api/v1/admin/patients/{id}/doctors/{doctor_id}")]
pub async fn unassign_doctor(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    path: web::Path<(UserId, UserId)>,
) -> Result<HttpResponse, ApiError> {
    let (patient, doctor) = path.into_inner();
    care::unassign_by_admin(&state, admin.id, patient, doctor).await?;
    Ok(HttpResponse::NoContent().finish())
}
