//! Patients: a `users` row plus a `patient_profiles` row with a generated, unique MRN.
//!
//! Admins manage accounts: they see and change identity and contact fields only, never the
//! clinical ones (blood group, height, weight, allergies). Lists (names, MRNs) carry no
//! clinical fields for anyone; a doctor's or the patient's read of one profile is a read of
//! health data and is on the ledger ([`crate::access`]).

use chrono::NaiveDate;
use diesel::prelude::*;
use medvault_types::{
    BloodGroup, CareOrigin, CreatePatient, CreatedPatient, ListQuery, Page, Patient, Role, Sex,
    UpdateContact, UpdatePatient, UserId,
};
use rand::Rng;
use rand::rngs::OsRng;

use crate::access::{self, Access, Read};
use crate::accounts::care;
use crate::accounts::users::{self, UserRow};
use crate::auth::AuthUser;
use crate::db::ids::StoredId;
use crate::db::paging::{Paging, lower};
use crate::db::schema::{care as care_t, patient_profiles, users as users_t};
use crate::db::{self, Db, DbConn};
use crate::error::ApiError;
use crate::ledger::Action;
use crate::state::SharedState;
use crate::time;
use crate::validate::{self, Fields};
use medvault_types::input;

/// How a doctor names a patient in a consent request or an emergency access.
#[derive(Debug, Clone, Copy)]
pub enum PatientRef<'a> {
    /// By user id.
    Id(UserId),
    /// By medical record number (case and surrounding space ignored).
    Mrn(&'a str),
}

impl<'a> PatientRef<'a> {
    /// The patient a request names by exactly one of `patient_id` and `mrn`; otherwise the
    /// field error goes into `f` and there is none.
    pub fn named(f: &mut Fields, patient_id: Option<UserId>, mrn: Option<&'a str>) -> Option<Self> {
        match (patient_id, mrn) {
            (Some(id), None) => Some(Self::Id(id)),
            (None, Some(mrn)) if !mrn.trim().is_empty() && mrn.len() <= 32 => Some(Self::Mrn(mrn)),
            (None, Some(_)) => {
                f.take::<()>("mrn", Err("must be a medical record number".into()));
                None
            }
            _ => {
                f.take::<()>(
                    "patient_id",
                    Err("give exactly one of patient_id and mrn".into()),
                );
                None
            }
        }
    }
}

/// The active patient `by` names; anything else (unknown id or MRN, another role, a
/// deactivated account) is 404.
pub fn active_patient(conn: &mut DbConn, by: PatientRef<'_>) -> Result<UserId, ApiError> {
    let id = match by {
        PatientRef::Id(id) => id.to_string(),
        PatientRef::Mrn(mrn) => patient_profiles::table
            .filter(patient_profiles::mrn.eq(mrn.trim().to_ascii_uppercase()))
            .select(patient_profiles::user_id)
            .first::<String>(conn)
            .optional()?
            .ok_or(ApiError::NotFound)?,
    };
    let active: bool = users_t::table
        .find(&id)
        .filter(users_t::role.eq(Role::Patient.as_str()))
        .select(users_t::active)
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)?;
    if active {
        UserId::from_stored(&id)
    } else {
        Err(ApiError::NotFound)
    }
}

/// MRN alphabet: digits and upper-case letters without look-alikes.
const MRN_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Random characters in an MRN (`MRN-XXXX-XXXX`, about 40 bits).
const MRN_RANDOM_LEN: usize = 8;

/// Who is asking: an admin sees every patient, a doctor only those in their care.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every patient.
    All,
    /// Only patients in this doctor's care.
    CareOf(UserId),
}

/// One `patient_profiles` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = patient_profiles)]
pub struct PatientProfileRow {
    /// The patient's user id.
    pub user_id: String,
    /// Medical record number.
    pub mrn: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Sex name.
    pub sex: String,
    /// Phone.
    pub phone: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Blood group name.
    pub blood_group: Option<String>,
    /// Centimetres.
    pub height_cm: Option<f64>,
    /// Kilograms.
    pub weight_kg: Option<f64>,
    /// Allergies.
    pub allergies: Option<String>,
    /// Emergency contact.
    pub emergency_contact: Option<String>,
}

