//! The signed-in user and their password.

use actix_web::{HttpResponse, web};
use medvault_types::{ChangePasswordRequest, ErrorBody, User};
use zeroize::Zeroizing;

use crate::accounts::users;
use crate::auth::{SignedIn, sessions, throttle};
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;
use crate::time;
use crate::validate;

/// Who am I. Allowed while a password change is pending.
#[utoipa::path(get, path = "/api/v1/me", tag = "me", operation_id = "get_me",
    security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
pub async fn get_me(
    state: web::Data<AppState>,
    SignedIn(user): SignedIn,
) -> Result<web::Json<User>, ApiError> {
    let row = db::run(&state.pool, move |conn| {
        users::find(conn, user.id)?.ok_or(ApiError::Unauthorized)
    })
    .await?;
    Ok(web::Json(row.to_dto()?))
}

/// Changes the password: the current one must be right (failures count towards the sign-in
/// lock); clears must-change-password and signs out every other session.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "me", operation_id = "update_my_password",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; other sessions revoked"),
        (status = 401, body = ErrorBody),
        (status = 422, description = "Wrong current password or weak new one", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ))]
pub async fn change_password(
    state: web::Data<AppState>,
    SignedIn(user): SignedIn,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let ChangePasswordRequest {
        current_password,
        new_password,
    } = body.into_inner();
    let current = Zeroizing::new(current_password);
    let new = Zeroizing::new(
        validate::new_password(&new_password, &user.email)
            .map_err(|m| ApiError::field("new_password", m))?,
    );
    drop(Zeroizing::new(new_password));
    if *new == *current {
        return Err(ApiError::field(
            "new_password",
            "must differ from the current password",
        ));
    }
    let key = throttle::email_key(&user.email);
    let row = {
        let key = key.clone();
        db::run(&state.pool, move |conn| {
            throttle::check(conn, &key, time::now())?;
            users::find(conn, user.id)?.ok_or(ApiError::Unauthorized)
        })
        .await?
    };
    if !state
        .hasher
        .verify(current, Some(row.password_hash.clone()))
        .await?
    {
        let config = state.config.auth.clone();
        db::run(&state.pool, move |conn| {
            throttle::record_failure(conn, &key, time::now(), &config)
        })
        .await?;
        return Err(ApiError::field("current_password", "is incorrect"));
    }
    let hash = state.hasher.hash(new).await?;
    let keep = user.session_id.to_string();
    db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            users::set_password(conn, &row.id, &hash, false)?;
            sessions::revoke_all(conn, &row.id, Some(&keep))?;
            crate::ledger::user_event(conn, Some(user.id), "user.password_change", &row.id)?;
            throttle::clear(conn, &key)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
