//! Clinical history: visit notes (doctors write for patients in their care; patients read
//! their own) and the patient's timeline; and the patient's "who saw my records" log.

use actix_web::{HttpResponse, web};
use medvault_types::{
    AccessLogEntry, CreateVisitNote, ErrorBody, History, HistoryItem, ListQuery, Page, RecordMeta,
    VisitNote,
};
use uuid::Uuid;

use crate::accounts::care;
use crate::accounts::search::Paging;
use crate::auth::{DoctorUser, PatientUser};
use crate::db;
use crate::error::ApiError;
use crate::history;
use crate::records::service as records;
use crate::state::AppState;

/// Adds a visit note for a patient in the caller's care.
#[utoipa::path(post, path = "/api/v1/doctor/patients/{id}/notes", tag = "history", operation_id = "add_visit_note",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Patient id")),
    request_body = CreateVisitNote,
    responses(
        (status = 201, body = VisitNote),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn add_visit_note(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    id: web::Path<Uuid>,
    body: web::Json<CreateVisitNote>,
) -> Result<HttpResponse, ApiError> {
    let patient = id.into_inner();
    let st = state.clone();
    let req = body.into_inner();
    let note = db::write(&state.pool, move |conn| {
        if !care::in_care(conn, &doctor.id.to_string(), &patient.to_string())? {
            return Err(ApiError::NotFound);
        }
        history::add(conn, st.engine.keys(), doctor.id, patient, &req)
    })
    .await?;
    Ok(HttpResponse::Created().json(note))
}

/// Visit notes of a patient in the caller's care, newest first.
#[utoipa::path(get, path = "/api/v1/doctor/patients/{id}/notes", tag = "history", operation_id = "list_visit_notes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Patient id")),
    responses(
        (status = 200, body = Vec<VisitNote>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn list_visit_notes(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Vec<VisitNote>>, ApiError> {
    let patient = id.into_inner();
    let st = state.clone();
    Ok(web::Json(
        db::run(&state.pool, move |conn| {
            if !care::in_care(conn, &doctor.id.to_string(), &patient.to_string())? {
                return Err(ApiError::NotFound);
            }
            history::list(conn, st.engine.keys(), patient)
        })
        .await?,
    ))
}

/// The calling patient's visit notes and records on one timeline, newest first.
#[utoipa::path(get, path = "/api/v1/me/history", tag = "history", operation_id = "get_my_history",
    security(("bearer" = [])),
    responses(
        (status = 200, body = History),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    ))]
pub async fn get_my_history(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
) -> Result<web::Json<History>, ApiError> {
    let st = state.clone();
    let (notes, recs) = db::run(&state.pool, move |conn| {
        let notes = history::list(conn, st.engine.keys(), patient.id)?;
        let paging = Paging::from_query(&ListQuery {
            page: Some(1),
            per_page: Some(100),
            q: None,
        })?;
        let recs: Page<RecordMeta> = records::list(conn, st.engine.keys(), patient.id, &paging)?;
        Ok((notes, recs.items))
    })
    .await?;
    let mut items: Vec<(
        chrono::NaiveDate,
        chrono::DateTime<chrono::Utc>,
        HistoryItem,
    )> = notes
        .into_iter()
        .map(|n| (n.visit_date, n.created_at, HistoryItem::Note(n)))
        .chain(
            recs.into_iter()
                .map(|r| (r.report_date, r.created_at, HistoryItem::Record(r))),
        )
        .collect();
    items.sort_by_key(|i| std::cmp::Reverse((i.0, i.1)));
    Ok(web::Json(History {
        items: items.into_iter().map(|(_, _, i)| i).collect(),
    }))
}

/// The calling patient's visit notes, newest first.
#[utoipa::path(get, path = "/api/v1/me/notes", tag = "history", operation_id = "list_my_notes",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<VisitNote>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    ))]
pub async fn list_my_notes(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
) -> Result<web::Json<Vec<VisitNote>>, ApiError> {
    let st = state.clone();
    Ok(web::Json(
        db::run(&state.pool, move |conn| {
            history::list(conn, st.engine.keys(), patient.id)
        })
        .await?,
    ))
}

/// Who accessed or asked for the calling patient's records, newest first (from the ledger).
#[utoipa::path(get, path = "/api/v1/me/access-log", tag = "history", operation_id = "get_my_access_log",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = Page<AccessLogEntry>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    ))]
pub async fn get_my_access_log(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
    query: web::Query<ListQuery>,
) -> Result<web::Json<Page<AccessLogEntry>>, ApiError> {
    let paging = Paging::from_query(&query)?;
    Ok(web::Json(
        db::run(&state.pool, move |conn| {
            crate::ledger::access_log(conn, patient.id, &paging)
        })
        .await?,
    ))
}
