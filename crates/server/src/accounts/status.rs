//! An account's state as admins change it: deactivate, reactivate, reset the password, lift a
//! sign-in lock (also from the operator's CLI, `medvault admin unlock EMAIL`).

use medvault_types::{TemporaryPassword, User, UserId};

use crate::accounts::users::{self, UserRow};
use crate::auth::one_time::{self, Purpose};
use crate::auth::password::temporary_password;
use crate::auth::{AuthUser, recent, sessions, throttle};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::ledger::Action;
use crate::state::SharedState;
use crate::time;

/// Lifts the sign-in lock (and forgets the failures) of `user`, with its `user.unlock` entry
/// by `actor` (`None`: the operator's CLI). Returns whether the account was blocked.
pub fn unlock(conn: &mut DbConn, actor: Option<UserId>, user: &UserRow) -> Result<bool, ApiError> {
    let was_blocked = throttle::is_account_blocked(conn, &user.email, time::now())?;
    throttle::clear_account(conn, &user.email)?;
    crate::ledger::append(
        conn,
        &crate::ledger::NewEntry::new(actor, Action::UserUnlock, format!("user:{}", user.id))
            .payload(serde_json::json!({ "user_id": user.id, "was_blocked": was_blocked })),
    )?;
    Ok(was_blocked)
}

/// The owner lifts their account's sign-in locks with the code e-mailed when it was locked
/// (one use, an hour); ledgered as `user.unlock` by the owner. 401 for an unknown, spent or
/// expired code.
pub async fn unlock_by_email(state: &SharedState, token: String) -> Result<(), ApiError> {
    let token = zeroize::Zeroizing::new(token);
    let now = state.clock.now();
    db::write(&state.pool, move |conn| {
        let id =
            one_time::pending(conn, &token, Purpose::Unlock, now)?.ok_or(ApiError::Unauthorized)?;
        if !one_time::spend(conn, &token, Purpose::Unlock, now)? {
            return Err(ApiError::Unauthorized);
        }
        let row = users::find(conn, id)?.ok_or(ApiError::Unauthorized)?;
        unlock(conn, Some(id), &row)?;
        Ok(())
    })
    .await
}

/// An administrator lifts an account's sign-in lock (after checking who asks); 404 for an
/// unknown id.
pub async fn unlock_by_admin(
    state: &SharedState,
    admin: UserId,
    id: UserId,
) -> Result<(), ApiError> {
    db::write(&state.pool, move |conn| {
        let row = users::find(conn, id)?.ok_or(ApiError::NotFound)?;
        unlock(conn, Some(admin), &row)?;
        Ok(())
    })
    .await?;
    tracing::info!(user = %id, "sign-in lock lifted");
    Ok(())
}

/// Admins cannot lock themselves out.
fn not_self(admin: UserId, id: UserId) -> Result<(), ApiError> {
    if admin == id {
        Err(ApiError::Conflict(
            "administrators cannot do this to their own account",
        ))
    } else {
        Ok(())
    }
}

/// Deactivates a user: sign-in refused, every session revoked, effective at their next
/// request. A sensitive action: the admin's password must be recent (`auth::recent`).
pub async fn deactivate(
    state: &SharedState,
    admin: &AuthUser,
    id: UserId,
) -> Result<User, ApiError> {
    not_self(admin.id, id)?;
    let (session, now, window) = (
        admin.session_id,
        state.clock.now(),
        state.config.auth.recent_auth_secs,
    );
    let admin = admin.id;
    let user = db::write(&state.pool, move |conn| {
        recent::require(conn, session, now, window)?;
        let row = users::find(conn, id)?.ok_or(ApiError::NotFound)?;
        users::set_active(conn, &row.id, false)?;
        sessions::revoke_all(conn, &row.id, None)?;
        crate::ledger::user_event(conn, Some(admin), Action::UserDeactivate, &row.id)?;
        users::find(conn, id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    tracing::info!(user = %id, "user deactivated");
    user.to_dto()
}

/// Reactivates a user.
pub async fn reactivate(state: &SharedState, admin: UserId, id: UserId) -> Result<User, ApiError> {
    let user = db::write(&state.pool, move |conn| {
        let row = users::find(conn, id)?.ok_or(ApiError::NotFound)?;
        users::set_active(conn, &row.id, true)?;
        crate::ledger::user_event(conn, Some(admin), Action::UserReactivate, &row.id)?;
        users::find(conn, id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    tracing::info!(user = %id, "user reactivated");
    user.to_dto()
}

/// Replaces a user's password with a temporary one (e-mailed, or with no SMTP returned once),
/// revokes their sessions
/// and lifts a sign-in lock; they must change it at their next sign-in.
pub async fn reset_password(
    state: &SharedState,
    admin: UserId,
    id: UserId,
) -> Result<TemporaryPassword, ApiError> {
    not_self(admin, id)?;
    // 404 before spending a hash on an unknown id.
    db::run(&state.pool, move |conn| {
        users::find(conn, id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    let password = temporary_password();
    let hash = state.hasher.hash(password.clone()).await?;
    let now = state.clock.now();
    let email = db::write(&state.pool, move |conn| {
        let row = users::find(conn, id)?.ok_or(ApiError::NotFound)?;
        users::set_password(conn, &row.id, &hash, true, now)?;
        sessions::revoke_all(conn, &row.id, None)?;
        crate::ledger::user_event(conn, Some(admin), Action::UserResetPassword, &row.id)?;
        throttle::clear_account(conn, &row.email)?;
        Ok(row.email)
    })
    .await?;
    tracing::info!(user = %id, "password reset");
    Ok(TemporaryPassword {
        temporary_password: users::hand_over(state, &email, &password),
    })
}
