//! The care relation: which doctors treat which patients. Care is explicit: an admin assigned
//! the doctor, the doctor created the patient's account, or the patient added the doctor; the
//! patient can list, add and remove the doctors of their care at any time. Consent never
//! creates care (it yields a scoped grant). Ending care ends that doctor's live grants for the
//! patient. What care lets a doctor see is decided in [`crate::access`].

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use medvault_types::{AddCareDoctor, CareDoctor, CareOrigin, Role, UserId};
use serde_json::json;

use crate::accounts::users;
use crate::consent::grants;
use crate::db::ids::StoredId;
use crate::db::schema::{care, users as users_t};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::ledger::{self, Action, NewEntry};
use crate::read_models::names;
use crate::state::SharedState;
use crate::time;
use crate::validate;

/// Puts `patient` in `doctor`'s care (idempotent: an existing relation keeps its origin).
pub fn assign(
    conn: &mut DbConn,
    patient: UserId,
    doctor: UserId,
    origin: CareOrigin,
) -> Result<(), ApiError> {
    if in_care(conn, doctor, patient)? {
        return Ok(());
    }
    diesel::insert_into(care::table)
        .values((
            care::patient_id.eq(patient.to_string()),
            care::doctor_id.eq(doctor.to_string()),
            care::created_at.eq(time::now()),
            care::origin.eq(origin.as_str()),
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

/// Ledger entry for a change of the care relation, by `actor` (an admin or the patient).
fn care_event(
    conn: &mut DbConn,
    actor: UserId,
    action: Action,
    patient: UserId,
    doctor: UserId,
    extra: serde_json::Value,
) -> Result<(), ApiError> {
    let mut payload = json!({ "patient_id": patient, "doctor_id": doctor });
    if let (Some(map), serde_json::Value::Object(more)) = (payload.as_object_mut(), extra) {
        map.extend(more);
    }
    ledger::append(
        conn,
        &NewEntry::new(Some(actor), action, format!("user:{patient}"))
            .patient(patient)
            .payload(payload),
    )?;
    Ok(())
}

/// Ends a doctor's care of a patient and that doctor's live grants for the patient, with the
/// ledger entries (404 when there was no care).
fn end(
    conn: &mut DbConn,
    actor: UserId,
    patient: UserId,
    doctor: UserId,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    unassign(conn, patient, doctor)?;
    let ended = grants::end_all(conn, actor, doctor, patient, now)?;
    care_event(
        conn,
        actor,
        Action::CareUnassign,
        patient,
        doctor,
        json!({ "grants_ended": ended }),
    )
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
        assign(conn, patient, doctor, CareOrigin::Admin)?;
        care_event(
            conn,
            admin,
            Action::CareAssign,
            patient,
            doctor,
            json!({ "origin": CareOrigin::Admin.as_str() }),
        )
    })
    .await
}

/// An admin ends a doctor's care of a patient (404 when there was none); the doctor's live
/// grants for the patient end with it.
pub async fn unassign_by_admin(
    state: &SharedState,
    admin: UserId,
    patient: UserId,
    doctor: UserId,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    db::write(&state.pool, move |conn| {
        end(conn, admin, patient, doctor, now)
    })
    .await
}

/// The doctors of a patient's care, oldest first, as the patient sees them.
pub async fn list_for_patient(
    state: &SharedState,
    patient: UserId,
) -> Result<Vec<CareDoctor>, ApiError> {
    db::run(&state.pool, move |conn| {
        let rows: Vec<(String, NaiveDateTime, String)> = care::table
            .filter(care::patient_id.eq(patient.to_string()))
            .order((care::created_at, care::doctor_id))
            .select((care::doctor_id, care::created_at, care::origin))
            .load(conn)?;
        let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        let doctor_names = names::doctors(conn, &ids)?;
        let emails: HashMap<String, String> = users_t::table
            .filter(users_t::id.eq_any(&ids))
            .select((users_t::id, users_t::email))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        rows.into_iter()
            .map(|(doctor, since, origin)| {
                Ok(CareDoctor {
                    doctor_id: UserId::from_stored(&doctor)?,
                    doctor_name: doctor_names.get(&doctor).cloned().unwrap_or_default(),
                    email: emails.get(&doctor).cloned().unwrap_or_default(),
                    origin: CareOrigin::parse(&origin)
                        .ok_or_else(|| ApiError::internal("unknown care origin"))?,
                    since: time::utc(since),
                })
            })
            .collect()
    })
    .await
}

/// The doctor a patient names, by id or by e-mail (exactly one): an active doctor, else 404
/// (a patient learns nothing about other accounts).
fn named_doctor(conn: &mut DbConn, req: &AddCareDoctor) -> Result<UserId, ApiError> {
    let row = match (&req.doctor_id, &req.email) {
        (Some(id), None) => users::find(conn, *id)?,
        (None, Some(email)) => {
            let email = validate::email(email).map_err(|m| ApiError::field("email", m))?;
            users::find_by_email(conn, &email)?
        }
        _ => {
            return Err(ApiError::field(
                "doctor_id",
                "give exactly one of doctor_id and email",
            ));
        }
    };
    let row = row
        .filter(|u| u.active && u.role == Role::Doctor.as_str())
        .ok_or(ApiError::NotFound)?;
    row.user_id()
}

/// The patient adds a doctor to their care (idempotent), with a `care.assign` entry.
pub async fn add_by_patient(
    state: &SharedState,
    patient: UserId,
    req: AddCareDoctor,
) -> Result<Vec<CareDoctor>, ApiError> {
    db::write(&state.pool, move |conn| {
        let doctor = named_doctor(conn, &req)?;
        if !in_care(conn, doctor, patient)? {
            assign(conn, patient, doctor, CareOrigin::Patient)?;
            care_event(
                conn,
                patient,
                Action::CareAssign,
                patient,
                doctor,
                json!({ "origin": CareOrigin::Patient.as_str() }),
            )?;
        }
        Ok(())
    })
    .await?;
    list_for_patient(state, patient).await
}

/// The patient removes a doctor from their care (404 when not in it); the doctor's live
/// grants for the patient end with it.
pub async fn remove_by_patient(
    state: &SharedState,
    patient: UserId,
    doctor: UserId,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    db::write(&state.pool, move |conn| {
        end(conn, patient, patient, doctor, now)
    })
    .await
}

/// Care rows as the ledger explains them: which `(patient, doctor)` pairs consent created
/// (a `consent.grant` for the pair, and neither a `care.assign` nor the doctor's creation of
/// the patient's account), and which the doctor created.
#[derive(Debug, Default)]
struct History {
    granted: HashSet<(String, String)>,
    assigned: HashSet<(String, String)>,
    created: HashSet<(String, String)>,
}

fn pair_of(payload: &serde_json::Value) -> Option<(String, String)> {
    let field = |k: &str| payload.get(k).and_then(serde_json::Value::as_str);
    Some((
        field("patient_id")?.to_owned(),
        field("doctor_id")?.to_owned(),
    ))
}

/// The ledger columns [`history`] reads: action, actor, subject, payload, patient id.
type LedgerFacts = (String, Option<String>, String, String, Option<String>);

fn history(conn: &mut DbConn) -> Result<History, ApiError> {
    use crate::db::schema::ledger as l;
    let rows: Vec<LedgerFacts> = l::table
        .filter(l::action.eq_any([
            Action::ConsentGrant.as_str(),
            Action::CareAssign.as_str(),
            Action::UserCreate.as_str(),
        ]))
        .select((l::action, l::actor, l::subject, l::payload, l::patient_id))
        .load(conn)?;
    let mut h = History::default();
    for (action, actor, subject, payload, patient) in rows {
        let payload: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
        match Action::parse(&action) {
            Some(Action::ConsentGrant) => {
                let doctor = payload.get("doctor_id").and_then(serde_json::Value::as_str);
                if let (Some(p), Some(d)) = (patient, doctor) {
                    h.granted.insert((p, d.to_owned()));
                }
            }
            Some(Action::CareAssign) => {
                if let Some(pair) = pair_of(&payload) {
                    h.assigned.insert(pair);
                }
            }
            Some(Action::UserCreate) => {
                if let (Some(actor), Some(p)) = (actor, subject.strip_prefix("user:")) {
                    h.created.insert((p.to_owned(), actor));
                }
            }
            _ => {}
        }
    }
    Ok(h)
}

/// The start-up migration of issue 11: removes the care rows that consent created (the old
/// rule put a doctor in care on every consent), each with a `care.unassign` entry saying so,
/// and marks the rows doctors created with their origin. Returns how many rows it removed.
pub fn drop_consent_created(conn: &mut DbConn) -> Result<usize, ApiError> {
    let h = history(conn)?;
    let rows: Vec<(String, String)> = care::table
        .select((care::patient_id, care::doctor_id))
        .load(conn)?;
    let mut removed = 0;
    for (patient, doctor) in rows {
        let pair = (patient.clone(), doctor.clone());
        if h.created.contains(&pair) {
            diesel::update(
                care::table
                    .filter(care::patient_id.eq(&patient))
                    .filter(care::doctor_id.eq(&doctor)),
            )
            .set(care::origin.eq(CareOrigin::Creator.as_str()))
            .execute(conn)?;
        } else if h.granted.contains(&pair) && !h.assigned.contains(&pair) {
            let (p, d) = (
                UserId::from_stored(&patient)?,
                UserId::from_stored(&doctor)?,
            );
            unassign(conn, p, d)?;
            ledger::append(
                conn,
                &NewEntry::new(None, Action::CareUnassign, format!("user:{patient}"))
                    .patient(p)
                    .payload(json!({
                        "patient_id": patient,
                        "doctor_id": doctor,
                        "reason": "created by consent (consent no longer creates care)",
                    })),
            )?;
            removed += 1;
        }
    }
    Ok(removed)
}
