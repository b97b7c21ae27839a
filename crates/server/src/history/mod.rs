//! Clinical history: doctors' visit notes, sealed at rest with the patient's data key, and the
//! patient's timeline of notes and records.

use chrono::NaiveDate;
use diesel::prelude::*;
use medvault_engine::KeyRing;
use medvault_types::{CreateVisitNote, VisitNote};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::accounts::users::parse_id;
use crate::consent::names;
use crate::db::DbConn;
use crate::db::schema::visit_notes;
use crate::error::{ApiError, FieldErrors};
use crate::ledger::{self, NewEntry};
use crate::{patient_key, time};

const FIELD: &str = "visit_note";

/// Most notes returned for one patient (newest first).
pub const MAX_NOTES: i64 = 500;

/// The sealed part of a note.
#[derive(Serialize, Deserialize)]
struct Body {
    symptoms: String,
    diagnosis: String,
    prescription: String,
    notes: String,
}

fn check_text(fields: &mut FieldErrors, name: &str, value: &str, min: usize, max: usize) -> String {
    let v = value.trim().to_owned();
    let n = v.chars().count();
    if n < min || n > max {
        fields.insert(name.into(), format!("must be {min} to {max} characters"));
    } else if v
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        fields.insert(name.into(), "must not contain control characters".into());
    }
    v
}

fn validate(req: &CreateVisitNote, today: NaiveDate) -> Result<Body, ApiError> {
    let mut f = FieldErrors::new();
    if req.visit_date > today {
        f.insert("visit_date".into(), "must not be in the future".into());
    }
    if req.visit_date < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN) {
        f.insert("visit_date".into(), "must be after 1900".into());
    }
    let body = Body {
        symptoms: check_text(&mut f, "symptoms", &req.symptoms, 1, 4_000),
        diagnosis: check_text(&mut f, "diagnosis", &req.diagnosis, 1, 4_000),
        prescription: check_text(&mut f, "prescription", &req.prescription, 0, 4_000),
        notes: check_text(&mut f, "notes", &req.notes, 0, 10_000),
    };
    if f.is_empty() {
        Ok(body)
    } else {
        Err(ApiError::Validation(f))
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = visit_notes)]
struct Row {
    id: String,
    patient_id: String,
    doctor_id: String,
    visit_date: NaiveDate,
    body_enc: Vec<u8>,
    created_at: chrono::NaiveDateTime,
}

/// Adds a note. The caller checked that the patient is in the doctor's care.
pub fn add(
    conn: &mut DbConn,
    keyring: &KeyRing,
    doctor: Uuid,
    patient: Uuid,
    req: &CreateVisitNote,
) -> Result<VisitNote, ApiError> {
    let body = validate(req, chrono::Utc::now().date_naive())?;
    let dek = patient_key::get_or_create(conn, keyring, patient)?;
    let id = Uuid::new_v4();
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(&body).map_err(ApiError::internal)?);
    diesel::insert_into(visit_notes::table)
        .values((
            visit_notes::id.eq(id.to_string()),
            visit_notes::patient_id.eq(patient.to_string()),
            visit_notes::doctor_id.eq(doctor.to_string()),
            visit_notes::visit_date.eq(req.visit_date),
            visit_notes::body_enc.eq(patient_key::seal(&dek, FIELD, id, &plain)),
            visit_notes::created_at.eq(time::now()),
        ))
        .execute(conn)?;
    ledger::append(
        conn,
        &NewEntry::new(Some(doctor), "note.add", format!("note:{id}"))
            .patient(patient)
            .payload(json!({ "note_id": id, "doctor_id": doctor })),
    )?;
    list(conn, keyring, patient)?
        .into_iter()
        .find(|n| n.id == id)
        .ok_or_else(|| ApiError::internal("note vanished"))
}

/// A patient's notes, newest visit first, decrypted.
pub fn list(
    conn: &mut DbConn,
    keyring: &KeyRing,
    patient: Uuid,
) -> Result<Vec<VisitNote>, ApiError> {
    let rows: Vec<Row> = visit_notes::table
        .filter(visit_notes::patient_id.eq(patient.to_string()))
        .select(Row::as_select())
        .order((
            visit_notes::visit_date.desc(),
            visit_notes::created_at.desc(),
        ))
        .limit(MAX_NOTES)
        .load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let dek = patient_key::load(conn, keyring, patient)?
        .ok_or_else(|| ApiError::internal("notes without patient key"))?;
    let doctor_ids: Vec<String> = rows.iter().map(|r| r.doctor_id.clone()).collect();
    let doctors = names::doctors(conn, &doctor_ids)?;
    rows.into_iter()
        .map(|r| {
            let id = parse_id(&r.id)?;
            let plain = patient_key::open(&dek, FIELD, id, &r.body_enc)?;
            let body: Body = serde_json::from_slice(&plain).map_err(ApiError::internal)?;
            Ok(VisitNote {
                id,
                patient_id: parse_id(&r.patient_id)?,
                doctor_id: parse_id(&r.doctor_id)?,
                doctor_name: doctors.get(&r.doctor_id).cloned().unwrap_or_default(),
                visit_date: r.visit_date,
                symptoms: body.symptoms,
                diagnosis: body.diagnosis,
                prescription: body.prescription,
                notes: body.notes,
                created_at: time::utc(r.created_at),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(date: NaiveDate) -> CreateVisitNote {
        CreateVisitNote {
            visit_date: date,
            symptoms: "cough".into(),
            diagnosis: "bronchitis".into(),
            prescription: String::new(),
            notes: String::new(),
        }
    }

    #[test]
    fn validation_names_fields() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert!(validate(&note(today), today).is_ok());
        let Err(ApiError::Validation(f)) = validate(&note(today.succ_opt().unwrap()), today) else {
            panic!("future date accepted");
        };
        assert!(f.contains_key("visit_date"));
        let mut n = note(today);
        n.diagnosis = " ".into();
        n.notes = "x".repeat(10_001);
        let Err(ApiError::Validation(f)) = validate(&n, today) else {
            panic!("bad text accepted");
        };
        assert!(f.contains_key("diagnosis") && f.contains_key("notes"));
    }
}
