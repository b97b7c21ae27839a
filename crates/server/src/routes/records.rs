//! Records: upload (patient), list and read metadata, download (owner, or doctor with a live
//! grant), delete (owner or admin).

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use base64::Engine as _;
use medvault_types::{
    ErrorBody, Page, RecordId, RecordListQuery, RecordMeta, StorageUsage, UploadRecordForm,
};

use crate::auth::{AnyUser, ClinicalUser, PatientUser};
use crate::error::ApiError;
use crate::records::{download, filename, service, upload};
use crate::routes::responses::{AuthErrors, AuthOrInvalid, AuthOrNotFound, SessionOrNotFound};
use crate::state::AppState;

/// Uploads a report: the file is streamed, type-checked from its bytes, sealed and spread
/// over the buckets; nothing is kept if anything fails.
#[utoipa::path(tag = "records", operation_id = "upload_record",
    security(("bearer" = [])),
    request_body(content = UploadRecordForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = RecordMeta),
        (status = 400, description = "Malformed or truncated multipart body", body = ErrorBody),
        AuthOrInvalid,
        (status = 413, description = "File over the size limit or the patient's quota", body = ErrorBody),
        (status = 415, description = "Type not recognised, not allowed, or not what was declared", body = ErrorBody),
        (status = 429, description = "This user already has as many transfers running as allowed (`Retry-After`)", body = ErrorBody),
        (status = 503, description = "The server runs as many transfers as it allows (`Retry-After`), or storage is unavailable", body = ErrorBody),
        (status = 507, description = "Storage is full; nothing was kept", body = ErrorBody),
    ))]
#[post("/api/v1/records")]
pub async fn upload_record(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let meta = upload::upload(&state, patient.id, form).await?;
    Ok(HttpResponse::Created().json(meta))
}

/// Lists records: a patient's own, or (doctor) those of `patient_id`, a patient in their care.
#[utoipa::path(tag = "records", operation_id = "list_records",
    security(("bearer" = [])),
    params(RecordListQuery),
    responses(
        (status = 200, body = Page<RecordMeta>),
        AuthOrInvalid,
        (status = 404, description = "Patient not in the doctor's care", body = ErrorBody),
    ))]
#[get("/api/v1/records")]
pub async fn list_records(
    state: web::Data<AppState>,
    ClinicalUser(user): ClinicalUser,
    query: web::Query<RecordListQuery>,
) -> Result<web::Json<Page<RecordMeta>>, ApiError> {
    Ok(web::Json(
        service::list_visible(&state, user, query.into_inner()).await?,
    ))
}

/// One record's metadata (owner, doctor with the patient in care, admin).
#[utoipa::path(tag = "records", operation_id = "get_record",
    security(("bearer" = [])),
    params(("id" = RecordId, Path, description = "Record id")),
    responses(
        (status = 200, body = RecordMeta),
        AuthOrNotFound,
    ))]
#[get("/api/v1/records/{id}")]
pub async fn get_record(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    id: web::Path<RecordId>,
) -> Result<web::Json<RecordMeta>, ApiError> {
    Ok(web::Json(
        service::show(&state, user, id.into_inner()).await?,
    ))
}

/// Streams a record's content. The owner patient always; a doctor only under a live grant
/// (each download uses one of the grant's downloads); refusals are recorded in the ledger.
#[utoipa::path(tag = "records", operation_id = "download_record",
    security(("bearer" = [])),
    params(("id" = RecordId, Path, description = "Record id")),
    responses(
        (status = 200, description = "The file, streamed, with the type detected from its bytes at upload (one of the allowed types)", content_type = "*/*"),
        SessionOrNotFound,
        (status = 403, description = "No live grant (doctor) or admin", body = ErrorBody),
        (status = 429, description = "This user already has as many transfers running as allowed (`Retry-After`)", body = ErrorBody),
        (status = 503, description = "Too many buckets unavailable to rebuild the record, or the server runs as many transfers as it allows (`Retry-After`)", body = ErrorBody),
    ))]
#[get("/api/v1/records/{id}/content")]
pub async fn download_record(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    id: web::Path<RecordId>,
) -> Result<HttpResponse, ApiError> {
    let opened = download::open(&state, user, id.into_inner()).await?;
    let sha = hex::decode(&opened.sha256).unwrap_or_default();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, opened.content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            filename::content_disposition(&opened.file_name),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            "Repr-Digest",
            format!(
                "sha-256=:{}:",
                base64::engine::general_purpose::STANDARD.encode(sha)
            ),
        ))
        .no_chunking(opened.size)
        .streaming(opened.body))
}

/// Deletes a record (owner patient or admin) by destroying its key at once; its shards are
/// removed by the collector. The ledger keeps its history.
#[utoipa::path(tag = "records", operation_id = "delete_record",
    security(("bearer" = [])),
    params(("id" = RecordId, Path, description = "Record id")),
    responses(
        (status = 204, description = "Deleted"),
        AuthOrNotFound,
    ))]
#[delete("/api/v1/records/{id}")]
pub async fn delete_record(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    id: web::Path<RecordId>,
) -> Result<HttpResponse, ApiError> {
    service::remove(&state, user, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The patient's storage use, quota and accepted types.
#[utoipa::path(tag = "records", operation_id = "get_my_storage",
    security(("bearer" = [])),
    responses((status = 200, body = StorageUsage), AuthErrors))]
#[get("/api/v1/me/storage")]
pub async fn get_my_storage(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
) -> Result<web::Json<StorageUsage>, ApiError> {
    Ok(web::Json(service::storage_usage(&state, patient.id).await?))
}
