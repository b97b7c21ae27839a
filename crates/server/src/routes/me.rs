//! The signed-in user and their password.

use actix_web::{HttpResponse, get, post, web};
use medvault_types::{ChangePasswordRequest, ErrorBody, User};

use crate::auth::{AnyUser, SignedIn, credentials};
use crate::error::ApiError;
use crate::routes::responses::{AuthErrors, SessionErrors};
use crate::state::AppState;

/// Who am I. Allowed while a password change is pending.
#[utoipa::path(tag = "me", operation_id = "get_me",
    security(("bearer" = [])),
    responses((status = 200, body = User), SessionErrors))]
#[get("/api/v1/me")]
pub async fn get_me(SignedIn(user): SignedIn) -> web::Json<User> {
    web::Json(credentials::current_user(&user))
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
    body: super::json::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    credentials::change_password(&state, &user, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Confirms the account's e-mail address after staff changed it: consent codes are e-mailed
/// to it again at once (otherwise only 24 hours after the change). Idempotent.
#[utoipa::path(tag = "me", operation_id = "confirm_my_email",
    security(("bearer" = [])),
    responses((status = 204, description = "Confirmed"), AuthErrors))]
#[post("/api/v1/me/email/confirm")]
pub async fn confirm_email(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
) -> Result<HttpResponse, ApiError> {
    credentials::confirm_email(&state, &user).await?;
    Ok(HttpResponse::NoContent().finish())
}
