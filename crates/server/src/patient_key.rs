//! Per-patient data keys for the small encrypted fields (visit notes, record notes, TOTP
//! secrets, per-request codes). Each patient has one random 256-bit key, stored only wrapped by
//! the key ring's current KEK (AAD: `patient:<id>`); fields are sealed under it with AES-256-GCM
//! and an AAD naming the field and its row, so a sealed value cannot be moved to another row.

use chrono::Utc;
use diesel::prelude::*;
use medvault_engine::{Dek, KeyRing, WrappedDek};
use medvault_types::UserId;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::db::DbConn;
use crate::db::schema::patient_keys;
use crate::error::ApiError;

fn subject(patient: UserId) -> Vec<u8> {
    format!("patient:{patient}").into_bytes()
}

/// The patient's data key, creating it on first use. Runs its own statements (no caller
/// transaction needed); a concurrent first use is resolved by the primary key: the loser
/// re-reads the winner's key.
pub fn get_or_create(
    conn: &mut DbConn,
    keyring: &KeyRing,
    patient: UserId,
) -> Result<Dek, ApiError> {
    if let Some(dek) = load(conn, keyring, patient)? {
        return Ok(dek);
    }
    let dek = Dek::generate();
    let wrapped = keyring.wrap_dek(&subject(patient), &dek);
    let values = (
        patient_keys::patient_id.eq(patient.to_string()),
        patient_keys::kek_id.eq(wrapped.kek_id.clone()),
        patient_keys::wrapped_dek.eq(wrapped.bytes.clone()),
        patient_keys::created_at.eq(Utc::now().naive_utc()),
    );
    // A concurrent first use may insert first: on PostgreSQL `ON CONFLICT DO NOTHING` (a
    // failed insert would abort the caller's transaction); SQLite transactions are already
    // serialised (`db::write` begins IMMEDIATE). Either way, re-read the winner.
    let inserted = match conn {
        DbConn::Pg(c) => diesel::insert_into(patient_keys::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(patient_keys::table)
            .values(values)
            .execute(c)?,
    };
    if inserted == 1 {
        return Ok(dek);
    }
    load(conn, keyring, patient)?.ok_or_else(|| ApiError::internal("patient key vanished"))
}

/// The patient's data key if one exists.
pub fn load(
    conn: &mut DbConn,
    keyring: &KeyRing,
    patient: UserId,
) -> Result<Option<Dek>, ApiError> {
    let row: Option<(String, Vec<u8>)> = patient_keys::table
        .find(patient.to_string())
        .select((patient_keys::kek_id, patient_keys::wrapped_dek))
        .first(conn)
        .optional()?;
    row.map(|(kek_id, bytes)| {
        keyring
            .unwrap_dek(&subject(patient), &WrappedDek { kek_id, bytes })
            .map_err(|e| ApiError::internal(format!("patient key: {e}")))
    })
    .transpose()
}

/// Seals `plaintext` for `field` of row `row` (e.g. `("visit_note", note_id)`).
pub fn seal(dek: &Dek, field: &str, row: Uuid, plaintext: &[u8]) -> Vec<u8> {
    dek.seal_blob(format!("{field}:{row}").as_bytes(), plaintext)
}

/// Opens what [`seal`] sealed for the same field and row; anything else is an internal error
/// (tampered or moved data), never returned to the client as data.
pub fn open(
    dek: &Dek,
    field: &str,
    row: Uuid,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    dek.open_blob(format!("{field}:{row}").as_bytes(), sealed)
        .map_err(|e| ApiError::internal(format!("sealed {field} of {row}: {e}")))
}

/// Opens a sealed UTF-8 text field.
pub fn open_text(dek: &Dek, field: &str, row: Uuid, sealed: &[u8]) -> Result<String, ApiError> {
    let bytes = open(dek, field, row, sealed)?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::internal(format!("sealed {field} of {row} is not UTF-8")))
}
