//! Admin: account state of any user (deactivate, reactivate, reset password).

use actix_web::web;
use medvault_types::{ErrorBody, TemporaryPassword, User};
use uuid::Uuid;

use crate::accounts::users;
use crate::auth::password::temporary_password;
use crate::auth::{AdminUser, sessions, throttle};
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

fn not_self(admin: &AdminUser, id: Uuid) -> Result<(), ApiError> {
    if admin.0.id == id {
        Err(ApiError::Conflict(
            "administrators cannot do this to their own account",
        ))
    } else {
        Ok(())
    }
}

/// Deactivates a user: sign-in refused, every session revoked, effective at their next
/// request.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/deactivate", tag = "admin",
    operation_id = "deactivate_user",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, body = User),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Own account", body = ErrorBody),
    ))]
pub async fn deactivate_user(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<User>, ApiError> {
    let id = id.into_inner();
    not_self(&admin, id)?;
    let user = db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let row = users::find(conn, id)?.ok_or(ApiError::NotFound)?;
            users::set_active(conn, &row.id, false)?;
            sessions::revoke_all(conn, &row.id, None)?;
            crate::ledger::user_event(conn, Some(admin.0.id), "user.deactivate", &row.id)?;
            users::find(conn, id)?.ok_or(ApiError::NotFound)
        })
    })
    .await?;
    tracing::info!(user = %id, "user deactivated");
    Ok(web::Json(user.to_dto()?))
}

/// Reactivates a user.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/reactivate", tag = "admin",
    operation_id = "reactivate_user",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, body = User),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn reactivate_user(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<User>, ApiError> {
    let id = id.into_inner();
    let user = db::write(&state.pool, move |conn| {
        let row = users::find(conn, id)?.ok_or(ApiError::NotFound)?;
        users::set_active(conn, &row.id, true)?;
        crate::ledger::user_event(conn, Some(admin.id), "user.reactivate", &row.id)?;
        users::find(conn, id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    tracing::info!(user = %id, "user reactivated");
    Ok(web::Json(user.to_dto()?))
}

/// Replaces a user's password with a temporary one (returned once), revokes their sessions
/// and lifts a sign-in lock; they must change it at their next sign-in.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/reset-password", tag = "admin",
    operation_id = "reset_user_password",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, body = TemporaryPassword),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Own account", body = ErrorBody),
    ))]
pub async fn reset_password(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<TemporaryPassword>, ApiError> {
    let id = id.into_inner();
    not_self(&admin, id)?;
    // 404 before spending a hash on an unknown id.
    db::run(&state.pool, move |conn| {
        users::find(conn, id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    let password = temporary_password();
    let hash = state.hasher.hash(password.clone()).await?;
    db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let row = users::find(conn, id)?.ok_or(ApiError::NotFound)?;
            users::set_password(conn, &row.id, &hash, true)?;
            sessions::revoke_all(conn, &row.id, None)?;
            crate::ledger::user_event(conn, Some(admin.0.id), "user.reset_password", &row.id)?;
            throttle::clear(conn, &throttle::email_key(&row.email))
        })
    })
    .await?;
    tracing::info!(user = %id, "password reset");
    Ok(web::Json(TemporaryPassword {
        temporary_password: password.to_string(),
    }))
}
