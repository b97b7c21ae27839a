//! The care relation: which doctors may see which patients.

use std::collections::HashMap;

use diesel::prelude::*;
use medvault_types::{Role, UserId};
use serde_json::json;

use crate::accounts::users;
use crate::db::ids::StoredId;
use crate::db::schema::care;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::ledger::{self, Action, NewEntry};
use crate::state::SharedState;
use crate::time;

/// Puts `patient` in `doctor`'s care (idempotent).
pub fn assign(conn: &mut DbConn, patient: UserId, doctor: UserId) -> Result<(), ApiError> {
    if in_care(conn, doctor, patient)? {
        return Ok(());
    }
    diesel::insert_into(care::table)
        .values((
            care::patient_id.eq(patient.to_string()),
            care::doctor_id.eq(doctor.to_string()),
            care::created_at.eq(time::now()),
        ))
        .execute(conn)
        .map(drop)
        .or_else(|e| match ApiError::from(e) {
            // A concurrent assign got there first.
            ApiError::Conflict(_) => Ok(()),
            other => Err(other),
        })
}

/// Ends the relation; 404 when there was none.
fn unassign(conn: &mut DbConn, patient: UserId, doctor: UserId) -> Result<(), ApiError> {
    let n = diesel::delete(
        care::table
            .filter(care::patient_id.eq(patient.to_string()))
            .filter(care::doctor_id.eq(doctor.to_string())),
    )
    .execute(conn)?;
    if n == 0 {
        Err(ApiError::NotFound)
    } else {
        Ok(())
    }
}

/// Whether `patient` is in `doctor`'s care.
pub fn in_care(conn: &mut DbConn, doctor: UserId, patient: UserId) -> Result<bool, ApiError> {
    let n: i64 = care::table
        .filter(care::patient_id.eq(patient.to_string()))
        .filter(care::doctor_id.eq(doctor.to_string()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Doctor ids per patient (by stored id text) for the given patients.
pub fn doctors_of(
    conn: &mut DbConn,
    patient_ids: &[String],
) -> Result<HashMap<String, Vec<UserId>>, ApiError> {
    let rows: Vec<(String, String)> = care::table
        .filter(care::patient_id.eq_any(patient_ids))
        .order((care::patient_id, care::created_at))
        .select((care::patient_id, care::doctor_id))
        .load(conn)?;
    let mut map: HashMap<String, Vec<UserId>> = HashMap::new();
    for (patient, doctor) in rows {
        map.entry(patient)
            .or_default()
            .push(UserId::from_stored(&doctor)?);
    }
    Ok(map)
}

/// Ledger entry for a change of the care relation.
fn care_event(
    conn: &mut DbConn,
    admin: UserId,
    action: Action,
    patient: UserId,
    doctor: UserId,
) -> Result<(), ApiError> {
    ledger::append(
        conn,
        &NewEntry::new(Some(admin), action, format!("user:{patient}"))
            .patient(patient)
            .payload(json!({ "patient_id": patient, "doctor_id": doctor })),
    )?;
    Ok(())
}

/// An admin puts a patient in a doctor's care (idempotent; 404 for ids of other roles).
pub async fn assign_by_admin(
    state: &SharedState,
    admin: UserId,
    patient: UserId,
    doctor: UserId,
) -> Result<(), ApiError> {
    db::write(&state.pool, move |conn| {
        users::get_with_role(conn, patient, Role::Patient)?;
        users::get_with_role(conn, doctor, Role::Doctor)?;
        assign(conn, patient, doctor)?;
        care_event(conn, admin, Action::CareAssign, patient, doctor)
    })
    .await
}

/// An admin ends a doctor's care of a patient (404 when there was none).
pub async fn unassign_by_admin(
    state: &SharedState,
    admin: UserId,
    patient: UserId,
    doctor: UserId,
) -> Result<(), ApiError> {
    db::write(&state.pool, move |conn| {
        unassign(conn, patient, doctor)?;
        care_event(conn, admin, Action::CareUnassign, patient, doctor)
    })
    .await
}
