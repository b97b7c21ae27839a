//! Credentials: signing in, refreshing and ending a session, reading the signed-in user, and
//! changing one's own password. The sign-in throttle counts failures of both sign-in and the
//! current-password check.

use medvault_types::{
    ChangePasswordRequest, LoginRequest, MfaChallenge, MfaLoginRequest, ReauthenticateRequest,
    Reauthenticated, RefreshRequest, TokenResponse, User, UserId,
};
use std::net::IpAddr;

use zeroize::Zeroizing;

use crate::accounts::users::{self, UserRow};
use crate::auth::AuthUser;
use crate::auth::one_time::{self, Purpose};
use crate::auth::sessions::{self, Issued, Lifetime};
use crate::auth::{mfa, recent, throttle};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::ledger::Action;
use crate::state::{AppState, SharedState};
use crate::{time, validate};

/// Longest password worth hashing; longer ones cannot match (new passwords are <= 128).
const MAX_PASSWORD_BYTES: usize = 1024;

/// A session just opened or renewed, with what its answer needs to say.
struct Opened {
    user: UserRow,
    issued: Issued,
    mfa_setup_required: bool,
}

fn token_response(state: &AppState, opened: Opened) -> Result<TokenResponse, ApiError> {
    let Opened {
        user,
        issued,
        mfa_setup_required,
    } = opened;
    let role = user.role()?;
    let access_token =
        state
            .jwt
            .issue(user.user_id()?.as_uuid(), role, issued.session_id.as_uuid())?;
    Ok(TokenResponse {
        access_token,
        refresh_token: Some(issued.refresh_token),
        token_type: "Bearer".into(),
        expires_in: state.jwt.ttl_secs(),
        idle_timeout_secs: state.config.auth.idle_secs(role),
        session_expires_at: time::utc(issued.expires_at),
        user: user.summary(mfa_setup_required)?,
    })
}

/// Opens the session of a completed sign-in (inside its write transaction): forgets the
/// failures of the (account, address) pair and notes whether a second factor must still be set up.
fn open_session(
    conn: &mut DbConn,
    state: &AppState,
    user: UserRow,
    keys: &throttle::Keys,
    now: chrono::NaiveDateTime,
) -> Result<Opened, ApiError> {
    let role = user.role()?;
    throttle::clear(conn, keys)?;
    let issued = sessions::open(conn, &user.id, Lifetime::of(&state.config.auth, role), now)?;
    let mfa_setup_required = mfa::setup_required(conn, &state.config.auth, user.user_id()?, role)?;
    Ok(Opened {
        user,
        issued,
        mfa_setup_required,
    })
}

/// Counts a sign-in attempt before its secret is checked ([`throttle::reserve`]), after the
/// global limit's pause when the server sees many failures.
async fn count_attempt(state: &SharedState, keys: &throttle::Keys) -> Result<i64, ApiError> {
    let per_minute = state.config.auth.global_slowdown_per_minute;
    state.pace.wait_if_busy(state.clock.now(), per_minute).await;
    throttle::reserve(&state.pool, keys, &state.config.auth).await
}

/// Records a failed sign-in step (ledger, global pace; the owner's e-mail when this failure
/// locked their account) and returns the answer for it: 401, or the error that stopped the
/// recording.
async fn failed_attempt(
    state: &SharedState,
    keys: &throttle::Keys,
    failure: throttle::Failure,
) -> ApiError {
    state.pace.note_failure(state.clock.now());
    if let Err(e) = throttle::ledger_failure(&state.pool, keys, failure, &state.config.auth).await {
        return e;
    }
    let locked_now = failure.failures == i64::from(state.config.auth.lock_after);
    if let (true, Some(account)) = (locked_now, failure.account)
        && let Err(e) = send_unlock_code(state, account).await
    {
        return e;
    }
    ApiError::InvalidCredentials
}

