//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database too).

use actix_web::{HttpResponse, get, web};
use medvault_types::Health;

use crate::state::AppState;

/// The process is up.
#[utoipa::path(tag = "health", operation_id = "get_health",
    responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".into(),
    })
}

/// The database answers a query.
#[utoipa::path(tag = "health", operation_id = "get_readiness",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.is_ready().await {
        HttpResponse::Ok().json(Health {
            status: "ok".into(),
        })
    } else {
        HttpResponse::ServiceUnavailable().json(Health {
            status: "unavailable".into(),
        })
    }
}
