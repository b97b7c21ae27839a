//! Doctor: the patients in their care.

use actix_web::{HttpResponse, web};
use medvault_types::{CreatePatient, CreatedPatient, ErrorBody, ListQuery, Page, Patient};
use uuid::Uuid;

use crate::accounts::patients::{self, Scope};
use crate::accounts::search::Paging;
use crate::auth::DoctorUser;
use crate::db;
use crate::error::ApiError;
use crate::routes::admin_patients;
use crate::state::AppState;

/// Lists the caller's patients, newest first; `q` searches name, email and MRN.
#[utoipa::path(get, path = "/api/v1/doctor/patients", tag = "doctor", operation_id = "list_my_patients",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = Page<Patient>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn list_my_patients(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    query: web::Query<ListQuery>,
) -> Result<web::Json<Page<Patient>>, ApiError> {
    let paging = Paging::from_query(&query)?;
    let scope = Scope::CareOf(doctor.id.to_string());
    Ok(web::Json(
        db::run(&state.pool, move |conn| {
            patients::list(conn, &scope, &paging)
        })
        .await?,
    ))
}

/// Creates a patient (and their login, temporary password returned once) in the caller's
/// care.
#[utoipa::path(post, path = "/api/v1/doctor/patients", tag = "doctor", operation_id = "create_my_patient",
    security(("bearer" = [])),
    request_body = CreatePatient,
    responses(
        (status = 201, body = CreatedPatient),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "Email already in use", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create_my_patient(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    body: web::Json<CreatePatient>,
) -> Result<HttpResponse, ApiError> {
    admin_patients::create(
        &state,
        doctor.id,
        body.into_inner(),
        Some(doctor.id.to_string()),
    )
    .await
}

/// One patient in the caller's care; any other id is 404.
#[utoipa::path(get, path = "/api/v1/doctor/patients/{id}", tag = "doctor", operation_id = "get_my_patient",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Patient id")),
    responses(
        (status = 200, body = Patient),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_my_patient(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Patient>, ApiError> {
    let id = id.into_inner();
    let scope = Scope::CareOf(doctor.id.to_string());
    Ok(web::Json(
        db::run(&state.pool, move |conn| patients::get(conn, id, &scope)).await?,
    ))
}
