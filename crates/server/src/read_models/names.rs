//! Display names for ids in consent and access-log answers, loaded in one query per kind.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{doctor_profiles, patient_profiles, records};
use crate::error::ApiError;

/// Full names of the given doctors (user id -> name).
pub fn doctors(conn: &mut DbConn, ids: &[String]) -> Result<HashMap<String, String>, ApiError> {
    Ok(doctor_profiles::table
        .filter(doctor_profiles::user_id.eq_any(ids))
        .select((doctor_profiles::user_id, doctor_profiles::full_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// "First Last" of the given patients (user id -> name).
pub fn patients(conn: &mut DbConn, ids: &[String]) -> Result<HashMap<String, String>, ApiError> {
    Ok(patient_profiles::table
        .filter(patient_profiles::user_id.eq_any(ids))
        .select((
            patient_profiles::user_id,
            patient_profiles::first_name,
            patient_profiles::last_name,
        ))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, first, last)| (id, format!("{first} {last}")))
        .collect())
}

/// Titles of the given records that are not deleted (record id -> title).
pub fn record_titles(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<HashMap<String, String>, ApiError> {
    Ok(records::table
        .filter(records::id.eq_any(ids))
        .filter(records::deleted_at.is_null())
        .select((records::id, records::title))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}
