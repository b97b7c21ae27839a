//! Visit notes: written by doctors for patients in their care, sealed at rest with the
//! patient's data key, read by the patient, by their author, and by other doctors only under a
//! grant that covers notes ([`crate::access`]). Every read is on the ledger.

use chrono::NaiveDate;
use diesel::prelude::*;
use medvault_engine::KeyRing;
use medvault_types::{CreateVisitNote, NoteId, UserId, VisitNote};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::{self, Access, NotesScope, Read};
use crate::accounts::care;
use crate::auth::AuthUser;
use crate::db::ids::FreshId;
use crate::db::ids::StoredId;
use crate::db::schema::visit_notes;
use crate::db::{self, Db, DbConn};
use crate::error::ApiError;
use crate::ledger::Action;
use crate::ledger::{self, NewEntry};
use crate::read_models::names;
use crate::state::SharedState;
use crate::validate::{self, Fields};
use crate::{patient_key, time};
use medvault_types::input;

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

fn validate(req: &CreateVisitNote, today: NaiveDate) -> Result<Body, ApiError> {
    let mut f = Fields::default();
    f.take("visit_date", validate::past_date(req.visit_date, today));
    let body = Body {
        symptoms: f.take("symptoms", validate::text(&req.symptoms, &input::FINDING)),
        diagnosis: f.take("diagnosis", validate::text(&req.diagnosis, &input::FINDING)),
        prescription: f.take(
            "prescription",
            validate::text(&req.prescription, &input::PRESCRIPTION),
        ),
        notes: f.take("notes", validate::text(&req.notes, &input::VISIT_NOTES)),
    };
    f.finish()?;
    Ok(body)
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
fn add(
    conn: &mut DbConn,
    keyring: &KeyRing,
    doctor: UserId,
    patient: UserId,
    req: &CreateVisitNote,
) -> Result<VisitNote, ApiError> {
    let body = validate(req, chrono::Utc::now().date_naive())?;
    let dek = patient_key::get_or_create(conn, keyring, patient)?;
    let id = NoteId::fresh();
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(&body).map_err(ApiError::internal)?);
    diesel::insert_into(visit_notes::table)
        .values((
            visit_notes::id.eq(id.to_string()),
            visit_notes::patient_id.eq(patient.to_string()),
            visit_notes::doctor_id.eq(doctor.to_string()),
            visit_notes::visit_date.eq(req.visit_date),
            visit_notes::body_enc.eq(patient_key::seal(&dek, FIELD, id.as_uuid(), &plain)),
            visit_notes::created_at.eq(time::now()),
        ))
        .execute(conn)?;
    ledger::append(
        conn,
        &NewEntry::new(Some(doctor), Action::NoteAdd, format!("note:{id}"))
            .patient(patient)
            .payload(json!({ "note_id": id, "doctor_id": doctor })),
    )?;
    list(conn, keyring, patient, NotesScope::WrittenBy(doctor))?
        .into_iter()
        .find(|n| n.id == id)
        .ok_or_else(|| ApiError::internal("note vanished"))
}

/// A patient's notes in `scope`, newest visit first, decrypted. The caller decided who may
/// read them.
pub fn list(
    conn: &mut DbConn,
    keyring: &KeyRing,
    patient: UserId,
    scope: NotesScope,
) -> Result<Vec<VisitNote>, ApiError> {
    let mut query = visit_notes::table
        .filter(visit_notes::patient_id.eq(patient.to_string()))
        .into_boxed::<Db>();
    if let NotesScope::WrittenBy(doctor) = scope {
        query = query.filter(visit_notes::doctor_id.eq(doctor.to_string()));
    }
    let rows: Vec<Row> = query
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
            let id = NoteId::from_stored(&r.id)?;
            let plain = patient_key::open(&dek, FIELD, id.as_uuid(), &r.body_enc)?;
            let body: Body = serde_json::from_slice(&plain).map_err(ApiError::internal)?;
            Ok(VisitNote {
                id,
                patient_id: UserId::from_stored(&r.patient_id)?,
                doctor_id: UserId::from_stored(&r.doctor_id)?,
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

/// A doctor adds a visit note for a patient in their care (anyone else: 404).
pub async fn add_for_patient(
    state: &SharedState,
    doctor: UserId,
    patient: UserId,
    req: CreateVisitNote,
) -> Result<VisitNote, ApiError> {
    let st = SharedState::clone(state);
    db::write(&state.pool, move |conn| {
        if !care::in_care(conn, doctor, patient)? {
            return Err(ApiError::NotFound);
        }
        add(conn, st.engine.keys(), doctor, patient, &req)
    })
    .await
}

/// A doctor reads a patient's visit notes: all of them under a grant that covers notes, their
/// own when the patient is in their care, else 404 ([`Access::visit_notes`]); ledgered.
pub async fn list_for_doctor(
    state: &SharedState,
    doctor: AuthUser,
    patient: UserId,
) -> Result<Vec<VisitNote>, ApiError> {
    read(state, doctor, patient).await
}

/// A patient reads their own visit notes (ledgered like every read).
pub async fn list_own(state: &SharedState, patient: AuthUser) -> Result<Vec<VisitNote>, ApiError> {
    let me = patient.id;
    read(state, patient, me).await
}

/// The one read path for visit notes: decide, read, ledger, in one transaction.
async fn read(
    state: &SharedState,
    user: AuthUser,
    patient: UserId,
) -> Result<Vec<VisitNote>, ApiError> {
    let st = SharedState::clone(state);
    let now = state.clock.now();
    db::write(&state.pool, move |conn| {
        let (basis, scope) = Access::resolve(conn, &user, patient, now)?.visit_notes()?;
        let notes = list(conn, st.engine.keys(), patient, scope)?;
        access::record_read(
            conn,
            user.id,
            patient,
            Read::VisitNotes {
                shown: notes.len(),
                own_only: scope != NotesScope::All,
            },
            basis,
        )?;
        Ok(notes)
    })
    .await
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
