//! One-time sign-in tokens: opaque (256 random bits, stored only as SHA-256), naming an account,
//! valid for a while, spent once. Two purposes: the pending second step of a sign-in whose
//! password was right (five minutes), and the e-mailed code that lifts a locked account (an
//! hour). A token of one purpose is never accepted for the other.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use medvault_types::UserId;

use crate::auth::sessions::{MAX_TOKEN_LEN, new_token, token_hash};
use crate::db::DbConn;
use crate::db::ids::StoredId;
use crate::db::schema::sign_in_tokens as t;
use crate::error::ApiError;

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The second step of a sign-in (`POST /api/v1/auth/login/mfa`).
    SecondFactor,
    /// Lifting the account's sign-in locks (`POST /api/v1/auth/unlock`).
    Unlock,
}

impl Purpose {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SecondFactor => "second_factor",
            Self::Unlock => "unlock",
        }
    }

    /// How long a token lives, in seconds.
    pub const fn lifetime_secs(self) -> u64 {
        match self {
            Self::SecondFactor => 5 * 60,
            Self::Unlock => 3600,
        }
    }
}

/// Opens a token of `purpose` for `user` at `now` and returns it (shown once).
pub fn issue(
    conn: &mut DbConn,
    user: &str,
    purpose: Purpose,
    now: NaiveDateTime,
) -> Result<String, ApiError> {
    // Expired tokens of this account are of no use to anyone.
    diesel::delete(
        t::table
            .filter(t::user_id.eq(user))
            .filter(t::expires_at.le(now)),
    )
    .execute(conn)?;
    let token = new_token();
    let lifetime = Duration::seconds(i64::try_from(purpose.lifetime_secs()).unwrap_or(300));
    diesel::insert_into(t::table)
        .values((
            t::token_hash.eq(token_hash(&token)),
            t::user_id.eq(user),
            t::expires_at.eq(now + lifetime),
            t::purpose.eq(purpose.as_str()),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The account of a live (unspent, unexpired) token of `purpose`, if `token` names one.
pub fn pending(
    conn: &mut DbConn,
    token: &str,
    purpose: Purpose,
    now: NaiveDateTime,
) -> Result<Option<UserId>, ApiError> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Ok(None);
    }
    let user: Option<String> = t::table
        .find(token_hash(token))
        .filter(t::purpose.eq(purpose.as_str()))
        .filter(t::used_at.is_null())
        .filter(t::expires_at.gt(now))
        .select(t::user_id)
        .first(conn)
        .optional()?;
    user.map(|u| UserId::from_stored(&u)).transpose()
}

/// Spends the token (inside the transaction that acts on it): `false` when it was spent
/// meanwhile, so two uses racing with one token act once.
pub fn spend(
    conn: &mut DbConn,
    token: &str,
    purpose: Purpose,
    now: NaiveDateTime,
) -> Result<bool, ApiError> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Ok(false);
    }
    let spent = diesel::update(
        t::table
            .find(token_hash(token))
            .filter(t::purpose.eq(purpose.as_str()))
            .filter(t::used_at.is_null())
            .filter(t::expires_at.gt(now)),
    )
    .set(t::used_at.eq(now))
    .execute(conn)?;
    Ok(spent == 1)
}