/// Validated profile changes (contact-only changes use a subset).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = patient_profiles)]
pub struct PatientChanges {
    /// New given name.
    pub first_name: Option<String>,
    /// New family name.
    pub last_name: Option<String>,
    /// New date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// New sex.
    pub sex: Option<String>,
    /// New phone or clear.
    pub phone: Option<Option<String>>,
    /// New address or clear.
    pub address: Option<Option<String>>,
    /// New city or clear.
    pub city: Option<Option<String>>,
    /// New state or clear.
    pub state: Option<Option<String>>,
    /// New postal code or clear.
    pub postal_code: Option<Option<String>>,
    /// New blood group or clear.
    pub blood_group: Option<Option<String>>,
    /// New height or clear.
    pub height_cm: Option<Option<f64>>,
    /// New weight or clear.
    pub weight_kg: Option<Option<f64>>,
    /// New allergies or clear.
    pub allergies: Option<Option<String>>,
    /// New emergency contact or clear.
    pub emergency_contact: Option<Option<String>>,
}

impl PatientChanges {
    fn is_empty(&self) -> bool {
        self.first_name.is_none()
            && self.last_name.is_none()
            && self.date_of_birth.is_none()
            && self.sex.is_none()
            && self.phone.is_none()
            && self.address.is_none()
            && self.city.is_none()
            && self.state.is_none()
            && self.postal_code.is_none()
            && self.blood_group.is_none()
            && self.height_cm.is_none()
            && self.weight_kg.is_none()
            && self.allergies.is_none()
            && self.emergency_contact.is_none()
    }
}

fn height(v: Option<f64>) -> Result<Option<f64>, String> {
    validate::opt_range(v, 20.0, 300.0)
}

fn weight(v: Option<f64>) -> Result<Option<f64>, String> {
    validate::opt_range(v, 0.2, 700.0)
}

fn allergies(v: Option<String>) -> Result<Option<String>, String> {
    validate::opt_text(v, &input::ALLERGIES)
}

/// The message for a clinical field an admin tried to set.
const ADMIN_CLINICAL: &str =
    "admins manage accounts, not clinical data: the patient's doctor enters it";

/// The clinical fields of a profile, in the order [`refuse_clinical`] takes their presence.
const CLINICAL_FIELDS: [&str; 4] = ["blood_group", "height_cm", "weight_kg", "allergies"];

/// Refuses the clinical fields an admin sent (present, even as `null`), given whether each of
/// [`CLINICAL_FIELDS`] was sent.
fn refuse_clinical(f: &mut Fields, sent: [bool; 4]) {
    for (name, present) in CLINICAL_FIELDS.into_iter().zip(sent) {
        if present {
            f.take::<()>(name, Err(ADMIN_CLINICAL.into()));
        }
    }
}

/// Validates a create request: the email and the profile (ids and MRN filled in later). An
/// admin (`by_admin`) may not set clinical fields.
fn validate_new(
    req: CreatePatient,
    by_admin: bool,
) -> Result<(String, PatientProfileRow), ApiError> {
    let mut f = Fields::default();
    if by_admin {
        refuse_clinical(
            &mut f,
            [
                req.blood_group.is_some(),
                req.height_cm.is_some(),
                req.weight_kg.is_some(),
                req.allergies.is_some(),
            ],
        );
    }
    let email = f.take("email", validate::email(&req.email));
    let profile = PatientProfileRow {
        user_id: String::new(),
        mrn: String::new(),
        first_name: f.take("first_name", validate::text(&req.first_name, &input::NAME)),
        last_name: f.take("last_name", validate::text(&req.last_name, &input::NAME)),
        date_of_birth: f.take("date_of_birth", validate::date_of_birth(req.date_of_birth)),
        sex: req.sex.as_str().into(),
        phone: f.take("phone", validate::phone(req.phone)),
        address: f.take("address", validate::opt_text(req.address, &input::ADDRESS)),
        city: f.take("city", validate::opt_text(req.city, &input::PLACE)),
        state: f.take("state", validate::opt_text(req.state, &input::PLACE)),
        postal_code: f.take("postal_code", validate::postal_code(req.postal_code)),
        blood_group: req.blood_group.map(|b| b.as_str().into()),
        height_cm: f.take("height_cm", height(req.height_cm)),
        weight_kg: f.take("weight_kg", weight(req.weight_kg)),
        allergies: f.take("allergies", allergies(req.allergies)),
        emergency_contact: f.take(
            "emergency_contact",
            validate::opt_text(req.emergency_contact, &input::ADDRESS),
        ),
    };
    f.finish()?;
    Ok((email, profile))
}