/// E-mails an active account's owner the code that lifts its sign-in locks (when SMTP is
/// configured): the unlock path that needs no administrator.
async fn send_unlock_code(state: &SharedState, account: UserId) -> Result<(), ApiError> {
    let Some(mailer) = &state.mailer else {
        return Ok(());
    };
    let now = state.clock.now();
    let issued = db::write(&state.pool, move |conn| {
        let Some(user) = users::find(conn, account)?.filter(|u| u.active) else {
            return Ok(None);
        };
        let code = one_time::issue(conn, &user.id, Purpose::Unlock, now)?;
        Ok(Some((user.email, code)))
    })
    .await?;
    if let Some((email, code)) = issued {
        let link = state
            .config
            .http
            .public_url
            .as_deref()
            .map(|base| format!("{}/unlock#{code}", base.trim_end_matches('/')));
        mailer.send_account_locked(&email, &code, link.as_deref());
    }
    Ok(())
}

/// What the password step of sign-in leads to.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in (no second factor on the account).
    Session(TokenResponse),
    /// The password was right; a second-factor code must follow.
    SecondFactor(MfaChallenge),
}

/// Signs in. Unknown email, wrong password and deactivated account all answer the same 401
/// after the same work; repeated failures on one email slow down, then lock it (429). An
/// account with a second factor gets a challenge for [`sign_in_second_step`] instead of a
/// session; the attempt stays counted until that step succeeds.
pub async fn sign_in(
    state: &SharedState,
    req: LoginRequest,
    from: IpAddr,
) -> Result<SignIn, ApiError> {
    let LoginRequest { email, password } = req;
    let password = Zeroizing::new(password);
    let email = email.trim().to_lowercase();
    let keys = throttle::Keys::new(&email, from);
    // Counted before the (slow) password check: a burst of guesses cannot outrun the lock.
    let failures = count_attempt(state, &keys).await?;
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
        let failed = throttle::Failure {
            account,
            failures,
            step: "password",
        };
        return Err(failed_attempt(state, &keys, failed).await);
    };
    let st = SharedState::clone(state);
    let step = db::write(&state.pool, move |conn| {
        // Of two sign-ins racing with one temporary password, one gets the session.
        if user.must_change_password && !users::spend_temporary(conn, &user.id)? {
            return Err(ApiError::InvalidCredentials);
        }
        // The password was right: not a failure of this address.
        throttle::forgive_address(conn, &keys, &st.config.auth)?;
        if mfa::is_enabled(conn, user.user_id()?)? {
            return Ok(Err(one_time::issue(
                conn,
                &user.id,
                Purpose::SecondFactor,
                now,
            )?));
        }
        open_session(conn, &st, user, &keys, now).map(Ok)
    })
    .await?;
    match step {
        Ok(opened) => {
            tracing::info!(user = %opened.user.id, "signed in");
            Ok(SignIn::Session(token_response(state, opened)?))
        }
        Err(mfa_token) => Ok(SignIn::SecondFactor(MfaChallenge {
            mfa_token,
            expires_in: Purpose::SecondFactor.lifetime_secs(),
        })),
    }
}

