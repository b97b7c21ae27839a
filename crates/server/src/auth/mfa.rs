//! The sign-in second factor: an authenticator app (TOTP) per account plus ten single-use
//! recovery codes. Required for staff (`auth.staff_mfa_required`), optional for patients.
//!
//! - The secret is separate from a patient's consent authenticator (`consent::totp`): its own
//!   table, sealed with the account's data key (`patient_key`) under its own field name.
//! - Enrolment is two steps: a fresh secret (QR and base32), then a first code confirms it and
//!   the ten recovery codes are shown once. Only their SHA-256 is kept (80 random bits each, so
//!   a stolen table does not yield them).
//! - A code is accepted once: each time step at most once per account (a replayed code fails),
//!   each recovery code once.
//! - Times come from the injectable clock, so tests reach the next time step without sleeping.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use medvault_engine::KeyRing;
use medvault_types::{MfaStatus, RecoveryCodes, Role, TotpEnrollment, UserId};
use rand::Rng;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

use crate::config::AuthConfig;
use crate::consent::codes;
use crate::db::DbConn;
use crate::db::schema::{mfa_factors, mfa_recovery_codes};
use crate::error::ApiError;
use crate::ledger::{self, Action};
use crate::patient_key;
use crate::time;

/// The sealed field's name (AAD), distinct from the consent authenticator's.
const FIELD: &str = "mfa_totp_secret";
/// Recovery codes issued at once.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code (Crockford base32: 5 bits each, 80 bits in all).
const RECOVERY_CHARS: usize = 16;
/// Crockford's base32 alphabet (no I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Which factor a code turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    /// A code from the authenticator app.
    Totp,
    /// A recovery code, now spent.
    RecoveryCode,
}

