//! Patient: the locks that wrong authenticator codes put on their consent, and lifting them.

use actix_web::{HttpResponse, delete, get, web};
use medvault_types::ConsentLocks;

use crate::auth::PatientUser;
use crate::consent::totp_lock;
use crate::error::ApiError;
use crate::routes::responses::AuthErrors;
use crate::state::AppState;

/// Doctors locked out of the calling patient's authenticator codes (too many wrong ones) and the
/// delay every doctor must wait before the next try.
#[utoipa::path(tag = "consent", operation_id = "get_my_consent_locks",
    security(("bearer" = [])),
    responses((status = 200, body = ConsentLocks), AuthErrors))]
#[get("/api/v1/me/consent-locks")]
pub async fn get_my_consent_locks(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
) -> Result<web::Json<ConsentLocks>, ApiError> {
    Ok(web::Json(totp_lock::for_patient(&state, patient.id).await?))
}

/// Lifts every lock and the delay (the wrong codes given so far are forgotten).
#[utoipa::path(tag = "consent", operation_id = "lift_my_consent_locks",
    security(("bearer" = [])),
    responses((status = 204, description = "Lifted"), AuthErrors))]
#[delete("/api/v1/me/consent-locks")]
pub async fn lift_my_consent_locks(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
) -> Result<HttpResponse, ApiError> {
    totp_lock::lift(&state, patient.id).await?;
    Ok(HttpResponse::NoContent().finish())
}
