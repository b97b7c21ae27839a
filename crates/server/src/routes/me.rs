//! The signed-in user and their password.

use actix_web::{HttpResponse, get, post, web};
use medvault_types::{ChangePasswordRequest, ErrorBody, User};

use crate::auth::{SignedIn, credentials};
use crate::error::ApiError;
use crate::routes::responses::SessionErrors;
use crate::state::AppState;

/// Who am I. Allowed while a password change is pending.
#[utoipa::path(tag = "me", operation_id = "get_me",
    security(("bearer" = [])),
    responses((status = 200, body = User), SessionErrors))]
#[get("/api/v1/me")]
pub async fn get_me(
    state: web::Data<AppState>,
    SignedIn(user): SignedIn,
) -> Result<web::Json<User>, ApiError> {
    Ok(web::Json(credentials::current_user(&state, &user).await?))
}

/// Changes the password: the current one must be right (failures count towards the sign-in
/// lock); clears must-change-password and signs out every other session.
#[utoipa::path(tag = "me", operation_id = "update_my_password",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; other sessions revoked"),
        SessionErrors,
        (status = 422, description = "Wrong current password or weak new one", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ))]
#[post("/api/v1/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    SignedIn(user): SignedIn,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    credentials::change_password(&state, &user, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
