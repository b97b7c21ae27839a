//! A patient's own profile: read all of it, change the contact fields.

use actix_web::web;
use medvault_types::{ErrorBody, Patient, UpdateContact};

use crate::accounts::patients::{self, Scope};
use crate::auth::PatientUser;
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

/// The caller's patient profile.
#[utoipa::path(get, path = "/api/v1/me/profile", tag = "me", operation_id = "get_my_profile",
    security(("bearer" = [])),
    responses((status = 200, body = Patient), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_profile(
    state: web::Data<AppState>,
    PatientUser(user): PatientUser,
) -> Result<web::Json<Patient>, ApiError> {
    let patient = db::run(&state.pool, move |conn| {
        patients::get(conn, user.id, &Scope::All)
    })
    .await?;
    Ok(web::Json(patient))
}

/// Changes the caller's contact fields (phone, address, city, state, postal code, emergency
/// contact); absent fields stay, `null` clears.
#[utoipa::path(patch, path = "/api/v1/me/profile", tag = "me", operation_id = "update_my_profile",
    security(("bearer" = [])),
    request_body = UpdateContact,
    responses(
        (status = 200, body = Patient),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn update_profile(
    state: web::Data<AppState>,
    PatientUser(user): PatientUser,
    body: web::Json<UpdateContact>,
) -> Result<web::Json<Patient>, ApiError> {
    let changes = patients::validate_contact(body.into_inner())?;
    let patient = db::run(&state.pool, move |conn| {
        patients::update(conn, user.id, user.id, None, &changes)
    })
    .await?;
    Ok(web::Json(patient))
}