fn contact_changes(f: &mut Fields, req: UpdateContact) -> PatientChanges {
    PatientChanges {
        phone: f.patch("phone", req.phone, validate::phone),
        address: f.patch("address", req.address, |v| {
            validate::opt_text(v, &input::ADDRESS)
        }),
        city: f.patch("city", req.city, |v| validate::opt_text(v, &input::PLACE)),
        state: f.patch("state", req.state, |v| validate::opt_text(v, &input::PLACE)),
        postal_code: f.patch("postal_code", req.postal_code, validate::postal_code),
        emergency_contact: f.patch("emergency_contact", req.emergency_contact, |v| {
            validate::opt_text(v, &input::ADDRESS)
        }),
        ..PatientChanges::default()
    }
}

/// Validates an admin PATCH: the new email, if any, and the identity and contact changes
/// (clinical fields are refused).
fn validate_changes(req: UpdatePatient) -> Result<(Option<String>, PatientChanges), ApiError> {
    let mut f = Fields::default();
    refuse_clinical(
        &mut f,
        [
            req.blood_group.is_some(),
            req.height_cm.is_some(),
            req.weight_kg.is_some(),
            req.allergies.is_some(),
        ],
    );
    let email = f.patch("email", req.email, |e| validate::email(&e));
    let contact = contact_changes(
        &mut f,
        UpdateContact {
            phone: req.phone,
            address: req.address,
            city: req.city,
            state: req.state,
            postal_code: req.postal_code,
            emergency_contact: req.emergency_contact,
        },
    );
    let changes = PatientChanges {
        first_name: f.patch("first_name", req.first_name, |v| {
            validate::text(&v, &input::NAME)
        }),
        last_name: f.patch("last_name", req.last_name, |v| {
            validate::text(&v, &input::NAME)
        }),
        date_of_birth: f.patch("date_of_birth", req.date_of_birth, validate::date_of_birth),
        sex: req.sex.map(|s| s.as_str().into()),
        ..contact
    };
    f.finish()?;
    Ok((email, changes))
}

/// Validates a patient's own contact PATCH.
fn validate_contact(req: UpdateContact) -> Result<PatientChanges, ApiError> {
    let mut f = Fields::default();
    let changes = contact_changes(&mut f, req);
    f.finish()?;
    Ok(changes)
}

/// How much of a profile a view carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    /// Identity, contact and clinical fields (the patient, a doctor in care; ledgered).
    Full,
    /// Identity and contact fields only (admins, lists).
    Identity,
}

fn to_dto(
    user: &UserRow,
    p: PatientProfileRow,
    doctor_ids: Vec<UserId>,
    view: View,
) -> Result<Patient, ApiError> {
    let bad = || ApiError::internal("unknown enum value in patient_profiles");
    let clinical = view == View::Full;
    Ok(Patient {
        id: user.user_id()?,
        mrn: p.mrn,
        email: user.email.clone(),
        first_name: p.first_name,
        last_name: p.last_name,
        date_of_birth: p.date_of_birth,
        sex: Sex::parse(&p.sex).ok_or_else(bad)?,
        phone: p.phone,
        address: p.address,
        city: p.city,
        state: p.state,
        postal_code: p.postal_code,
        blood_group: p
            .blood_group
            .filter(|_| clinical)
            .map(|b| BloodGroup::parse(&b).ok_or_else(bad))
            .transpose()?,
        height_cm: p.height_cm.filter(|_| clinical),
        weight_kg: p.weight_kg.filter(|_| clinical),
        allergies: p.allergies.filter(|_| clinical),
        emergency_contact: p.emergency_contact,
        doctor_ids,
        active: user.active,
        must_change_password: user.must_change_password,
        created_at: time::utc(user.created_at),
        updated_at: time::utc(user.updated_at),
    })
}

