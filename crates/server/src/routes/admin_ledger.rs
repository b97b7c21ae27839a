//! Admin: the ledger (browse, verify) and the overview (counts, storage health).

use actix_web::{get, web};
use medvault_types::{AdminOverview, LedgerPage, LedgerQuery, LedgerVerification, StorageOverview};

use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::ledger::browse;
use crate::overview;
use crate::routes::responses::{AuthErrors, AuthOrInvalid};
use crate::state::AppState;

/// Ledger entries, newest first; page backwards with `before`.
#[utoipa::path(tag = "ledger", operation_id = "list_ledger",
    security(("bearer" = [])),
    params(LedgerQuery),
    responses((status = 200, body = LedgerPage), AuthOrInvalid))]
#[get("/api/v1/admin/ledger")]
pub async fn list_ledger(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<LedgerQuery>,
) -> Result<web::Json<LedgerPage>, ApiError> {
    Ok(web::Json(browse::page(&state, query.into_inner()).await?))
}

/// Recomputes the whole chain and names the first broken link.
#[utoipa::path(tag = "ledger", operation_id = "verify_ledger",
    security(("bearer" = [])),
    responses((status = 200, body = LedgerVerification), AuthErrors))]
#[get("/api/v1/admin/ledger/verify")]
pub async fn verify_ledger(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<web::Json<LedgerVerification>, ApiError> {
    Ok(web::Json(browse::verify(&state).await?))
}

/// Counts, stored bytes, and the health of every bucket.
#[utoipa::path(tag = "ledger", operation_id = "get_overview",
    security(("bearer" = [])),
    responses((status = 200, body = AdminOverview), AuthErrors))]
#[get("/api/v1/admin/overview")]
pub async fn get_overview(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<web::Json<AdminOverview>, ApiError> {
    Ok(web::Json(overview::build(&state).await?))
}

/// Storage health: live records by the class their last scrub found (healthy, misplaced,
/// degraded, at risk, lost, never scrubbed), queued repairs, the last and the oldest scrub.
#[utoipa::path(tag = "ledger", operation_id = "get_storage",
    security(("bearer" = [])),
    responses((status = 200, body = StorageOverview), AuthErrors))]
#[get("/api/v1/admin/storage")]
pub async fn get_storage(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<web::Json<StorageOverview>, ApiError> {
    Ok(web::Json(overview::storage(&state).await?))
}
