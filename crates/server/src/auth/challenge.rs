//! The pending second step of a sign-in whose password was right: an opaque token (stored only
//! as SHA-256) naming the account, valid a few minutes, spent by the step that succeeds.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use medvault_types::UserId;

use crate::auth::sessions::{MAX_TOKEN_LEN, new_token, token_hash};
use crate::db::DbConn;
use crate::db::ids::StoredId;
use crate::db::schema::mfa_challenges;
use crate::error::ApiError;

/// How long the second step may take, in seconds.
pub const CHALLENGE_SECS: u64 = 5 * 60;

/// Opens a challenge for `user` at `now` and returns its token (shown once).
pub fn issue(conn: &mut DbConn, user: &str, now: NaiveDateTime) -> Result<String, ApiError> {
    // Expired challenges of this account are of no use to anyone.
    diesel::delete(
        mfa_challenges::table
            .filter(mfa_challenges::user_id.eq(user))
            .filter(mfa_challenges::expires_at.le(now)),
    )
    .execute(conn)?;
    let token = new_token();
    diesel::insert_into(mfa_challenges::table)
        .values((
            mfa_challenges::token_hash.eq(token_hash(&token)),
            mfa_challenges::user_id.eq(user),
            mfa_challenges::expires_at.eq(now + lifetime()),
        ))
        .execute(conn)?;
    Ok(token)
}

fn lifetime() -> Duration {
    Duration::seconds(i64::try_from(CHALLENGE_SECS).unwrap_or(300))
}

/// The account of a live (unspent, unexpired) challenge, if `token` names one.
pub fn pending(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<UserId>, ApiError> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Ok(None);
    }
    let user: Option<String> = mfa_challenges::table
        .find(token_hash(token))
        .filter(mfa_challenges::used_at.is_null())
        .filter(mfa_challenges::expires_at.gt(now))
        .select(mfa_challenges::user_id)
        .first(conn)
        .optional()?;
    user.map(|u| UserId::from_stored(&u)).transpose()
}

/// Spends the challenge (inside the transaction that opens the session): `false` when it was
/// spent meanwhile, so two second steps racing with one challenge open one session.
pub fn spend(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<bool, ApiError> {
    let spent = diesel::update(
        mfa_challenges::table
            .find(token_hash(token))
            .filter(mfa_challenges::used_at.is_null())
            .filter(mfa_challenges::expires_at.gt(now)),
    )
    .set(mfa_challenges::used_at.eq(now))
    .execute(conn)?;
    Ok(spent == 1)
}
