//! Records: upload (patient), list and read metadata, download (owner, or doctor with a live
//! grant), delete (owner or admin).

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use base64::Engine as _;
use futures_util::StreamExt;
use medvault_types::{
    ErrorBody, Page, RecordListQuery, RecordMeta, Role, StorageUsage, UploadRecordForm,
};
use uuid::Uuid;

use crate::accounts::care;
use crate::accounts::search::Paging;
use crate::auth::{AnyUser, PatientUser};
use crate::db;
use crate::error::ApiError;
use crate::records::service::{self, Download};
use crate::records::{filename, upload};
use crate::state::AppState;

/// Uploads a report: the file is streamed, type-checked from its bytes, sealed and spread
/// over the buckets; nothing is kept if anything fails.
#[utoipa::path(post, path = "/api/v1/records", tag = "records", operation_id = "upload_record",
    security(("bearer" = [])),
    request_body(content = UploadRecordForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = RecordMeta),
        (status = 400, description = "Malformed or truncated multipart body", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 413, description = "File over the size limit or the patient's quota", body = ErrorBody),
        (status = 415, description = "Type not recognised, not allowed, or not what was declared", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn upload_record(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let pid = patient.id;
    let used = db::run(&state.pool, move |conn| service::used_bytes(conn, pid)).await?;
    let cfg = &state.config.records;
    let limits = upload::Limits {
        max_file: cfg.max_file_bytes,
        quota_left: cfg.quota_bytes.saturating_sub(used),
        allowed: cfg.allowed_types.clone(),
    };
    let parsed = upload::parse(&state.engine, form, &limits).await?;
    let manifest = parsed.stored.manifest.clone();
    let st = state.clone();
    let quota = cfg.quota_bytes;
    let committed = db::write(&state.pool, move |conn| {
        service::commit(
            conn,
            st.engine.keys(),
            pid,
            quota,
            &parsed.meta,
            &parsed.stored,
        )
    })
    .await;
    match committed {
        Ok(meta) => Ok(HttpResponse::Created().json(meta)),
        Err(e) => {
            if let Err(de) = state.engine.delete(&manifest).await {
                tracing::warn!(error = %de, "could not delete shards of an uncommitted upload; gc will");
            }
            Err(e)
        }
    }
}

/// Lists records: a patient's own, or (doctor) those of `patient_id`, a patient in their care.
#[utoipa::path(get, path = "/api/v1/records", tag = "records", operation_id = "list_records",
    security(("bearer" = [])),
    params(RecordListQuery),
    responses(
        (status = 200, body = Page<RecordMeta>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Patient not in the doctor's care", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn list_records(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    query: web::Query<RecordListQuery>,
) -> Result<web::Json<Page<RecordMeta>>, ApiError> {
    let q = query.into_inner();
    let paging = Paging::from_query(&medvault_types::ListQuery {
        page: q.page,
        per_page: q.per_page,
        q: None,
    })?;
    let st = state.clone();
    Ok(web::Json(
        db::run(&state.pool, move |conn| {
            let patient = match user.role {
                Role::Patient => user.id,
                Role::Doctor => {
                    let p = q
                        .patient_id
                        .ok_or_else(|| ApiError::field("patient_id", "is required for doctors"))?;
                    if !care::in_care(conn, &user.id.to_string(), &p.to_string())? {
                        return Err(ApiError::NotFound);
                    }
                    p
                }
                Role::Admin => return Err(ApiError::Forbidden),
            };
            service::list(conn, st.engine.keys(), patient, &paging)
        })
        .await?,
    ))
}

/// One record's metadata (owner, doctor with the patient in care, admin).
#[utoipa::path(get, path = "/api/v1/records/{id}", tag = "records", operation_id = "get_record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Record id")),
    responses(
        (status = 200, body = RecordMeta),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_record(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<RecordMeta>, ApiError> {
    let id = id.into_inner();
    let st = state.clone();
    Ok(web::Json(
        db::run(&state.pool, move |conn| {
            service::get(conn, st.engine.keys(), &user, id)
        })
        .await?,
    ))
}

/// Streams a record's content. The owner patient always; a doctor only under a live grant
/// (each download uses one of the grant's downloads); refusals are recorded in the ledger.
#[utoipa::path(get, path = "/api/v1/records/{id}/content", tag = "records", operation_id = "download_record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Record id")),
    responses(
        (status = 200, description = "The file, streamed", content_type = "application/octet-stream"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "No live grant (doctor) or admin", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, description = "Too many buckets unavailable to rebuild the record", body = ErrorBody),
    ))]
pub async fn download_record(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let decision = db::write(&state.pool, move |conn| {
        service::authorise_download(conn, &user, id)
    })
    .await?;
    let row = match decision {
        Download::Allowed(row) => row,
        Download::Refused => return Err(ApiError::NoGrant),
    };
    let (manifest, wrapped) = row.sealed()?.ok_or(ApiError::NotFound)?;
    let (stream, report) = state
        .engine
        .get_with_report(&manifest, &wrapped, id)
        .map_err(ApiError::storage)?;
    // Read the first piece before answering, so the common failures (keys, missing buckets)
    // are an error status rather than a broken body.
    let mut stream = stream;
    let first = match stream.next().await {
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => return Err(ApiError::storage(e)),
        None => None,
    };
    let erasures = report.erasures();
    if !erasures.is_empty() {
        tracing::warn!(record = %id, erasures = erasures.len(), "record read with erasures; needs repair");
    }
    let body = futures_util::stream::iter(first.map(Ok))
        .chain(stream)
        .map(|r| {
            r.map_err(|e| {
                tracing::error!(error = %e, "record stream failed mid-body");
                std::io::Error::other("record stream failed")
            })
        });
    let sha = hex::decode(&row.sha256).unwrap_or_default();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, row.content_type.clone()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            filename::content_disposition(&row.file_name),
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
        .no_chunking(u64::try_from(row.size_bytes).unwrap_or(0))
        .streaming(body))
}

/// Deletes a record (owner patient or admin) by destroying its key at once; its shards are
/// removed by the collector. The ledger keeps its history.
#[utoipa::path(delete, path = "/api/v1/records/{id}", tag = "records", operation_id = "delete_record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Record id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn delete_record(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    db::write(&state.pool, move |conn| service::delete(conn, &user, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The patient's storage use, quota and accepted types.
#[utoipa::path(get, path = "/api/v1/me/storage", tag = "records", operation_id = "get_my_storage",
    security(("bearer" = [])),
    responses(
        (status = 200, body = StorageUsage),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    ))]
pub async fn get_my_storage(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
) -> Result<web::Json<StorageUsage>, ApiError> {
    let pid = patient.id;
    let used = db::run(&state.pool, move |conn| service::used_bytes(conn, pid)).await?;
    let cfg = &state.config.records;
    Ok(web::Json(StorageUsage {
        used_bytes: used,
        quota_bytes: cfg.quota_bytes,
        max_file_bytes: cfg.max_file_bytes,
        allowed_types: cfg.allowed_types.clone(),
    }))
}