fn random_mrn() -> String {
    let mut rng = OsRng;
    let chars: String = (0..MRN_RANDOM_LEN)
        .map(|_| char::from(MRN_ALPHABET[rng.gen_range(0..MRN_ALPHABET.len())]))
        .collect();
    format!("MRN-{}-{}", &chars[..4], &chars[4..])
}

fn unused_mrn(conn: &mut DbConn) -> Result<String, ApiError> {
    for _ in 0..8 {
        let mrn = random_mrn();
        let taken: i64 = patient_profiles::table
            .filter(patient_profiles::mrn.eq(&mrn))
            .count()
            .get_result(conn)?;
        if taken == 0 {
            return Ok(mrn);
        }
    }
    Err(ApiError::internal("could not find a free MRN"))
}

/// Creates the login, the profile with a fresh MRN and, for a doctor, the care relation
/// (inside the caller's transaction).
fn create(
    conn: &mut DbConn,
    actor: UserId,
    user: &UserRow,
    mut profile: PatientProfileRow,
    doctor: Option<UserId>,
) -> Result<Patient, ApiError> {
    users::ensure_email_free(conn, &user.email, None)?;
    users::insert(conn, user)?;
    crate::ledger::user_event(conn, Some(actor), Action::UserCreate, &user.id)?;
    profile.user_id.clone_from(&user.id);
    profile.mrn = unused_mrn(conn)?;
    diesel::insert_into(patient_profiles::table)
        .values(&profile)
        .execute(conn)?;
    if let Some(doctor) = doctor {
        care::assign(conn, user.user_id()?, doctor, CareOrigin::Creator)?;
    }
    let doctors = care::doctors_of(conn, std::slice::from_ref(&user.id))?;
    let view = if doctor.is_some() {
        View::Full
    } else {
        View::Identity
    };
    to_dto(
        user,
        profile,
        doctors.into_values().next().unwrap_or_default(),
        view,
    )
}

/// The patient with this id in `view`, or 404. The caller decided who may see it.
fn get(conn: &mut DbConn, id: UserId, view: View) -> Result<Patient, ApiError> {
    let id_text = id.to_string();
    let (user, profile) = users_t::table
        .inner_join(patient_profiles::table)
        .filter(users_t::id.eq(&id_text))
        .filter(users_t::role.eq(Role::Patient.as_str()))
        .select((UserRow::as_select(), PatientProfileRow::as_select()))
        .first::<(UserRow, PatientProfileRow)>(conn)
        .optional()?
        .ok_or(ApiError::NotFound)?;
    let mut doctors = care::doctors_of(conn, std::slice::from_ref(&id_text))?;
    to_dto(
        &user,
        profile,
        doctors.remove(&id_text).unwrap_or_default(),
        view,
    )
}

