//! Doctors: a `users` row plus a `doctor_profiles` row.

use diesel::prelude::*;
use medvault_types::{
    CreateDoctor, CreatedDoctor, Doctor, ListQuery, Page, Role, UpdateDoctor, UserId,
};

use crate::accounts::users::{self, UserRow};
use crate::db::paging::{Paging, lower};
use crate::db::schema::{doctor_profiles, users as users_t};
use crate::db::{self, Db, DbConn};
use crate::error::ApiError;
use crate::ledger::Action;
use crate::state::SharedState;
use crate::time;
use crate::validate::{self, Fields};
use medvault_types::input;

/// One `doctor_profiles` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = doctor_profiles)]
pub struct DoctorProfileRow {
    /// The doctor's user id.
    pub user_id: String,
    /// Full name.
    pub full_name: String,
    /// Specialty.
    pub specialty: String,
    /// Licence number.
    pub licence_number: String,
    /// Phone.
    pub phone: Option<String>,
}

/// Validated profile changes.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = doctor_profiles)]
pub struct DoctorChanges {
    /// New name.
    pub full_name: Option<String>,
    /// New specialty.
    pub specialty: Option<String>,
    /// New licence number.
    pub licence_number: Option<String>,
    /// New phone or clear.
    pub phone: Option<Option<String>>,
}

impl DoctorChanges {
    fn is_empty(&self) -> bool {
        self.full_name.is_none()
            && self.specialty.is_none()
            && self.licence_number.is_none()
            && self.phone.is_none()
    }
}

/// Validates a create request: the email and the profile (user id filled in later).
fn validate_new(req: CreateDoctor) -> Result<(String, DoctorProfileRow), ApiError> {
    let mut f = Fields::default();
    let email = f.take("email", validate::email(&req.email));
    let profile = DoctorProfileRow {
        user_id: String::new(),
        full_name: f.take("full_name", validate::text(&req.full_name, &input::NAME)),
        specialty: f.take("specialty", validate::text(&req.specialty, &input::NAME)),
        licence_number: f.take(
            "licence_number",
            validate::licence_number(&req.licence_number),
        ),
        phone: f.take("phone", validate::phone(req.phone)),
    };
    f.finish()?;
    Ok((email, profile))
}

/// Validates a PATCH: the new email, if any, and the profile changes.
fn validate_changes(req: UpdateDoctor) -> Result<(Option<String>, DoctorChanges), ApiError> {
    let mut f = Fields::default();
    let email = f.patch("email", req.email, |e| validate::email(&e));
    let changes = DoctorChanges {
        full_name: f.patch("full_name", req.full_name, |v| {
            validate::text(&v, &input::NAME)
        }),
        specialty: f.patch("specialty", req.specialty, |v| {
            validate::text(&v, &input::NAME)
        }),
        licence_number: f.patch("licence_number", req.licence_number, |v| {
            validate::licence_number(&v)
        }),
        phone: f.patch("phone", req.phone, validate::phone),
    };
    f.finish()?;
    Ok((email, changes))
}

fn to_dto(user: &UserRow, profile: DoctorProfileRow) -> Result<Doctor, ApiError> {
    Ok(Doctor {
        id: user.user_id()?,
        email: user.email.clone(),
        full_name: profile.full_name,
        specialty: profile.specialty,
        licence_number: profile.licence_number,
        phone: profile.phone,
        active: user.active,
        must_change_password: user.must_change_password,
        created_at: time::utc(user.created_at),
        updated_at: time::utc(user.updated_at),
    })
}

/// Creates the login and the profile (inside the caller's transaction).
fn create(
    conn: &mut DbConn,
    actor: UserId,
    user: &UserRow,
    mut profile: DoctorProfileRow,
) -> Result<Doctor, ApiError> {
    users::ensure_email_free(conn, &user.email, None)?;
    users::insert(conn, user)?;
    crate::ledger::user_event(conn, Some(actor), Action::UserCreate, &user.id)?;
    profile.user_id.clone_from(&user.id);
    diesel::insert_into(doctor_profiles::table)
        .values(&profile)
        .execute(conn)?;
    to_dto(user, profile)
}

