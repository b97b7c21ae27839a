//! A patient's own profile: read all of it, change the contact fields.

use actix_web::{get, patch, web};
use medvault_types::{Patient, UpdateContact};

use crate::accounts::patients;
use crate::auth::PatientUser;
use crate::error::ApiError;
use crate::routes::responses::{AuthErrors, AuthOrInvalid};
use crate::state::AppState;

/// The caller's patient profile.
#[utoipa::path(tag = "me", operation_id = "get_my_profile",
    security(("bearer" = [])),
    responses((status = 200, body = Patient), AuthErrors))]
#[get("/api/v1/me/profile")]
pub async fn get_profile(
    state: web::Data<AppState>,
    PatientUser(user): PatientUser,
) -> Result<web::Json<Patient>, ApiError> {
    let me = user.id;
    Ok(web::Json(patients::read_profile(&state, user, me).await?))
}

/// Changes the caller's contact fields (phone, address, city, state, postal code, emergency
/// contact); absent fields stay, `null` clears.
#[utoipa::path(tag = "me", operation_id = "update_my_profile",
    security(("bearer" = [])),
    request_body = UpdateContact,
    responses((status = 200, body = Patient), AuthOrInvalid))]
#[patch("/api/v1/me/profile")]
pub async fn update_profile(
    state: web::Data<AppState>,
    PatientUser(user): PatientUser,
    body: super::json::Json<UpdateContact>,
) -> Result<web::Json<Patient>, ApiError> {
    Ok(web::Json(
        patients::update_contact(&state, user.id, body.into_inner()).await?,
    ))
}
