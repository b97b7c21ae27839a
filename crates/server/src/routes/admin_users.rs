//! Admin: account state of any user (deactivate, reactivate, reset password).

use actix_web::{HttpResponse, post, web};
use medvault_types::{ErrorBody, TemporaryPassword, User, UserId};

use crate::accounts::status;
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::routes::responses::AuthOrNotFound;
use crate::state::AppState;

/// Deactivates a user: sign-in refused, every session revoked, effective at their next
/// request. Needs a recent password (403 `reauth_required`: `POST /api/v1/auth/reauthenticate`).
#[utoipa::path(tag = "admin", operation_id = "deactivate_user",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "User id")),
    responses(
        (status = 200, body = User),
        AuthOrNotFound,
        (status = 409, description = "Own account", body = ErrorBody),
    ))]
#[post("/api/v1/admin/users/{id}/deactivate")]
pub async fn deactivate_user(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    id: web::Path<UserId>,
) -> Result<web::Json<User>, ApiError> {
    Ok(web::Json(
        status::deactivate(&state, &admin, id.into_inner()).await?,
    ))
}

/// Reactivates a user.
#[utoipa::path(tag = "admin", operation_id = "reactivate_user",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "User id")),
    responses((status = 200, body = User), AuthOrNotFound))]
#[post("/api/v1/admin/users/{id}/reactivate")]
pub async fn reactivate_user(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    id: web::Path<UserId>,
) -> Result<web::Json<User>, ApiError> {
    Ok(web::Json(
        status::reactivate(&state, admin.id, id.into_inner()).await?,
    ))
}

/// Replaces a user's password with a temporary one (returned once), revokes their sessions
/// and lifts a sign-in lock; they must change it at their next sign-in.
#[utoipa::path(tag = "admin", operation_id = "reset_user_password",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "User id")),
    responses(
        (status = 200, body = TemporaryPassword),
        AuthOrNotFound,
        (status = 409, description = "Own account", body = ErrorBody),
    ))]
#[post("/api/v1/admin/users/{id}/reset-password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    id: web::Path<UserId>,
) -> Result<web::Json<TemporaryPassword>, ApiError> {
    Ok(web::Json(
        status::reset_password(&state, admin.id, id.into_inner()).await?,
    ))
}

/// Lifts a user's sign-in lock and forgets their failed attempts (ledgered as `user.unlock`).
#[utoipa::path(tag = "admin", operation_id = "unlock_user",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "User id")),
    responses((status = 204, description = "Unlocked"), AuthOrNotFound))]
#[post("/api/v1/admin/users/{id}/unlock")]
pub async fn unlock_user(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    status::unlock_by_admin(&state, admin.id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