/// The doctor with this id, or 404 (also for ids of other roles).
fn get(conn: &mut DbConn, id: UserId) -> Result<Doctor, ApiError> {
    let (user, profile) = users_t::table
        .inner_join(doctor_profiles::table)
        .filter(users_t::id.eq(id.to_string()))
        .filter(users_t::role.eq(Role::Doctor.as_str()))
        .select((UserRow::as_select(), DoctorProfileRow::as_select()))
        .first::<(UserRow, DoctorProfileRow)>(conn)
        .optional()?
        .ok_or(ApiError::NotFound)?;
    to_dto(&user, profile)
}

/// A page of doctors, newest first, optionally matching name or email.
fn list(conn: &mut DbConn, paging: &Paging) -> Result<Page<Doctor>, ApiError> {
    let query = || {
        let mut q = users_t::table
            .inner_join(doctor_profiles::table)
            .filter(users_t::role.eq(Role::Doctor.as_str()))
            .into_boxed::<Db>();
        if let Some(p) = &paging.pattern {
            q = q.filter(
                lower(doctor_profiles::full_name)
                    .like(p.clone())
                    .escape('\\')
                    .or(users_t::email.like(p.clone()).escape('\\')),
            );
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<(UserRow, DoctorProfileRow)> = query()
        .select((UserRow::as_select(), DoctorProfileRow::as_select()))
        .order((users_t::created_at.desc(), users_t::id))
        .limit(paging.limit())
        .offset(paging.offset())
        .load(conn)?;
    Ok(paging.page(
        rows.into_iter()
            .map(|(u, p)| to_dto(&u, p))
            .collect::<Result<_, _>>()?,
        total,
    ))
}

/// Applies validated changes (inside the caller's transaction); 404 when `id` is not a
/// doctor.
fn update(
    conn: &mut DbConn,
    actor: UserId,
    id: UserId,
    email: Option<&str>,
    changes: &DoctorChanges,
) -> Result<(Doctor, Option<users::EmailChange>), ApiError> {
    get(conn, id)?;
    let change = users::update_account(conn, actor, id, email, |conn, id_text| {
        if !changes.is_empty() {
            diesel::update(doctor_profiles::table.find(id_text))
                .set(changes)
                .execute(conn)?;
        }
        Ok(())
    })?;
    Ok((get(conn, id)?, change))
}

/// A page of doctors, newest first; `q` searches name and email.
pub async fn list_page(state: &SharedState, query: &ListQuery) -> Result<Page<Doctor>, ApiError> {
    let paging = Paging::from_query(query)?;
    db::run(&state.pool, move |conn| list(conn, &paging)).await
}

/// Creates a doctor and their login; the temporary password goes to their e-mail, or (no
/// SMTP) is in the answer, once.
pub async fn create_account(
    state: &SharedState,
    admin: UserId,
    req: CreateDoctor,
) -> Result<CreatedDoctor, ApiError> {
    let (email, profile) = validate_new(req)?;
    let (user, password) = users::new_login(state, email, Role::Doctor).await?;
    let doctor = db::write(&state.pool, move |conn| create(conn, admin, &user, profile)).await?;
    tracing::info!(doctor = %doctor.id, "doctor created");
    Ok(CreatedDoctor {
        temporary_password: users::hand_over(state, &doctor.email, &password),
        doctor,
    })
}

/// One doctor (404 for ids of other roles).
pub async fn show(state: &SharedState, id: UserId) -> Result<Doctor, ApiError> {
    db::run(&state.pool, move |conn| get(conn, id)).await
}

/// Changes a doctor's e-mail or profile; absent fields stay.
pub async fn change(
    state: &SharedState,
    admin: UserId,
    id: UserId,
    req: UpdateDoctor,
) -> Result<Doctor, ApiError> {
    let (email, changes) = validate_changes(req)?;
    let (doctor, change) = db::write(&state.pool, move |conn| {
        update(conn, admin, id, email.as_deref(), &changes)
    })
    .await?;
    users::notify_email_change(state, change.as_ref());
    Ok(doctor)
}