/// The second step of sign-in: a code from the authenticator app, or a recovery code, for a
/// live challenge. Counted against the same attempt counter as the password (before the code
/// is checked); a wrong code, an unknown or expired challenge: 401.
pub async fn sign_in_second_step(
    state: &SharedState,
    req: MfaLoginRequest,
    from: IpAddr,
) -> Result<TokenResponse, ApiError> {
    let token = Zeroizing::new(req.mfa_token);
    let code = Zeroizing::new(req.code);
    let now = state.clock.now();
    let user = {
        let token = token.clone();
        db::run(&state.pool, move |conn| {
            let Some(id) = one_time::pending(conn, &token, Purpose::SecondFactor, now)? else {
                return Ok(None);
            };
            Ok(users::find(conn, id)?.filter(|u| u.active))
        })
        .await?
        .ok_or(ApiError::InvalidCredentials)?
    };
    let keys = throttle::Keys::new(&user.email, from);
    let failures = count_attempt(state, &keys).await?;
    let account = user.user_id()?;
    let st = SharedState::clone(state);
    let session_keys = keys.clone();
    let unix_now = state.clock.unix_secs();
    let opened = db::write(&state.pool, move |conn| {
        if mfa::verify(conn, st.engine.keys(), account, &code, now, unix_now)?.is_none() {
            return Ok(None);
        }
        if !one_time::spend(conn, &token, Purpose::SecondFactor, now)? {
            return Ok(None);
        }
        throttle::forgive_address(conn, &session_keys, &st.config.auth)?;
        open_session(conn, &st, user, &session_keys, now).map(Some)
    })
    .await?;
    let Some(opened) = opened else {
        let failed = throttle::Failure {
            account: Some(account),
            failures,
            step: "second_factor",
        };
        return Err(failed_attempt(state, &keys, failed).await);
    };
    tracing::info!(user = %opened.user.id, "signed in with a second factor");
    token_response(state, opened)
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting a
/// spent one revokes the whole session. An idle or ended session is refused.
pub async fn refresh(state: &SharedState, req: RefreshRequest) -> Result<TokenResponse, ApiError> {
    let token = Zeroizing::new(req.refresh_token);
    let now = state.clock.now();
    let st = SharedState::clone(state);
    let opened = db::write(&state.pool, move |conn| {
        let rotated = sessions::rotate(conn, &token, now, &st.config.auth)?;
        let Ok((user, issued)) = rotated else {
            return Ok(Err(rotated.err().unwrap_or(ApiError::Unauthorized)));
        };
        let mfa_setup_required =
            mfa::setup_required(conn, &st.config.auth, user.user_id()?, user.role()?)?;
        Ok(Ok(Opened {
            user,
            issued,
            mfa_setup_required,
        }))
    })
    .await??;
    token_response(state, opened)
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

/// The signed-in user's account, as the request's authentication read it (one read of the
/// row per request, not two).
pub fn current_user(user: &AuthUser) -> User {
    user.account.clone()
}

/// Checks the signed-in user's own password (changing it, re-authenticating). A wrong one
/// counts towards the sign-in lock and answers 422 on `field`; while locked, 429.
async fn confirm_password(
    state: &SharedState,
    user: &AuthUser,
    password: Zeroizing<String>,
    field: &'static str,
) -> Result<UserRow, ApiError> {
    let keys = throttle::Keys::new(&user.email, user.address);
    let id = user.id;
    let row = {
        let keys = keys.clone();
        db::run(&state.pool, move |conn| {
            throttle::check_keys(conn, &keys, time::now())?;
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
        state.pace.note_failure(state.clock.now());
        let config = &state.config.auth;
        throttle::record_failure(&state.pool, &keys, Some(id), "current_password", config).await?;
        return Err(ApiError::field(field, "is incorrect"));
    }
    Ok(row)
}

/// Confirms the caller's password again, and the second factor when the account has one:
/// for the next `auth.recent_auth_secs` the session counts as recently authenticated
/// (`auth::recent`), which sensitive actions require. Ledgered as `auth.reauthenticate`; a
/// wrong password or code counts towards the sign-in lock (422 on `password` or `code`).
pub async fn reauthenticate(
    state: &SharedState,
    user: &AuthUser,
    req: ReauthenticateRequest,
) -> Result<Reauthenticated, ApiError> {
    let ReauthenticateRequest { password, code } = req;
    let password = Zeroizing::new(password);
    let code = Zeroizing::new(code.unwrap_or_default());
    let code_given = !code.trim().is_empty();
    confirm_password(state, user, password, "password").await?;
    let (id, session) = (user.id, user.session_id);
    let now = state.clock.now();
    let unix_now = state.clock.unix_secs();
    let keys = throttle::Keys::new(&user.email, user.address);
    let st = SharedState::clone(state);
    let confirmed = {
        let keys = keys.clone();
        db::write(&state.pool, move |conn| {
            if mfa::is_enabled(conn, id)?
                && mfa::verify(conn, st.engine.keys(), id, &code, now, unix_now)?.is_none()
            {
                return Ok(false);
            }
            recent::mark(conn, session, now)?;
            crate::ledger::user_event(conn, Some(id), Action::AuthReauthenticate, &id.to_string())?;
            throttle::clear(conn, &keys)?;
            Ok(true)
        })
        .await?
    };
    if !confirmed {
        state.pace.note_failure(state.clock.now());
        let config = &state.config.auth;
        throttle::record_failure(
            &state.pool,
            &keys,
            Some(id),
            "current_second_factor",
            config,
        )
        .await?;
        return Err(ApiError::field(
            "code",
            if code_given {
                "wrong or expired code"
            } else {
                "is required: this account has a sign-in authenticator app"
            },
        ));
    }
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
    let keys = throttle::Keys::new(&user.email, user.address);
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
        throttle::clear(conn, &keys)
    })
    .await
}
