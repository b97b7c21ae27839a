//! Refresh sessions. A sign-in opens a session; its refresh token is opaque, stored only as a
//! SHA-256, and spent on use (rotation). Presenting a spent token means it was stolen or
//! replayed, so the whole session is revoked. Access tokens name their session, so revoking
//! it (logout, reuse, password change, deactivation) also ends them at the next request.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use medvault_types::{SessionId, UserId};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

use crate::accounts::users::{self, UserRow};
use crate::db::DbConn;
use crate::db::ids::FreshId;
use crate::db::ids::StoredId;
use crate::db::schema::{refresh_tokens, sessions};
use crate::error::ApiError;
use crate::ledger::Action;
use crate::time;

/// Bytes of randomness in a refresh token.
const TOKEN_BYTES: usize = 32;
/// Longest refresh token accepted before any lookup.
pub const MAX_TOKEN_LEN: usize = 128;

/// A freshly minted refresh token (shown once) within a session.
#[derive(Debug)]
pub struct Issued {
    /// Session id (the `sid` claim).
    pub session_id: SessionId,
    /// The opaque token for the client.
    pub refresh_token: String,
}

/// SHA-256 hex of a refresh token, the only form stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut raw = [0u8; TOKEN_BYTES];
    OsRng.fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

fn store_token(
    conn: &mut DbConn,
    session_id: &str,
    now: NaiveDateTime,
) -> Result<String, ApiError> {
    let token = new_token();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(token_hash(&token)),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Opens a session for `user_id` at `now` lasting `ttl_secs` and returns its first refresh
/// token (inside the caller's write transaction, with the sign-in's ledger entry). The
/// password was just confirmed, so the session starts recently authenticated.
pub fn open(
    conn: &mut DbConn,
    user_id: &str,
    ttl_secs: u64,
    now: NaiveDateTime,
) -> Result<Issued, ApiError> {
    let ttl = Duration::seconds(i64::try_from(ttl_secs).map_err(ApiError::internal)?);
    let session_id = SessionId::fresh();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(session_id.to_string()),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(now + ttl),
            sessions::authenticated_at.eq(now),
        ))
        .execute(conn)?;
    let refresh_token = store_token(conn, &session_id.to_string(), now)?;
    crate::ledger::user_event(
        conn,
        UserId::from_stored(user_id).ok(),
        Action::AuthLogin,
        user_id,
    )?;
    Ok(Issued {
        session_id,
        refresh_token,
    })
}

/// The outcome of a rotation decided inside the transaction: the outer `Err` rolls back, the
/// inner `Err` (a refusal) is returned after the commit, so a revocation is kept.
pub type Rotation = Result<(UserRow, Issued), ApiError>;

/// Spends `token` and issues its successor (inside the caller's write transaction). Unknown,
/// expired or revoked: 401. Spent before: the session is revoked, then 401. The owner must
/// still be active.
pub fn rotate(conn: &mut DbConn, token: &str) -> Result<Rotation, ApiError> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Ok(Err(ApiError::Unauthorized));
    }
    let hash = token_hash(token);
    let now = time::now();
    {
        let Some((session_id, used_at)) = refresh_tokens::table
            .find(&hash)
            .select((refresh_tokens::session_id, refresh_tokens::used_at))
            .first::<(String, Option<NaiveDateTime>)>(conn)
            .optional()?
        else {
            return Ok(Err(ApiError::Unauthorized));
        };
        // Spend it, guarding against a concurrent spend of the same token.
        let spent = diesel::update(
            refresh_tokens::table
                .find(&hash)
                .filter(refresh_tokens::used_at.is_null()),
        )
        .set(refresh_tokens::used_at.eq(now))
        .execute(conn)?;
        if used_at.is_some() || spent == 0 {
            revoke(conn, &session_id)?;
            tracing::warn!(session = %session_id, "refresh token reused; session revoked");
            return Ok(Err(ApiError::Unauthorized));
        }
        let (user_id, expires_at, revoked_at) = sessions::table
            .find(&session_id)
            .select((
                sessions::user_id,
                sessions::expires_at,
                sessions::revoked_at,
            ))
            .first::<(String, NaiveDateTime, Option<NaiveDateTime>)>(conn)?;
        if revoked_at.is_some() || expires_at <= now {
            return Ok(Err(ApiError::Unauthorized));
        }
        let user = users::find(conn, UserId::from_stored(&user_id)?)?
            .filter(|u| u.active)
            .ok_or(ApiError::Unauthorized)?;
        let refresh_token = store_token(conn, &session_id, now)?;
        Ok(Ok((
            user,
            Issued {
                session_id: SessionId::from_stored(&session_id)?,
                refresh_token,
            },
        )))
    }
}

/// Revokes one session (idempotent).
pub fn revoke(conn: &mut DbConn, session_id: &str) -> Result<(), ApiError> {
    diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(time::now()))
    .execute(conn)?;
    Ok(())
}

/// Revokes every session of `user_id` except `keep`.
pub fn revoke_all(conn: &mut DbConn, user_id: &str, keep: Option<&str>) -> Result<(), ApiError> {
    let keep = keep.unwrap_or("");
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::id.ne(keep))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(time::now()))
    .execute(conn)?;
    Ok(())
}

/// Whether `session_id` belongs to `user_id` and is neither revoked nor expired.
pub fn is_live(conn: &mut DbConn, session_id: &str, user_id: &str) -> Result<bool, ApiError> {
    let n: i64 = sessions::table
        .filter(sessions::id.eq(session_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(time::now()))
        .count()
        .get_result(conn)?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
        assert_eq!(token_hash(&a), token_hash(&a.clone()));
    }
}
