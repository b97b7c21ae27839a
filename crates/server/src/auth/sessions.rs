//! Refresh sessions. A sign-in opens a session; its refresh token is opaque, stored only as a
//! SHA-256, and spent on use (rotation). Presenting a spent token means it was stolen or
//! replayed, so the whole session is revoked. Access tokens name their session, so revoking
//! it (logout, reuse, password change, deactivation) also ends them at the next request.
//!
//! A session also ends on its own ([`Lifetime`]): after `auth.*_idle_secs` without a request
//! (refreshing tokens is not activity) and at its absolute end (`auth.staff_session_secs` for
//! staff, `auth.refresh_ttl_secs` for patients), both read through the injectable clock, both
//! checked at every use and at refresh. The last request is written at most once per
//! [`coalesce_secs`] (about a minute), so an ordinary request stays read-only; the idle limit
//! allows that much slack, so a session lives at least the configured idle time and at most
//! that plus the slack.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use medvault_types::{SessionId, UserId};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

use crate::accounts::users::{self, UserRow};
use crate::config::AuthConfig;
use crate::db::DbConn;
use crate::db::ids::FreshId;
use crate::db::ids::StoredId;
use crate::db::schema::{mfa_factors, refresh_tokens, sessions, users as users_table};
use crate::error::ApiError;
use crate::ledger::Action;
use crate::time;
use medvault_types::Role;

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
    /// The session's absolute end (UTC).
    pub expires_at: NaiveDateTime,
}

/// How long a session of one role lives: idle limit and absolute lifetime, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// Seconds without a request after which the session ends.
    pub idle_secs: u64,
    /// Seconds after sign-in at which the session ends whatever the activity.
    pub absolute_secs: u64,
}

impl Lifetime {
    /// The configured lifetime of a session of `role`.
    pub fn of(config: &AuthConfig, role: Role) -> Self {
        Self {
            idle_secs: config.idle_secs(role),
            absolute_secs: config.session_secs(role),
        }
    }

    /// Whether a session whose last request was at `last` is still within its idle limit at
    /// `now` (allowing the write coalescing's slack).
    pub fn is_active(&self, last: NaiveDateTime, now: NaiveDateTime) -> bool {
        let limit = secs(self.idle_secs) + secs(coalesce_secs(self.idle_secs));
        now - last <= limit
    }
}

/// How stale the stored last request may get before a request writes it again: a minute, or
/// a quarter of a short idle limit.
pub fn coalesce_secs(idle_secs: u64) -> u64 {
    (idle_secs / 4).clamp(1, 60)
}

fn secs(n: u64) -> Duration {
    Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX / 1_000_000))
}

/// SHA-256 hex of a refresh token, the only form stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh opaque token: 256 random bits, URL-safe base64.
pub fn new_token() -> String {
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

/// Opens a session for `user_id` at `now` with `lifetime` and returns its first refresh
/// token (inside the caller's write transaction, with the sign-in's ledger entry). The
/// password (and second factor) was just confirmed, so the session starts recently
/// authenticated.
pub fn open(
    conn: &mut DbConn,
    user_id: &str,
    lifetime: Lifetime,
    now: NaiveDateTime,
) -> Result<Issued, ApiError> {
    let expires_at = now + secs(lifetime.absolute_secs);
    let session_id = SessionId::fresh();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(session_id.to_string()),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
            sessions::authenticated_at.eq(now),
            sessions::last_activity_at.eq(now),
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
        expires_at,
    })
}

/// The outcome of a rotation decided inside the transaction: the outer `Err` rolls back, the
/// inner `Err` (a refusal) is returned after the commit, so a revocation is kept.
pub type Rotation = Result<(UserRow, Issued), ApiError>;

