//! The second-factor use cases behind the endpoints: see one's own, set one up, turn it off,
//! renew recovery codes, and an administrator's reset of another user's. The rules live in
//! [`crate::auth::mfa`]; this module adds who may, the "recently authenticated" rule, the
//! ledger entries, the attempt counter and the notice e-mail.

use medvault_types::{MfaStatus, RecoveryCodes, TotpEnrollment, UserId};
use zeroize::Zeroizing;

use crate::accounts::users::{self, UserRow};
use crate::auth::{AuthUser, mfa, recent, sessions, throttle};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::ledger::Action;
use crate::state::SharedState;

/// The caller's second factor.
pub async fn status(state: &SharedState, user: &AuthUser) -> Result<MfaStatus, ApiError> {
    let (id, required) = (user.id, mfa::required_for(&state.config.auth, user.role));
    db::run(&state.pool, move |conn| mfa::status(conn, id, required)).await
}

/// Starts setting up an authenticator app: a fresh secret as QR code, URI and base32.
pub async fn start(state: &SharedState, user: &AuthUser) -> Result<TotpEnrollment, ApiError> {
    let (id, email, now) = (user.id, user.email.clone(), state.clock.now());
    let st = SharedState::clone(state);
    db::write(&state.pool, move |conn| {
        mfa::start_enrolment(conn, st.engine.keys(), id, &email, now)
    })
    .await
}

/// Confirms the set-up with a first code and returns the ten recovery codes (shown once).
/// A wrong code answers 422 on `code` and counts towards the sign-in lock.
pub async fn confirm(
    state: &SharedState,
    user: &AuthUser,
    code: String,
) -> Result<RecoveryCodes, ApiError> {
    let code = Zeroizing::new(code);
    let keys = throttle::Keys::new(&user.email, user.address);
    let id = user.id;
    {
        let keys = keys.clone();
        let now = state.clock.now();
        db::run(&state.pool, move |conn| {
            throttle::check_keys(conn, &keys, now)
        })
        .await?;
    }
    let (now, unix_now) = (state.clock.now(), state.clock.unix_secs());
    let st = SharedState::clone(state);
    let result = db::write(&state.pool, move |conn| {
        let codes = mfa::confirm(conn, st.engine.keys(), id, &code, now, unix_now)?;
        crate::ledger::user_event(conn, Some(id), Action::MfaEnable, &id.to_string())?;
        Ok(codes)
    })
    .await;
    if matches!(result, Err(ApiError::Validation(_))) {
        state.pace.note_failure(state.clock.now());
        let config = &state.config.auth;
        throttle::record_failure(&state.pool, &keys, Some(id), "second_factor_setup", config)
            .await?;
    }
    result
}

/// Refuses with 403 `reauth_required` unless the caller confirmed their password (and second
/// factor) within the last few minutes.
fn require_recent(conn: &mut DbConn, state: &SharedState, user: &AuthUser) -> Result<(), ApiError> {
    recent::require(
        conn,
        user.session_id,
        state.clock.now(),
        state.config.auth.recent_auth_secs,
    )
}

/// Turns the caller's second factor off: only where the role does not require one (403
/// otherwise), and only recently authenticated.
pub async fn disable(state: &SharedState, user: &AuthUser) -> Result<MfaStatus, ApiError> {
    if mfa::required_for(&state.config.auth, user.role) {
        return Err(ApiError::Forbidden);
    }
    let (st, caller) = (SharedState::clone(state), user.clone());
    db::write(&state.pool, move |conn| {
        require_recent(conn, &st, &caller)?;
        if !mfa::remove(conn, caller.id)? {
            return Err(ApiError::NotFound);
        }
        let subject = caller.id.to_string();
        crate::ledger::user_event(conn, Some(caller.id), Action::MfaDisable, &subject)?;
        mfa::status(conn, caller.id, false)
    })
    .await
}

/// Replaces the caller's recovery codes (the old ones stop working); recently authenticated
/// only. 404 without a second factor.
pub async fn renew_recovery_codes(
    state: &SharedState,
    user: &AuthUser,
) -> Result<RecoveryCodes, ApiError> {
    let (st, caller) = (SharedState::clone(state), user.clone());
    db::write(&state.pool, move |conn| {
        require_recent(conn, &st, &caller)?;
        if !mfa::is_enabled(conn, caller.id)? {
            return Err(ApiError::NotFound);
        }
        let codes = mfa::issue_recovery_codes(conn, caller.id)?;
        let subject = caller.id.to_string();
        crate::ledger::user_event(
            conn,
            Some(caller.id),
            Action::MfaRecoveryCodesRenew,
            &subject,
        )?;
        Ok(codes)
    })
    .await
}

/// Removes `user`'s second factor and revokes their sessions, with its `mfa.reset` entry by
/// `actor` (`None`: the operator's CLI, `medvault admin reset-mfa EMAIL`). Whether there was
/// one (nothing changes otherwise).
pub fn reset(conn: &mut DbConn, actor: Option<UserId>, user: &UserRow) -> Result<bool, ApiError> {
    if !mfa::remove(conn, user.user_id()?)? {
        return Ok(false);
    }
    sessions::revoke_all(conn, &user.id, None)?;
    crate::ledger::user_event(conn, actor, Action::MfaReset, &user.id)?;
    Ok(true)
}

/// An administrator removes another user's second factor (lost phone): every session of the
/// user is revoked, the reset is ledgered and the user told by e-mail when SMTP is configured.
/// Staff then set up a new one at their next sign-in. Recently authenticated only; 404 for an
/// unknown id or a user without a second factor; 409 on one's own account.
pub async fn reset_by_admin(
    state: &SharedState,
    admin: &AuthUser,
    id: UserId,
) -> Result<(), ApiError> {
    if admin.id == id {
        return Err(ApiError::Conflict(
            "administrators cannot do this to their own account",
        ));
    }
    let (st, caller) = (SharedState::clone(state), admin.clone());
    let email = db::write(&state.pool, move |conn| {
        require_recent(conn, &st, &caller)?;
        let row = users::find(conn, id)?.ok_or(ApiError::NotFound)?;
        if !reset(conn, Some(caller.id), &row)? {
            return Err(ApiError::NotFound);
        }
        Ok(row.email)
    })
    .await?;
    if let Some(mailer) = &state.mailer {
        mailer.send_mfa_reset(&email);
    }
    tracing::info!(user = %id, "second factor reset");
    Ok(())
}
