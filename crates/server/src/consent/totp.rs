//! A patient's authenticator app (TOTP): enrol, confirm with a first code, remove with a valid
//! code, and check a code a doctor relays (each time step accepted once).

use diesel::prelude::*;
use medvault_engine::KeyRing;
use medvault_types::{TotpEnrollment, TotpStatus, UserId};
use zeroize::Zeroizing;

use crate::consent::codes;
use crate::db::schema::totp_secrets;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::ledger::Action;
use crate::ledger::{self, NewEntry};
use crate::state::SharedState;
use crate::{patient_key, time};

const FIELD: &str = "totp_secret";

#[derive(Queryable, Selectable)]
#[diesel(table_name = totp_secrets)]
struct Row {
    secret_enc: Vec<u8>,
    confirmed: bool,
    last_step: Option<i64>,
}

fn load(conn: &mut DbConn, patient: UserId) -> Result<Option<Row>, ApiError> {
    Ok(totp_secrets::table
        .find(patient.to_string())
        .select(Row::as_select())
        .first(conn)
        .optional()?)
}

/// Wrong authenticator codes a patient may enter (confirm, remove) within
/// [`FAILURE_WINDOW_MINUTES`] before further attempts are refused with 429.
pub const MAX_FAILURES: u32 = 10;
/// See [`MAX_FAILURES`].
pub const FAILURE_WINDOW_MINUTES: i64 = 15;

/// Rate-limit key of a patient's wrong authenticator codes.
fn failure_key(patient: UserId) -> String {
    format!("totp_failure:{patient}")
}

/// Refuses with 429 after too many recent wrong codes.
fn check_failures(conn: &mut DbConn, key: &str) -> Result<(), ApiError> {
    crate::consent::rate::check(
        conn,
        key,
        MAX_FAILURES,
        chrono::Duration::minutes(FAILURE_WINDOW_MINUTES),
    )
}

fn unix_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

/// Whether a confirmed authenticator is set up.
fn status(conn: &mut DbConn, patient: UserId) -> Result<TotpStatus, ApiError> {
    Ok(TotpStatus {
        enabled: load(conn, patient)?.is_some_and(|r| r.confirmed),
    })
}

/// Starts enrolment: a fresh 160-bit secret, stored sealed and unconfirmed (replacing an
/// earlier unconfirmed one). Refused while a confirmed authenticator exists.
fn enrol(
    conn: &mut DbConn,
    keyring: &KeyRing,
    patient: UserId,
    account: &str,
) -> Result<TotpEnrollment, ApiError> {
    if load(conn, patient)?.is_some_and(|r| r.confirmed) {
        return Err(ApiError::Conflict(
            "an authenticator is already set up; remove it first",
        ));
    }
    let dek = patient_key::get_or_create(conn, keyring, patient)?;
    let secret = codes::generate_totp_secret();
    let totp = codes::totp(&secret, account).map_err(ApiError::internal)?;
    let enrollment = TotpEnrollment {
        otpauth_uri: totp.get_url(),
        qr_png_base64: totp.get_qr_base64().map_err(ApiError::internal)?,
        secret_base32: totp.get_secret_base32(),
    };
    diesel::delete(totp_secrets::table.find(patient.to_string())).execute(conn)?;
    diesel::insert_into(totp_secrets::table)
        .values((
            totp_secrets::patient_id.eq(patient.to_string()),
            totp_secrets::secret_enc.eq(patient_key::seal(&dek, FIELD, patient.as_uuid(), &secret)),
            totp_secrets::confirmed.eq(false),
            totp_secrets::created_at.eq(time::now()),
        ))
        .execute(conn)?;
    ledger::append(
        conn,
        &NewEntry::new(Some(patient), Action::TotpEnrol, format!("user:{patient}"))
            .patient(patient),
    )?;
    Ok(enrollment)
}

