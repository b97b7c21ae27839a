//! The care relation: which doctors may see which patients.

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use crate::accounts::users::parse_id;
use crate::db::DbConn;
use crate::db::schema::care;
use crate::error::ApiError;
use crate::time;

/// Puts `patient_id` in `doctor_id`'s care (idempotent).
pub fn assign(conn: &mut DbConn, patient_id: &str, doctor_id: &str) -> Result<(), ApiError> {
    if in_care(conn, doctor_id, patient_id)? {
        return Ok(());
    }
    diesel::insert_into(care::table)
        .values((
            care::patient_id.eq(patient_id),
            care::doctor_id.eq(doctor_id),
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
pub fn unassign(conn: &mut DbConn, patient_id: &str, doctor_id: &str) -> Result<(), ApiError> {
    let n = diesel::delete(
        care::table
            .filter(care::patient_id.eq(patient_id))
            .filter(care::doctor_id.eq(doctor_id)),
    )
    .execute(conn)?;
    if n == 0 {
        Err(ApiError::NotFound)
    } else {
        Ok(())
    }
}

/// Whether `patient_id` is in `doctor_id`'s care.
pub fn in_care(conn: &mut DbConn, doctor_id: &str, patient_id: &str) -> Result<bool, ApiError> {
    let n: i64 = care::table
        .filter(care::patient_id.eq(patient_id))
        .filter(care::doctor_id.eq(doctor_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Doctor ids per patient for the given patients.
pub fn doctors_of(
    conn: &mut DbConn,
    patient_ids: &[String],
) -> Result<HashMap<String, Vec<Uuid>>, ApiError> {
    let rows: Vec<(String, String)> = care::table
        .filter(care::patient_id.eq_any(patient_ids))
        .order((care::patient_id, care::created_at))
        .select((care::patient_id, care::doctor_id))
        .load(conn)?;
    let mut map: HashMap<String, Vec<Uuid>> = HashMap::new();
    for (patient, doctor) in rows {
        map.entry(patient).or_default().push(parse_id(&doctor)?);
    }
    Ok(map)
}
