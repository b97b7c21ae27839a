//! Sign-in, token refresh and sign-out.

use actix_web::{HttpRequest, HttpResponse, post, web};
use medvault_types::{
    ErrorBody, LoginRequest, MfaChallenge, MfaLoginRequest, ReauthenticateRequest, Reauthenticated,
    RefreshRequest, TokenResponse, UnlockRequest,
};

use crate::accounts::status;
use crate::auth::credentials::{self, SignIn};
use crate::auth::{AnyUser, SignedIn};
use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::routes::responses::{AuthErrors, SessionErrors};
use crate::routes::session_cookie;
use crate::state::AppState;

/// The `X-Medvault-Session` header of sign-in, refresh and sign-out: `cookie` (the browser
/// app) puts the refresh token in the `HttpOnly` cookie `medvault_refresh` instead of the JSON
/// body; API clients leave it out and get both tokens in the body.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct SessionMode {
    /// `cookie`, or absent.
    #[param(rename = "X-Medvault-Session")]
    pub mode: Option<String>,
}

/// Signs in. Unknown email, wrong password and deactivated account all answer the same 401
/// after the same work; repeated failures on one account from one address slow down, then
/// lock that pair (429), and many failures from one address lock the address. An
/// account with a sign-in second factor answers 202 with a challenge for
/// `POST /api/v1/auth/login/mfa` instead of tokens.
#[utoipa::path(tag = "auth", operation_id = "create_session",
    request_body = LoginRequest,
    params(SessionMode),
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 202, description = "Password right; a second-factor code must follow", body = MfaChallenge),
        (status = 401, description = "Invalid email or password", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    ))]
#[post("/api/v1/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    ClientAddr(from): ClientAddr,
    body: super::json::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(
        match credentials::sign_in(&state, body.into_inner(), from).await? {
            SignIn::Session(tokens) => {
                session_cookie::tokens_answer(&state, session_cookie::wanted(&req), tokens)
            }
            SignIn::SecondFactor(challenge) => HttpResponse::Accepted().json(challenge),
        },
    )
}

/// The second step of sign-in: a code from the authenticator app (each accepted once) or an
/// unused recovery code, for the challenge of the password step (valid five minutes). It
/// counts against the same attempt counter as the password; a wrong code, an unknown or
/// expired challenge: 401.
#[utoipa::path(tag = "auth", operation_id = "complete_session_mfa",
    request_body = MfaLoginRequest,
    params(SessionMode),
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Wrong code, or unknown or expired challenge", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    ))]
#[post("/api/v1/auth/login/mfa")]
pub async fn login_mfa(
    state: web::Data<AppState>,
    req: HttpRequest,
    ClientAddr(from): ClientAddr,
    body: super::json::Json<MfaLoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let tokens = credentials::sign_in_second_step(&state, body.into_inner(), from).await?;
    Ok(session_cookie::tokens_answer(
        &state,
        session_cookie::wanted(&req),
        tokens,
    ))
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting a
/// spent one revokes the whole session. API clients send the token in the body; the browser app
/// sends no body but the `X-Medvault-Session: cookie` header, and its token travels in the
/// `HttpOnly` cookie (the cookie without the header is refused).
#[utoipa::path(tag = "auth", operation_id = "refresh_session",
    request_body(content = RefreshRequest, description = "Omitted in cookie mode"),
    params(SessionMode),
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Unknown, spent, revoked or expired refresh token", body = ErrorBody),
        (status = 422, description = "No refresh token in the body", body = ErrorBody),
    ))]
#[post("/api/v1/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Option<web::Json<RefreshRequest>>,
) -> Result<HttpResponse, ApiError> {
    let cookie_mode = session_cookie::wanted(&req);
    let token = if cookie_mode {
        session_cookie::token(&req).ok_or(ApiError::Unauthorized)?
    } else {
        body.map(|b| b.into_inner().refresh_token)
            .ok_or_else(|| ApiError::field("refresh_token", "is required"))?
    };
    let tokens = credentials::refresh(
        &state,
        RefreshRequest {
            refresh_token: token,
        },
    )
    .await?;
    Ok(session_cookie::tokens_answer(&state, cookie_mode, tokens))
}

/// Ends the caller's session: its refresh token and access tokens stop working, and the
/// browser's refresh cookie is removed.
#[utoipa::path(tag = "auth", operation_id = "delete_session",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        SessionErrors,
    ))]
#[post("/api/v1/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    SignedIn(user): SignedIn,
) -> Result<HttpResponse, ApiError> {
    credentials::sign_out(&state, &user).await?;
    Ok(HttpResponse::NoContent()
        .cookie(session_cookie::removal(&state))
        .finish())
}

/// Lifts the sign-in locks of the account whose owner got this code by e-mail when failed
/// sign-ins locked it (one use, an hour; ledgered as `user.unlock` by the owner).
#[utoipa::path(tag = "auth", operation_id = "unlock_by_email",
    request_body = UnlockRequest,
    responses(
        (status = 204, description = "Unlocked"),
        (status = 401, description = "Unknown, spent or expired code", body = ErrorBody),
    ))]
#[post("/api/v1/auth/unlock")]
pub async fn unlock(
    state: web::Data<AppState>,
    body: super::json::Json<UnlockRequest>,
) -> Result<HttpResponse, ApiError> {
    status::unlock_by_email(&state, body.into_inner().token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Confirms the caller's password again, with a second-factor `code` when the account has
/// one. For the next few minutes (`auth.recent_auth_secs`) the session counts as recently
/// authenticated, which sensitive actions (emergency access, approving consent, deactivating
/// users, resetting a second factor) require. A wrong password or code counts towards the
/// sign-in lock.
#[utoipa::path(tag = "auth", operation_id = "reauthenticate",
    security(("bearer" = [])),
    request_body = ReauthenticateRequest,
    responses(
        (status = 200, body = Reauthenticated),
        AuthErrors,
        (status = 422, description = "Wrong password, or missing or wrong code", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    ))]
#[post("/api/v1/auth/reauthenticate")]
pub async fn reauthenticate(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    body: super::json::Json<ReauthenticateRequest>,
) -> Result<web::Json<Reauthenticated>, ApiError> {
    Ok(web::Json(
        credentials::reauthenticate(&state, &user, body.into_inner()).await?,
    ))
}
