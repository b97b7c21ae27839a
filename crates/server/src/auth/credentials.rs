//! Credentials: signing in, refreshing and ending a session, reading the signed-in user, and
//! changing one's own password. The sign-in throttle counts failures of both sign-in and the
//! current-password check.

use medvault_types::{
    ChangePasswordRequest, LoginRequest, ReauthenticateRequest, Reauthenticated, RefreshRequest,
    TokenResponse, User,
};
use zeroize::Zeroizing;

use crate::accounts::users::{self, UserRow};
use crate::auth::AuthUser;
use crate::auth::recent;
use crate::auth::sessions::{self, Issued};
use crate::auth::throttle;
use crate::db;
use crate::error::ApiError;
use crate::ledger::Action;
use crate::state::{AppState, SharedState};
use crate::{time, validate};

/// Longest password worth hashing; longer ones cannot match (new passwords are <= 128).
const MAX_PASSWORD_BYTES: usize = 1024;

fn token_response(
    state: &AppState,
    user: &UserRow,
    issued: Issued,
) -> Result<TokenResponse, ApiError> {
    let access_token = state.jwt.issue(
        user.user_id()?.as_uuid(),
        user.role()?,
        issued.session_id.as_uuid(),
    )?;
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
pub async fn sign_in(state: &SharedState, req: LoginRequest) -> Result<TokenResponse, ApiError> {
    let LoginRequest { email, password } = req;
    let password = Zeroizing::new(password);
    let email = email.trim().to_lowercase();
    let key = throttle::email_key(&email);
    // Counted before the (slow) password check: a burst of guesses cannot outrun the lock.
    let failures = throttle::reserve(&state.pool, key.clone(), state.config.auth.clone()).await?;
    let user = db::run(&state.pool, move |conn| users::find_by_email(conn, &email)).await?;
    let too_long = password.len() > MAX_PASSWORD_BYTES;
    let candidate = if too_long {
        Zeroizing::new(String::new())
    } else {
        password
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let account = user.as_ref().and_then(|u| u.user_id().ok());
    let matches = state.hasher.verify(candidate, hash).await? && !too_long;
    // A temporary password works once and for a day: afterwards it fails like a wrong one.
    let now = state.clock.now();
    let accepted = user.filter(|u| matches && u.active && u.temporary_still_valid(now));
    let Some(user) = accepted else {
        throttle::ledger_failure(
            &state.pool,
            key,
            account,
            failures,
            state.config.auth.clone(),
        )
        .await?;
        return Err(ApiError::InvalidCredentials);
    };
    let ttl = state.config.auth.refresh_ttl_secs;
    let (user, issued) = db::write(&state.pool, move |conn| {
        // Of two sign-ins racing with one temporary password, one gets the session.
        if user.must_change_password && !users::spend_temporary(conn, &user.id)? {
            return Err(ApiError::InvalidCredentials);
        }
        throttle::clear(conn, &key)?;
        let issued = sessions::open(conn, &user.id, ttl, now)?;
        Ok((user, issued))
    })
    .await?;
    tracing::info!(user = %user.id, "signed in");
    token_response(state, &user, issued)
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting a
/// spent one revokes the whole session.
pub async fn refresh(state: &SharedState, req: RefreshRequest) -> Result<TokenResponse, ApiError> {
    let token = Zeroizing::new(req.refresh_token);
    let (user, issued) =
        db::write(&state.pool, move |conn| sessions::rotate(conn, &token)).await??;
    token_response(state, &user, issued)
}

/// Ends the caller's session: its refresh token and access tokens stop working.
pub async fn sign_out(state: &SharedState, user: &AuthUser) -> Result<(), ApiError> {
    let (sid, id) = (user.session_id.to_string(), user.id);
    db::write(&state.pool, move |conn| {
        sessions::revoke(conn, &sid)?;
        crate::ledger::user_event(conn, Some(id), Action::AuthLogout, &id.to_string())?;
        Ok(())
    })
    .await
}

/// The caller confirms the e-mail address staff set for them: consent codes are e-mailed to
/// it again at once.
pub async fn confirm_email(state: &SharedState, user: &AuthUser) -> Result<(), ApiError> {
    let id = user.id;
    db::write(&state.pool, move |conn| users::confirm_email(conn, id)).await
}

/// The signed-in user's account.
pub async fn current_user(state: &SharedState, user: &AuthUser) -> Result<User, ApiError> {
    let id = user.id;
    let row = db::run(&state.pool, move |conn| {
        users::find(conn, id)?.ok_or(ApiError::Unauthorized)
    })
    .await?;
    row.to_dto()
}

/// Checks the signed-in user's own password (changing it, re-authenticating). A wrong one
/// counts towards the sign-in lock and answers 422 on `field`; while locked, 429.
async fn confirm_password(
    state: &SharedState,
    user: &AuthUser,
    password: Zeroizing<String>,
    field: &'static str,
) -> Result<UserRow, ApiError> {
    let key = throttle::email_key(&user.email);
    let id = user.id;
    let row = {
        let key = key.clone();
        db::run(&state.pool, move |conn| {
            throttle::check(conn, &key, time::now())?;
            users::find(conn, id)?.ok_or(ApiError::Unauthorized)
        })
        .await?
    };
    let too_long = password.len() > MAX_PASSWORD_BYTES;
    let candidate = if too_long {
        Zeroizing::new(String::new())
    } else {
        password
    };
    if too_long
        || !state
            .hasher
            .verify(candidate, Some(row.password_hash.clone()))
            .await?
    {
        throttle::record_failure(&state.pool, key, Some(id), state.config.auth.clone()).await?;
        return Err(ApiError::field(field, "is incorrect"));
    }
    Ok(row)
}

/// Confirms the caller's password again: for the next `auth.recent_auth_secs` the session
/// counts as recently authenticated (`auth::recent`), which sensitive actions require.
/// Ledgered as `auth.reauthenticate`.
pub async fn reauthenticate(
    state: &SharedState,
    user: &AuthUser,
    req: ReauthenticateRequest,
) -> Result<Reauthenticated, ApiError> {
    let password = Zeroizing::new(req.password);
    confirm_password(state, user, password, "password").await?;
    let (id, session) = (user.id, user.session_id);
    let now = state.clock.now();
    let key = throttle::email_key(&user.email);
    db::write(&state.pool, move |conn| {
        recent::mark(conn, session, now)?;
        crate::ledger::user_event(conn, Some(id), Action::AuthReauthenticate, &id.to_string())?;
        throttle::clear(conn, &key)
    })
    .await?;
    let window = chrono::Duration::seconds(
        i64::try_from(state.config.auth.recent_auth_secs).map_err(ApiError::internal)?,
    );
    Ok(Reauthenticated {
        authenticated_at: time::utc(now),
        valid_until: time::utc(now + window),
    })
}

/// Changes the caller's password: the current one must be right (failures count towards the
/// sign-in lock); clears must-change-password and signs out every other session.
pub async fn change_password(
    state: &SharedState,
    user: &AuthUser,
    req: ChangePasswordRequest,
) -> Result<(), ApiError> {
    let ChangePasswordRequest {
        current_password,
        new_password,
    } = req;
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
    let row = confirm_password(state, user, current, "current_password").await?;
    let key = throttle::email_key(&user.email);
    let id = user.id;
    let hash = state.hasher.hash(new).await?;
    let keep = user.session_id.to_string();
    let now = state.clock.now();
    db::write(&state.pool, move |conn| {
        let activated = users::set_password(conn, &row.id, &hash, false, now)?;
        sessions::revoke_all(conn, &row.id, Some(&keep))?;
        crate::ledger::user_event(conn, Some(id), Action::UserPasswordChange, &row.id)?;
        if activated {
            crate::ledger::user_event(conn, Some(id), Action::UserActivate, &row.id)?;
        }
        throttle::clear(conn, &key)
    })
    .await
}