impl Factor {
    /// Name for the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = mfa_factors)]
struct Row {
    secret_enc: Vec<u8>,
    confirmed_at: Option<NaiveDateTime>,
    last_step: Option<i64>,
}

fn load(conn: &mut DbConn, user: UserId) -> Result<Option<Row>, ApiError> {
    Ok(mfa_factors::table
        .find(user.to_string())
        .select(Row::as_select())
        .first(conn)
        .optional()?)
}

/// Whether `role` must have a second factor under `config`.
pub fn required_for(config: &AuthConfig, role: Role) -> bool {
    config.staff_mfa_required && matches!(role, Role::Admin | Role::Doctor)
}

/// Whether `user` (of `role`) must still set up a second factor before anything else.
pub fn setup_required(
    conn: &mut DbConn,
    config: &AuthConfig,
    user: UserId,
    role: Role,
) -> Result<bool, ApiError> {
    Ok(required_for(config, role) && !is_enabled(conn, user)?)
}

/// Whether `user` has a confirmed authenticator.
pub fn is_enabled(conn: &mut DbConn, user: UserId) -> Result<bool, ApiError> {
    let confirmed: Option<Option<NaiveDateTime>> = mfa_factors::table
        .find(user.to_string())
        .select(mfa_factors::confirmed_at)
        .first(conn)
        .optional()?;
    Ok(matches!(confirmed, Some(Some(_))))
}

/// The second factor of `user`, as `GET /api/v1/me/mfa` shows it.
pub fn status(conn: &mut DbConn, user: UserId, required: bool) -> Result<MfaStatus, ApiError> {
    let enabled_at = load(conn, user)?.and_then(|r| r.confirmed_at);
    let left: i64 = mfa_recovery_codes::table
        .filter(mfa_recovery_codes::user_id.eq(user.to_string()))
        .filter(mfa_recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(MfaStatus {
        enabled: enabled_at.is_some(),
        required,
        recovery_codes_left: u32::try_from(left).unwrap_or(0),
        enabled_at: enabled_at.map(time::utc),
    })
}

/// Starts enrolment: a fresh 160-bit secret, stored sealed and unconfirmed (replacing an
/// earlier unconfirmed one). 409 while a confirmed authenticator exists.
pub fn start_enrolment(
    conn: &mut DbConn,
    keyring: &KeyRing,
    user: UserId,
    email: &str,
    now: NaiveDateTime,
) -> Result<TotpEnrollment, ApiError> {
    if is_enabled(conn, user)? {
        return Err(ApiError::Conflict(
            "a sign-in authenticator is already set up",
        ));
    }
    let dek = patient_key::get_or_create(conn, keyring, user)?;
    let secret = codes::generate_totp_secret();
    let totp = codes::totp(&secret, &format!("{email} sign-in")).map_err(ApiError::internal)?;
    let enrollment = TotpEnrollment {
        otpauth_uri: totp.get_url(),
        qr_png_base64: totp.get_qr_base64().map_err(ApiError::internal)?,
        secret_base32: totp.get_secret_base32(),
    };
    diesel::delete(mfa_factors::table.find(user.to_string())).execute(conn)?;
    diesel::insert_into(mfa_factors::table)
        .values((
            mfa_factors::user_id.eq(user.to_string()),
            mfa_factors::secret_enc.eq(patient_key::seal(&dek, FIELD, user.as_uuid(), &secret)),
            mfa_factors::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(enrollment)
}

/// Checks an authenticator code against the secret (a pending one only with `pending_ok`)
/// at `unix_now` and spends its time step, conditionally on the step read, so two uses of
/// one code cannot both pass.
fn check_totp(
    conn: &mut DbConn,
    keyring: &KeyRing,
    user: UserId,
    code: &str,
    unix_now: i64,
    pending_ok: bool,
) -> Result<bool, ApiError> {
    let Some(row) = load(conn, user)? else {
        return Ok(false);
    };
    if row.confirmed_at.is_none() && !pending_ok {
        return Ok(false);
    }
    let Some(dek) = patient_key::load(conn, keyring, user)? else {
        return Ok(false);
    };
    let secret = patient_key::open(&dek, FIELD, user.as_uuid(), &row.secret_enc)?;
    let totp = codes::totp(&secret, "check").map_err(ApiError::internal)?;
    let now = u64::try_from(unix_now).unwrap_or(0);
    let Some(step) = codes::check_totp(&totp, code, now, row.last_step) else {
        return Ok(false);
    };
    let spent = diesel::update(
        mfa_factors::table.find(user.to_string()).filter(
            mfa_factors::last_step
                .is_null()
                .or(mfa_factors::last_step.lt(step)),
        ),
    )
    .set(mfa_factors::last_step.eq(step))
    .execute(conn)?;
    Ok(spent == 1)
}

/// Confirms enrolment with a first code (422 on `code` when wrong) and issues the recovery
/// codes, shown once.
pub fn confirm(
    conn: &mut DbConn,
    keyring: &KeyRing,
    user: UserId,
    code: &str,
    now: NaiveDateTime,
    unix_now: i64,
) -> Result<RecoveryCodes, ApiError> {
    let row = load(conn, user)?.ok_or(ApiError::Conflict(
        "no authenticator set-up is in progress; start one first",
    ))?;
    if row.confirmed_at.is_some() {
        return Err(ApiError::Conflict(
            "a sign-in authenticator is already set up",
        ));
    }
    if !check_totp(conn, keyring, user, code.trim(), unix_now, true)? {
        return Err(ApiError::field("code", "wrong or expired code"));
    }
    diesel::update(mfa_factors::table.find(user.to_string()))
        .set(mfa_factors::confirmed_at.eq(now))
        .execute(conn)?;
    issue_recovery_codes(conn, user)
}

fn delete_recovery_codes(conn: &mut DbConn, user: UserId) -> Result<(), ApiError> {
    diesel::delete(
        mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(user.to_string())),
    )
    .execute(conn)?;
    Ok(())
}

/// Replaces `user`'s recovery codes with ten fresh ones, returned once.
pub fn issue_recovery_codes(conn: &mut DbConn, user: UserId) -> Result<RecoveryCodes, ApiError> {
    delete_recovery_codes(conn, user)?;
    let fresh: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    for code in &fresh {
        diesel::insert_into(mfa_recovery_codes::table)
            .values((
                mfa_recovery_codes::user_id.eq(user.to_string()),
                mfa_recovery_codes::code_hash.eq(recovery_hash(user, code)),
            ))
            .execute(conn)?;
    }
    Ok(RecoveryCodes {
        recovery_codes: fresh,
    })
}

/// Checks a second-factor code for a confirmed authenticator: six digits are an app code,
/// anything else a recovery code. The code is spent when it passes (a recovery code with its
/// `mfa.recovery_code_used` ledger entry). `None` when it fails
/// (wrong, replayed, spent, or no confirmed authenticator).
pub fn verify(
    conn: &mut DbConn,
    keyring: &KeyRing,
    user: UserId,
    code: &str,
    now: NaiveDateTime,
    unix_now: i64,
) -> Result<Option<Factor>, ApiError> {
    let code = code.trim();
    if !is_enabled(conn, user)? {
        return Ok(None);
    }
    if codes::is_well_formed(code, codes::TOTP_DIGITS) {
        return Ok(check_totp(conn, keyring, user, code, unix_now, false)?.then_some(Factor::Totp));
    }
    let Some(normalised) = normalise_recovery(code) else {
        return Ok(None);
    };
    let spent = diesel::update(
        mfa_recovery_codes::table
            .find((user.to_string(), recovery_hash(user, &normalised)))
            .filter(mfa_recovery_codes::used_at.is_null()),
    )
    .set(mfa_recovery_codes::used_at.eq(now))
    .execute(conn)?;
    if spent == 0 {
        return Ok(None);
    }
    // The spend and its entry go together, whatever the caller then does.
    ledger::user_event(
        conn,
        Some(user),
        Action::MfaRecoveryCodeUsed,
        &user.to_string(),
    )?;
    Ok(Some(Factor::RecoveryCode))
}

/// Removes `user`'s authenticator and recovery codes (turned off, or reset by an admin).
/// Whether there was one.
pub fn remove(conn: &mut DbConn, user: UserId) -> Result<bool, ApiError> {
    delete_recovery_codes(conn, user)?;
    let removed = diesel::delete(mfa_factors::table.find(user.to_string())).execute(conn)?;
    Ok(removed == 1)
}

fn new_recovery_code() -> String {
    let mut rng = OsRng;
    let raw: String = (0..RECOVERY_CHARS)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    raw.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The canonical form of a typed recovery code: upper case, without dashes or spaces, with
/// Crockford's look-alikes mapped (O to 0, I and L to 1). `None` unless 16 alphabet characters.
fn normalise_recovery(code: &str) -> Option<String> {
    let canonical: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    (canonical.len() == RECOVERY_CHARS && canonical.bytes().all(|b| ALPHABET.contains(&b)))
        .then_some(canonical)
}

/// SHA-256 hex of a recovery code bound to its account.
fn recovery_hash(user: UserId, code: &str) -> String {
    let canonical = normalise_recovery(code).unwrap_or_default();
    hex::encode(Sha256::digest(format!("{user}:{canonical}").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_grouped_random_and_normalise() {
        let a = new_recovery_code();
        let b = new_recovery_code();
        assert_ne!(a, b);
        assert_eq!(a.len(), 19);
        assert_eq!(a.matches('-').count(), 3);
        let canonical = normalise_recovery(&a).unwrap();
        assert_eq!(
            normalise_recovery(&a.to_lowercase()),
            Some(canonical.clone())
        );
        assert_eq!(
            normalise_recovery(&canonical.replace('0', "o")),
            Some(canonical.clone())
        );
        assert_eq!(normalise_recovery("123456"), None);
        assert_eq!(normalise_recovery("UUUU-UUUU-UUUU-UUUU"), None);
        let user = UserId::from(uuid::Uuid::new_v4());
        let other = UserId::from(uuid::Uuid::new_v4());
        assert_eq!(
            recovery_hash(user, &a),
            recovery_hash(user, &a.to_lowercase())
        );
        assert_ne!(recovery_hash(user, &a), recovery_hash(other, &a));
    }

    #[test]
    fn only_staff_need_it_and_only_when_configured() {
        let on = AuthConfig::default();
        assert!(required_for(&on, Role::Admin));
        assert!(required_for(&on, Role::Doctor));
        assert!(!required_for(&on, Role::Patient));
        let off = AuthConfig {
            staff_mfa_required: false,
            ..AuthConfig::default()
        };
        assert!(!required_for(&off, Role::Doctor));
    }
}