/// Checks `code` against the patient's secret (confirmed or, with `pending_ok`, not yet) and
/// records its time step so it is never accepted again. `Ok(false)` for a wrong, replayed or
/// malformed code, or when there is no such secret.
pub fn check(
    conn: &mut DbConn,
    keyring: &KeyRing,
    patient: UserId,
    code: &str,
    pending_ok: bool,
) -> Result<bool, ApiError> {
    let Some(row) = load(conn, patient)? else {
        return Ok(false);
    };
    if !row.confirmed && !pending_ok {
        return Ok(false);
    }
    let Some(dek) = patient_key::load(conn, keyring, patient)? else {
        return Ok(false);
    };
    let secret = patient_key::open(&dek, FIELD, patient.as_uuid(), &row.secret_enc)?;
    let totp = codes::totp(&secret, "check").map_err(ApiError::internal)?;
    let Some(step) = codes::check_totp(&totp, code, unix_now(), row.last_step) else {
        return Ok(false);
    };
    // Conditional on the step we read, so two concurrent uses of one code cannot both pass.
    let updated = diesel::update(
        totp_secrets::table.find(patient.to_string()).filter(
            totp_secrets::last_step
                .is_null()
                .or(totp_secrets::last_step.lt(step)),
        ),
    )
    .set(totp_secrets::last_step.eq(step))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Confirms enrolment with a first valid code.
fn confirm(
    conn: &mut DbConn,
    keyring: &KeyRing,
    patient: UserId,
    code: &str,
) -> Result<TotpStatus, ApiError> {
    let row = load(conn, patient)?.ok_or(ApiError::NotFound)?;
    if row.confirmed {
        return Err(ApiError::Conflict("the authenticator is already confirmed"));
    }
    if !check(conn, keyring, patient, code, true)? {
        return Err(ApiError::field("code", "wrong or expired code"));
    }
    diesel::update(totp_secrets::table.find(patient.to_string()))
        .set(totp_secrets::confirmed.eq(true))
        .execute(conn)?;
    ledger::append(
        conn,
        &NewEntry::new(
            Some(patient),
            Action::TotpConfirm,
            format!("user:{patient}"),
        )
        .patient(patient),
    )?;
    Ok(TotpStatus { enabled: true })
}

/// Removes the authenticator; needs a valid current code.
fn remove(
    conn: &mut DbConn,
    keyring: &KeyRing,
    patient: UserId,
    code: &str,
) -> Result<TotpStatus, ApiError> {
    let row = load(conn, patient)?.ok_or(ApiError::NotFound)?;
    if !check(conn, keyring, patient, code, !row.confirmed)? {
        return Err(ApiError::field("code", "wrong or expired code"));
    }
    diesel::delete(totp_secrets::table.find(patient.to_string())).execute(conn)?;
    ledger::append(
        conn,
        &NewEntry::new(Some(patient), Action::TotpRemove, format!("user:{patient}"))
            .patient(patient),
    )?;
    Ok(TotpStatus { enabled: false })
}

/// Whether the patient has a confirmed authenticator.
pub async fn status_of(state: &SharedState, patient: UserId) -> Result<TotpStatus, ApiError> {
    db::run(&state.pool, move |conn| status(conn, patient)).await
}

/// Starts enrolment: the otpauth URI, its QR code and the secret for manual entry.
pub async fn start_enrolment(
    state: &SharedState,
    patient: UserId,
    account: String,
) -> Result<TotpEnrollment, ApiError> {
    let st = SharedState::clone(state);
    db::write(&state.pool, move |conn| {
        enrol(conn, st.engine.keys(), patient, &account)
    })
    .await
}

/// Confirms enrolment with a first code from the app (wrong codes are rate-limited).
pub async fn confirm_with_code(
    state: &SharedState,
    patient: UserId,
    code: String,
) -> Result<TotpStatus, ApiError> {
    limited(state, patient, code, confirm).await
}

/// Removes the authenticator; needs a current code from it (wrong codes are rate-limited).
pub async fn remove_with_code(
    state: &SharedState,
    patient: UserId,
    code: String,
) -> Result<TotpStatus, ApiError> {
    limited(state, patient, code, remove).await
}

/// A code-checked operation on the patient's authenticator (confirm or remove).
type CodeOp = fn(&mut DbConn, &KeyRing, UserId, &str) -> Result<TotpStatus, ApiError>;

/// Runs `op` under the patient's wrong-code limit: refused with 429 after too many recent
/// wrong codes; a wrong code is recorded in its own transaction (the operation's rolls back).
async fn limited(
    state: &SharedState,
    patient: UserId,
    code: String,
    op: CodeOp,
) -> Result<TotpStatus, ApiError> {
    let code = Zeroizing::new(code);
    let key = failure_key(patient);
    let limit_key = key.clone();
    db::run(&state.pool, move |conn| check_failures(conn, &limit_key)).await?;
    let st = SharedState::clone(state);
    let result = db::write(&state.pool, move |conn| {
        op(conn, st.engine.keys(), patient, &code)
    })
    .await;
    if matches!(result, Err(ApiError::Validation(_))) {
        db::write(&state.pool, move |conn| {
            crate::consent::rate::record(conn, &key)
        })
        .await?;
    }
    result
}
