//! Admin: the ledger (browse, verify) and the overview (counts, storage health).

use actix_web::web;
use diesel::prelude::*;
use medvault_types::{
    AdminOverview, BucketHealth, ErrorBody, LedgerPage, LedgerQuery, LedgerVerification,
};

use crate::auth::AdminUser;
use crate::db;
use crate::db::schema::{ledger as ledger_t, records, users};
use crate::error::ApiError;
use crate::ledger;
use crate::state::AppState;

/// Largest ledger page.
const MAX_LEDGER_PAGE: u32 = 500;

/// Ledger entries, newest first; page backwards with `before`.
#[utoipa::path(get, path = "/api/v1/admin/ledger", tag = "ledger", operation_id = "list_ledger",
    security(("bearer" = [])),
    params(LedgerQuery),
    responses(
        (status = 200, body = LedgerPage),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn list_ledger(
    state: web::Data<AppState>,
    AdminUser(_admin): AdminUser,
    query: web::Query<LedgerQuery>,
) -> Result<web::Json<LedgerPage>, ApiError> {
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(50);
    if limit == 0 || limit > MAX_LEDGER_PAGE {
        return Err(ApiError::field(
            "limit",
            format!("must be 1 to {MAX_LEDGER_PAGE}"),
        ));
    }
    if q.before.is_some_and(|b| b < 1) {
        return Err(ApiError::field(
            "before",
            "must be a positive sequence number",
        ));
    }
    if q.action.as_ref().is_some_and(|a| a.len() > 64) {
        return Err(ApiError::field("action", "too long"));
    }
    let (items, total) = db::run(&state.pool, move |conn| {
        ledger::page(conn, q.before, i64::from(limit), q.action.as_deref())
    })
    .await?;
    let next_before = items.last().map(|e| e.seq).filter(|s| *s > 1);
    Ok(web::Json(LedgerPage {
        next_before: if items.len() < limit as usize {
            None
        } else {
            next_before
        },
        items,
        total: u64::try_from(total).unwrap_or(0),
    }))
}

/// Recomputes the whole chain and names the first broken link.
#[utoipa::path(get, path = "/api/v1/admin/ledger/verify", tag = "ledger", operation_id = "verify_ledger",
    security(("bearer" = [])),
    responses(
        (status = 200, body = LedgerVerification),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    ))]
pub async fn verify_ledger(
    state: web::Data<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<web::Json<LedgerVerification>, ApiError> {
    Ok(web::Json(db::run(&state.pool, ledger::verify).await?))
}

/// Counts, stored bytes, and the health of every bucket.
#[utoipa::path(get, path = "/api/v1/admin/overview", tag = "ledger", operation_id = "get_overview",
    security(("bearer" = [])),
    responses(
        (status = 200, body = AdminOverview),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    ))]
pub async fn get_overview(
    state: web::Data<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<web::Json<AdminOverview>, ApiError> {
    let (doctors, patients, recs, sizes, entries) = db::run(&state.pool, |conn| {
        let doctors: i64 = users::table
            .filter(users::role.eq("doctor"))
            .count()
            .get_result(conn)?;
        let patients: i64 = users::table
            .filter(users::role.eq("patient"))
            .count()
            .get_result(conn)?;
        let sizes: Vec<i64> = records::table
            .filter(records::deleted_at.is_null())
            .select(records::size_bytes)
            .load(conn)?;
        let entries: i64 = ledger_t::table.count().get_result(conn)?;
        Ok((
            doctors,
            patients,
            sizes.len(),
            sizes.iter().sum::<i64>(),
            entries,
        ))
    })
    .await?;
    let buckets = state
        .engine
        .health()
        .await
        .into_iter()
        .map(|h| BucketHealth {
            name: h.name,
            ok: h.ok,
            error: h.error,
        })
        .collect();
    let cfg = state.engine.config();
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(web::Json(AdminOverview {
        doctors: n(doctors),
        patients: n(patients),
        records: recs as u64,
        stored_bytes: n(sizes),
        ledger_entries: n(entries),
        buckets,
        k: u32::try_from(cfg.k).unwrap_or(0),
        m: u32::try_from(cfg.m).unwrap_or(0),
    }))
}
