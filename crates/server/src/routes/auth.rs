//! Sign-in, token refresh and sign-out.

use actix_web::{HttpResponse, web};
use medvault_types::{ErrorBody, LoginRequest, RefreshRequest, TokenResponse};
use zeroize::Zeroizing;

use crate::accounts::users::{self, UserRow};
use crate::auth::sessions::{self, Issued};
use crate::auth::{SignedIn, throttle};
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;
use crate::time;

/// Longest password worth hashing; longer ones cannot match (new passwords are <= 128).
const MAX_PASSWORD_BYTES: usize = 1024;

fn token_response(
    state: &AppState,
    user: &UserRow,
    issued: Issued,
) -> Result<TokenResponse, ApiError> {
    let access_token = state
        .jwt
        .issue(user.uuid()?, user.role()?, issued.session_id)?;
    Ok(TokenResponse {
        access_token,
        refresh_token: issued.refresh_token,
        token_type: "Bearer".into(),
        expires_in: state.jwt.ttl_secs(),
        user: user.summary()?,
    })
}

/// Signs in. Unknown email, wrong password and deactivated account all answer the same 401
/// after the same work; repeated failures on one email slow down, then lock it (429).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", operation_id = "create_session",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Invalid email or password", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    ))]
pub async fn login(
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let LoginRequest { email, password } = body.into_inner();
    let password = Zeroizing::new(password);
    let email = email.trim().to_lowercase();
    let key = throttle::email_key(&email);
    let user = {
        let key = key.clone();
        let email = email.clone();
        db::run(&state.pool, move |conn| {
            throttle::check(conn, &key, time::now())?;
            users::find_by_email(conn, &email)
        })
        .await?
    };
    let too_long = password.len() > MAX_PASSWORD_BYTES;
    let candidate = if too_long {
        Zeroizing::new(String::new())
    } else {
        password
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = state.hasher.verify(candidate, hash).await? && !too_long;
    let accepted = user.filter(|u| matches && u.active);
    let Some(user) = accepted else {
        let config = state.config.auth.clone();
        db::run(&state.pool, move |conn| {
            throttle::record_failure(conn, &key, time::now(), &config)
        })
        .await?;
        return Err(ApiError::InvalidCredentials);
    };
    let ttl = state.config.auth.refresh_ttl_secs;
    let (user, issued) = db::run(&state.pool, move |conn| {
        throttle::clear(conn, &key)?;
        let issued = sessions::open(conn, &user.id, ttl)?;
        Ok((user, issued))
    })
    .await?;
    tracing::info!(user = %user.id, "signed in");
    Ok(web::Json(token_response(&state, &user, issued)?))
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting a
/// spent one revokes the whole session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", operation_id = "refresh_session",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Unknown, spent, revoked or expired refresh token", body = ErrorBody),
    ))]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let token = Zeroizing::new(body.into_inner().refresh_token);
    let (user, issued) = db::run(&state.pool, move |conn| sessions::rotate(conn, &token)).await?;
    Ok(web::Json(token_response(&state, &user, issued)?))
}

/// Ends the caller's session: its refresh token and access tokens stop working.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", operation_id = "delete_session",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, body = ErrorBody),
    ))]
pub async fn logout(
    state: web::Data<AppState>,
    SignedIn(user): SignedIn,
) -> Result<HttpResponse, ApiError> {
    let sid = user.session_id.to_string();
    db::run(&state.pool, move |conn| sessions::revoke(conn, &sid)).await?;
    Ok(HttpResponse::NoContent().finish())
}
