//! The caller's sign-in second factor (authenticator app and recovery codes), and an
//! administrator's reset of another user's.

use actix_web::{HttpResponse, delete, get, post, web};
use medvault_types::{ErrorBody, MfaStatus, RecoveryCodes, TotpCode, TotpEnrollment, UserId};

use crate::auth::{AdminUser, AnyUser, PasswordSet, second_factor};
use crate::error::ApiError;
use crate::routes::responses::{AuthErrors, AuthOrNotFound};
use crate::state::AppState;

/// The caller's sign-in second factor: whether it is set up, whether the role requires it,
/// and how many recovery codes are left. Allowed before it is set up.
#[utoipa::path(tag = "me", operation_id = "get_my_mfa",
    security(("bearer" = [])),
    responses((status = 200, body = MfaStatus), AuthErrors))]
#[get("/api/v1/me/mfa")]
pub async fn get_mfa(
    state: web::Data<AppState>,
    PasswordSet(user): PasswordSet,
) -> Result<web::Json<MfaStatus>, ApiError> {
    Ok(web::Json(second_factor::status(&state, &user).await?))
}

/// Starts setting up an authenticator app for sign-in: a fresh secret as a QR code, an
/// `otpauth://` URI and base32 text. Replaces a set-up in progress; 409 once one is confirmed.
#[utoipa::path(tag = "me", operation_id = "start_my_mfa_enrollment",
    security(("bearer" = [])),
    responses(
        (status = 200, body = TotpEnrollment),
        AuthErrors,
        (status = 409, description = "Already set up", body = ErrorBody),
    ))]
#[post("/api/v1/me/mfa/enrollment")]
pub async fn start_enrollment(
    state: web::Data<AppState>,
    PasswordSet(user): PasswordSet,
) -> Result<web::Json<TotpEnrollment>, ApiError> {
    Ok(web::Json(second_factor::start(&state, &user).await?))
}

/// Confirms the set-up with a first code from the app. The answer holds ten single-use
/// recovery codes, shown only this once. A wrong code counts towards the sign-in lock.
#[utoipa::path(tag = "me", operation_id = "confirm_my_mfa_enrollment",
    security(("bearer" = [])),
    request_body = TotpCode,
    responses(
        (status = 200, body = RecoveryCodes),
        AuthErrors,
        (status = 409, description = "Nothing to confirm, or already set up", body = ErrorBody),
        (status = 422, description = "Wrong or expired code", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    ))]
#[post("/api/v1/me/mfa/enrollment/confirm")]
pub async fn confirm_enrollment(
    state: web::Data<AppState>,
    PasswordSet(user): PasswordSet,
    body: super::json::Json<TotpCode>,
) -> Result<web::Json<RecoveryCodes>, ApiError> {
    let code = body.into_inner().code;
    Ok(web::Json(
        second_factor::confirm(&state, &user, code).await?,
    ))
}

/// Turns the caller's sign-in second factor off. Only for accounts that need none (403 for
/// staff); needs a recent authentication (403 `reauth_required`).
#[utoipa::path(tag = "me", operation_id = "delete_my_mfa",
    security(("bearer" = [])),
    responses((status = 200, body = MfaStatus), AuthOrNotFound))]
#[delete("/api/v1/me/mfa")]
pub async fn disable(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
) -> Result<web::Json<MfaStatus>, ApiError> {
    Ok(web::Json(second_factor::disable(&state, &user).await?))
}

/// Replaces the caller's recovery codes with ten new ones (shown once; the old ones stop
/// working). Needs a recent authentication; 404 without a second factor.
#[utoipa::path(tag = "me", operation_id = "renew_my_recovery_codes",
    security(("bearer" = [])),
    responses((status = 200, body = RecoveryCodes), AuthOrNotFound))]
#[post("/api/v1/me/mfa/recovery-codes")]
pub async fn renew_recovery_codes(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
) -> Result<web::Json<RecoveryCodes>, ApiError> {
    Ok(web::Json(
        second_factor::renew_recovery_codes(&state, &user).await?,
    ))
}

/// Removes a user's sign-in second factor (a lost phone) and signs out their sessions; staff
/// set up a new one at their next sign-in. Ledgered as `mfa.reset`; the user is told by
/// e-mail when SMTP is configured. Needs the admin's recent authentication. 404 for an
/// unknown user or one without a second factor; 409 on one's own account.
#[utoipa::path(tag = "admin", operation_id = "reset_user_mfa",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "User id")),
    responses(
        (status = 204, description = "Second factor removed"),
        AuthOrNotFound,
        (status = 409, description = "One's own account", body = ErrorBody),
    ))]
#[post("/api/v1/admin/users/{id}/mfa/reset")]
pub async fn reset_user_mfa(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    second_factor::reset_by_admin(&state, &admin, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
