//! Clinical history: visit notes (doctors write for patients in their care; patients read
//! their own) and the patient's timeline; and the patient's "who saw my records" log.

use actix_web::{HttpResponse, get, post, web};
use medvault_types::{
    AccessLogEntry, CreateVisitNote, History, ListQuery, Page, UserId, VisitNote,
};

use crate::auth::{DoctorUser, PatientUser};
use crate::error::ApiError;
use crate::history::{notes, timeline};
use crate::read_models::access_log;
use crate::routes::responses::{AuthErrors, AuthNotFoundOrInvalid, AuthOrInvalid, AuthOrNotFound};
use crate::state::AppState;

/// Adds a visit note for a patient in the caller's care.
#[utoipa::path(tag = "history", operation_id = "add_visit_note",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "Patient id")),
    request_body = CreateVisitNote,
    responses((status = 201, body = VisitNote), AuthNotFoundOrInvalid))]
#[post("/api/v1/doctor/patients/{id}/notes")]
pub async fn add_visit_note(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    id: web::Path<UserId>,
    body: super::json::Json<CreateVisitNote>,
) -> Result<HttpResponse, ApiError> {
    let note =
        notes::add_for_patient(&state, doctor.id, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(note))
}

/// Visit notes of a patient in the caller's care, newest first.
#[utoipa::path(tag = "history", operation_id = "list_visit_notes",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "Patient id")),
    responses((status = 200, body = Vec<VisitNote>), AuthOrNotFound))]
#[get("/api/v1/doctor/patients/{id}/notes")]
pub async fn list_visit_notes(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    id: web::Path<UserId>,
) -> Result<web::Json<Vec<VisitNote>>, ApiError> {
    Ok(web::Json(
        notes::list_for_doctor(&state, doctor, id.into_inner()).await?,
    ))
}

/// The calling patient's visit notes and records on one timeline, newest first.
#[utoipa::path(tag = "history", operation_id = "get_my_history",
    security(("bearer" = [])),
    responses((status = 200, body = History), AuthErrors))]
#[get("/api/v1/me/history")]
pub async fn get_my_history(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
) -> Result<web::Json<History>, ApiError> {
    Ok(web::Json(timeline::of_patient(&state, patient).await?))
}

/// The calling patient's visit notes, newest first.
#[utoipa::path(tag = "history", operation_id = "list_my_notes",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<VisitNote>), AuthErrors))]
#[get("/api/v1/me/notes")]
pub async fn list_my_notes(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
) -> Result<web::Json<Vec<VisitNote>>, ApiError> {
    Ok(web::Json(notes::list_own(&state, patient).await?))
}

/// Who accessed or asked for the calling patient's records, newest first (from the ledger).
#[utoipa::path(tag = "history", operation_id = "get_my_access_log",
    security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = Page<AccessLogEntry>), AuthOrInvalid))]
#[get("/api/v1/me/access-log")]
pub async fn get_my_access_log(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
    query: web::Query<ListQuery>,
) -> Result<web::Json<Page<AccessLogEntry>>, ApiError> {
    Ok(web::Json(
        access_log::for_patient(&state, patient.id, &query).await?,
    ))
}