/// Spends `token` and issues its successor (inside the caller's write transaction). Unknown,
/// expired, idle too long or revoked: 401. Spent before: the session is revoked, then 401.
/// The owner must still be active. A refresh is not activity: it leaves the idle clock alone.
pub fn rotate(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
    config: &AuthConfig,
) -> Result<Rotation, ApiError> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Ok(Err(ApiError::Unauthorized));
    }
    let hash = token_hash(token);
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
        let row = sessions::table
            .find(&session_id)
            .select(SessionRow::as_select())
            .first(conn)?;
        let Some(user) =
            users::find(conn, UserId::from_stored(&row.user_id)?)?.filter(|u| u.active)
        else {
            return Ok(Err(ApiError::Unauthorized));
        };
        if !row.is_live(Lifetime::of(config, user.role()?), now) {
            return Ok(Err(ApiError::Unauthorized));
        }
        let refresh_token = store_token(conn, &session_id, now)?;
        Ok(Ok((
            user,
            Issued {
                session_id: SessionId::from_stored(&session_id)?,
                refresh_token,
                expires_at: row.expires_at,
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

/// The columns that decide whether a session is live.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    user_id: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    last_activity_at: Option<NaiveDateTime>,
}

impl SessionRow {
    /// The last request seen (sessions older than the column: their start).
    fn last_seen(&self) -> NaiveDateTime {
        self.last_activity_at.unwrap_or(self.created_at)
    }

    fn is_live(&self, lifetime: Lifetime, now: NaiveDateTime) -> bool {
        self.revoked_at.is_none()
            && self.expires_at > now
            && lifetime.is_active(self.last_seen(), now)
    }
}

/// A live session as one request finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Live; its stored last request is recent enough.
    Live,
    /// Live; [`touch`] should record this request (the stored one is older than the
    /// coalescing interval).
    LiveStale,
}

/// The account behind a request and its session, read together by [`load_bearer`].
#[derive(Debug)]
pub struct Bearer {
    /// The account's row.
    pub user: UserRow,
    /// Whether the account has a confirmed authenticator.
    pub mfa_enabled: bool,
    session: SessionRow,
}

impl Bearer {
    /// How the request uses its session at `now` under `lifetime`: `None` when the session
    /// has ended (revoked, past its absolute end, idle too long).
    #[must_use]
    pub fn session_use(&self, lifetime: Lifetime, now: NaiveDateTime) -> Option<Use> {
        let r = &self.session;
        r.is_live(lifetime, now).then(|| {
            if now - r.last_seen() > secs(coalesce_secs(lifetime.idle_secs)) {
                Use::LiveStale
            } else {
                Use::Live
            }
        })
    }
}

/// The account `user_id`, whether it has a confirmed second factor, and its session
/// `session_id`, in one query (one round trip per authenticated request): `None` when the
/// account or the session is missing, or the session belongs to someone else.
pub fn load_bearer(
    conn: &mut DbConn,
    user_id: UserId,
    session_id: &str,
) -> Result<Option<Bearer>, ApiError> {
    let row: Option<(UserRow, SessionRow, Option<NaiveDateTime>)> = users_table::table
        .inner_join(sessions::table)
        .left_join(mfa_factors::table.on(mfa_factors::user_id.eq(users_table::id)))
        .filter(users_table::id.eq(user_id.to_string()))
        .filter(sessions::id.eq(session_id))
        .select((
            UserRow::as_select(),
            SessionRow::as_select(),
            mfa_factors::confirmed_at.nullable(),
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(user, session, confirmed)| Bearer {
        user,
        mfa_enabled: confirmed.is_some(),
        session,
    }))
}

/// Records a request in `session_id` at `now` (the idle clock starts again).
pub fn touch(conn: &mut DbConn, session_id: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(sessions::table.find(session_id))
        .set(sessions::last_activity_at.eq(now))
        .execute(conn)?;
    Ok(())
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

    #[test]
    fn idle_limit_allows_the_coalescing_slack_and_no_more() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        let staff = Lifetime {
            idle_secs: 900,
            absolute_secs: 43_200,
        };
        assert_eq!(coalesce_secs(900), 60);
        assert_eq!(coalesce_secs(20), 5);
        assert_eq!(coalesce_secs(2), 1);
        assert!(staff.is_active(now - Duration::seconds(900), now));
        assert!(staff.is_active(now - Duration::seconds(960), now));
        assert!(!staff.is_active(now - Duration::seconds(961), now));
    }
}
