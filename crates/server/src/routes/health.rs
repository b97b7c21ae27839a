//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database too).

use actix_web::{HttpResponse, web};
use diesel::r2d2::R2D2Connection;
use medvault_types::Health;

use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", operation_id = "get_health",
    responses((status = 200, body = Health)))]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".into(),
    })
}

/// The database answers a query.
#[utoipa::path(get, path = "/readyz", tag = "health", operation_id = "get_readiness",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ping = db::run(&state.pool, |conn| {
        conn.ping().map_err(ApiError::unavailable)
    })
    .await;
    match ping {
        Ok(()) => HttpResponse::Ok().json(Health {
            status: "ok".into(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(Health {
                status: "unavailable".into(),
            })
        }
    }
}