/// A page of patients visible in `scope`, newest first, optionally matching name or email.
fn list(conn: &mut DbConn, scope: &Scope, paging: &Paging) -> Result<Page<Patient>, ApiError> {
    let query = || {
        let mut q = users_t::table
            .inner_join(patient_profiles::table)
            .filter(users_t::role.eq(Role::Patient.as_str()))
            .into_boxed::<Db>();
        if let Scope::CareOf(doctor) = scope {
            q = q.filter(
                users_t::id.eq_any(
                    care_t::table
                        .filter(care_t::doctor_id.eq(doctor.to_string()))
                        .select(care_t::patient_id),
                ),
            );
        }
        if let Some(p) = &paging.pattern {
            q = q.filter(
                lower(patient_profiles::first_name)
                    .like(p.clone())
                    .escape('\\')
                    .or(lower(patient_profiles::last_name)
                        .like(p.clone())
                        .escape('\\'))
                    .or(users_t::email.like(p.clone()).escape('\\'))
                    .or(lower(patient_profiles::mrn).like(p.clone()).escape('\\')),
            );
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<(UserRow, PatientProfileRow)> = query()
        .select((UserRow::as_select(), PatientProfileRow::as_select()))
        .order((users_t::created_at.desc(), users_t::id))
        .limit(paging.limit())
        .offset(paging.offset())
        .load(conn)?;
    let ids: Vec<String> = rows.iter().map(|(u, _)| u.id.clone()).collect();
    let mut doctors = care::doctors_of(conn, &ids)?;
    Ok(paging.page(
        rows.into_iter()
            .map(|(u, p)| {
                let d = doctors.remove(&u.id).unwrap_or_default();
                to_dto(&u, p, d, View::Identity)
            })
            .collect::<Result<_, _>>()?,
        total,
    ))
}

/// Applies validated changes (inside the caller's transaction); 404 when `id` is not a
/// patient.
fn update(
    conn: &mut DbConn,
    actor: UserId,
    id: UserId,
    email: Option<&str>,
    changes: &PatientChanges,
    view: View,
) -> Result<(Patient, Option<users::EmailChange>), ApiError> {
    get(conn, id, View::Identity)?;
    let change = users::update_account(conn, actor, id, email, |conn, id_text| {
        if !changes.is_empty() {
            diesel::update(patient_profiles::table.find(id_text))
                .set(changes)
                .execute(conn)?;
        }
        Ok(())
    })?;
    Ok((get(conn, id, view)?, change))
}

/// A page of the patients visible in `scope`, newest first; `q` searches name, e-mail and
/// MRN.
pub async fn list_page(
    state: &SharedState,
    scope: Scope,
    query: &ListQuery,
) -> Result<Page<Patient>, ApiError> {
    let paging = Paging::from_query(query)?;
    db::run(&state.pool, move |conn| list(conn, &scope, &paging)).await
}

/// Creates a patient and their login (the temporary password goes to their e-mail, or, with
/// no SMTP, is in the answer once); when
/// a doctor creates it, the patient is in that doctor's care.
pub async fn create_account(
    state: &SharedState,
    actor: UserId,
    req: CreatePatient,
    doctor: Option<UserId>,
) -> Result<CreatedPatient, ApiError> {
    let (email, profile) = validate_new(req, doctor.is_none())?;
    let (user, password) = users::new_login(state, email, Role::Patient).await?;
    let patient = db::write(&state.pool, move |conn| {
        create(conn, actor, &user, profile, doctor)
    })
    .await?;
    tracing::info!(patient = %patient.id, "patient created");
    Ok(CreatedPatient {
        temporary_password: users::hand_over(state, &patient.email, &password),
        patient,
    })
}

/// One patient as an admin sees it: identity and contact fields, no clinical content (not a
/// read of health data).
pub async fn show_to_admin(state: &SharedState, id: UserId) -> Result<Patient, ApiError> {
    db::run(&state.pool, move |conn| get(conn, id, View::Identity)).await
}

/// One patient's profile read by a doctor (in care, else 404) or by the patient themself,
/// with its `patient.read` ledger entry.
pub async fn read_profile(
    state: &SharedState,
    user: AuthUser,
    id: UserId,
) -> Result<Patient, ApiError> {
    let now = state.clock.now();
    db::write(&state.pool, move |conn| {
        let basis = Access::resolve(conn, &user, id, now)?.profile()?;
        let patient = get(conn, id, View::Full)?;
        access::record_read(conn, user.id, id, Read::Profile, basis)?;
        Ok(patient)
    })
    .await
}

/// An admin changes a patient's e-mail or profile; absent fields stay, `null` clears.
pub async fn change(
    state: &SharedState,
    admin: UserId,
    id: UserId,
    req: UpdatePatient,
) -> Result<Patient, ApiError> {
    let (email, changes) = validate_changes(req)?;
    let (patient, change) = db::write(&state.pool, move |conn| {
        update(conn, admin, id, email.as_deref(), &changes, View::Identity)
    })
    .await?;
    users::notify_email_change(state, change.as_ref());
    Ok(patient)
}

/// A patient changes their own contact fields.
pub async fn update_contact(
    state: &SharedState,
    patient: UserId,
    req: UpdateContact,
) -> Result<Patient, ApiError> {
    let changes = validate_contact(req)?;
    db::write(&state.pool, move |conn| {
        update(conn, patient, patient, None, &changes, View::Full).map(|(p, _)| p)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrn_shape() {
        let a = random_mrn();
        assert_eq!(a.len(), 13);
        assert!(a.starts_with("MRN-"));
        assert_eq!(&a[8..9], "-");
        assert_ne!(a, random_mrn());
    }
}
