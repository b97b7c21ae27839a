//! The `users` table: identity, role, password hash, flags.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use medvault_types::{Role, User, UserId, UserSummary};
use zeroize::Zeroizing;

use crate::db::DbConn;
use crate::db::ids::FreshId;
use crate::db::ids::StoredId;
use crate::db::schema::users;
use crate::error::ApiError;
use crate::state::AppState;
use crate::time;

/// How long consent codes are not e-mailed to an address staff set, unless the owner confirms.
pub const STAFF_EMAIL_HOLD: chrono::Duration = chrono::Duration::hours(24);

/// An e-mail address staff changed: the old address is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailChange {
    /// The address before the change (it gets the notice).
    pub old: String,
    /// The new address.
    pub new: String,
}

/// How long a staff-issued temporary password works (it also works only once).
pub const TEMPORARY_PASSWORD_TTL: chrono::Duration = chrono::Duration::hours(24);

/// One `users` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    /// UUID text.
    pub id: String,
    /// Lower-case email.
    pub email: String,
    /// Role name.
    pub role: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// May sign in.
    pub active: bool,
    /// Temporary password in use.
    pub must_change_password: bool,
    /// UTC.
    pub created_at: NaiveDateTime,
    /// UTC.
    pub updated_at: NaiveDateTime,
    /// When the temporary password stops working (UTC); `None`: no expiry.
    pub temporary_expires_at: Option<NaiveDateTime>,
    /// The temporary password was used to sign in once.
    pub temporary_used: bool,
    /// When the owner first set their own password (UTC).
    pub activated_at: Option<NaiveDateTime>,
    /// When staff last changed the e-mail, until the owner confirms it (UTC).
    pub email_changed_by_staff_at: Option<NaiveDateTime>,
}

impl UserRow {
    /// A new active row. A staff-issued temporary password (`must_change`) expires after
    /// [`TEMPORARY_PASSWORD_TTL`]; [`Self::without_expiry`] lifts that for the bootstrap admin.
    pub fn new(email: String, role: Role, password_hash: String, must_change: bool) -> Self {
        let now = time::now();
        Self {
            temporary_expires_at: must_change.then(|| now + TEMPORARY_PASSWORD_TTL),
            temporary_used: false,
            activated_at: (!must_change).then_some(now),
            email_changed_by_staff_at: None,
            id: UserId::fresh().to_string(),
            email,
            role: role.as_str().into(),
            password_hash,
            active: true,
            must_change_password: must_change,
            created_at: now,
            updated_at: now,
        }
    }

    /// The same row whose temporary password never expires (the bootstrap admin's, printed
    /// once to the operator: expiring it would lock the only admin out).
    #[must_use]
    pub fn without_expiry(self) -> Self {
        Self {
            temporary_expires_at: None,
            ..self
        }
    }

    /// Whether a temporary password in use may still sign in at `now`: not used before and
    /// not expired. Accounts with their own password always may.
    pub fn temporary_still_valid(&self, now: NaiveDateTime) -> bool {
        !self.must_change_password
            || (!self.temporary_used && self.temporary_expires_at.is_none_or(|end| now < end))
    }

    /// The typed id (a malformed stored id is a server bug: 500).
    pub fn user_id(&self) -> Result<UserId, ApiError> {
        UserId::from_stored(&self.id)
    }

    /// The role (an unknown stored role is a server bug: 500).
    pub fn role(&self) -> Result<Role, ApiError> {
        Role::parse(&self.role).ok_or_else(|| ApiError::internal("unknown role in database"))
    }

    /// As the API shows it.
    pub fn to_dto(&self) -> Result<User, ApiError> {
        Ok(User {
            id: self.user_id()?,
            email: self.email.clone(),
            role: self.role()?,
            active: self.active,
            must_change_password: self.must_change_password,
            activated_at: self.activated_at.map(time::utc),
            email_changed_by_staff_at: self.email_changed_by_staff_at.map(time::utc),
            created_at: time::utc(self.created_at),
            updated_at: time::utc(self.updated_at),
        })
    }

    /// The short form returned at sign-in; `mfa_setup_required` as the caller found it
    /// ([`crate::auth::mfa::setup_required`]).
    pub fn summary(&self, mfa_setup_required: bool) -> Result<UserSummary, ApiError> {
        Ok(UserSummary {
            id: self.user_id()?,
            email: self.email.clone(),
            role: self.role()?,
            must_change_password: self.must_change_password,
            mfa_setup_required,
        })
    }
}

/// The user with this (normalised) email, if any.
pub fn find_by_email(conn: &mut DbConn, email: &str) -> Result<Option<UserRow>, ApiError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// The user with this id, if any.
pub fn find(conn: &mut DbConn, id: UserId) -> Result<Option<UserRow>, ApiError> {
    Ok(users::table
        .find(id.to_string())
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// The user with this id and role, or 404.
pub fn get_with_role(conn: &mut DbConn, id: UserId, role: Role) -> Result<UserRow, ApiError> {
    find(conn, id)?
        .filter(|u| u.role == role.as_str())
        .ok_or(ApiError::NotFound)
}

/// 409 when `email` belongs to a user other than `except`.
pub fn ensure_email_free(
    conn: &mut DbConn,
    email: &str,
    except: Option<&str>,
) -> Result<(), ApiError> {
    match find_by_email(conn, email)? {
        Some(u) if Some(u.id.as_str()) != except => Err(ApiError::Conflict("email already in use")),
        _ => Ok(()),
    }
}

/// Inserts a user row (the caller checked the email is free; a race still yields 409).
pub fn insert(conn: &mut DbConn, row: &UserRow) -> Result<(), ApiError> {
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict(_) => ApiError::Conflict("email already in use"),
            other => other,
        })?;
    Ok(())
}

/// Changes the email and bumps `updated_at`.
pub fn set_email(conn: &mut DbConn, id: &str, email: &str) -> Result<(), ApiError> {
    ensure_email_free(conn, email, Some(id))?;
    diesel::update(users::table.find(id))
        .set((users::email.eq(email), users::updated_at.eq(time::now())))
        .execute(conn)?;
    Ok(())
}

/// Bumps `updated_at` after a profile change.
pub fn touch(conn: &mut DbConn, id: &str) -> Result<(), ApiError> {
    diesel::update(users::table.find(id))
        .set(users::updated_at.eq(time::now()))
        .execute(conn)?;
    Ok(())
}

/// Sets the active flag.
pub fn set_active(conn: &mut DbConn, id: &str, active: bool) -> Result<(), ApiError> {
    diesel::update(users::table.find(id))
        .set((users::active.eq(active), users::updated_at.eq(time::now())))
        .execute(conn)?;
    Ok(())
}

/// Replaces the password hash and sets or clears the must-change flag at `now`. A new
/// temporary password (`must_change`) expires after [`TEMPORARY_PASSWORD_TTL`] and works for one
/// sign-in; the owner's own password (`!must_change`) marks the account activated the first
/// time. Returns whether this call activated the account.
pub fn set_password(
    conn: &mut DbConn,
    id: &str,
    hash: &str,
    must_change: bool,
    now: NaiveDateTime,
) -> Result<bool, ApiError> {
    let expires = must_change.then(|| now + TEMPORARY_PASSWORD_TTL);
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::must_change_password.eq(must_change),
            users::temporary_expires_at.eq(expires),
            users::temporary_used.eq(false),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    if must_change {
        return Ok(false);
    }
    let activated = diesel::update(users::table.find(id).filter(users::activated_at.is_null()))
        .set(users::activated_at.eq(now))
        .execute(conn)?;
    Ok(activated > 0)
}

/// Spends a temporary password: the first sign-in with it succeeds, any later one is refused.
/// Atomic: of two concurrent sign-ins only one marks it (returns whether this call did).
pub fn spend_temporary(conn: &mut DbConn, id: &str) -> Result<bool, ApiError> {
    let n = diesel::update(
        users::table
            .find(id)
            .filter(users::must_change_password.eq(true))
            .filter(users::temporary_used.eq(false)),
    )
    .set(users::temporary_used.eq(true))
    .execute(conn)?;
    Ok(n > 0)
}

/// How many accounts have `role` (active or not).
pub fn count_with_role(conn: &mut DbConn, role: Role) -> Result<u64, ApiError> {
    let n: i64 = users::table
        .filter(users::role.eq(role.as_str()))
        .count()
        .get_result(conn)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A new login row for `email` with a fresh temporary password (returned once, hashed here
/// off the executor).
pub async fn new_login(
    state: &AppState,
    email: String,
    role: Role,
) -> Result<(UserRow, Zeroizing<String>), ApiError> {
    let password = crate::auth::password::temporary_password();
    let hash = state.hasher.hash(password.clone()).await?;
    Ok((UserRow::new(email, role, hash, true), password))
}

/// Hands a new temporary password to its user: by e-mail when SMTP is configured (then staff
/// never see it and the answer carries `None`), else in the answer, shown once to the staff
/// member who will pass it on.
pub fn hand_over(state: &AppState, email: &str, password: &Zeroizing<String>) -> Option<String> {
    match &state.mailer {
        Some(mailer) => {
            mailer.send_temporary_password(email, password);
            None
        }
        None => Some(password.to_string()),
    }
}

/// Records an account change by `actor` and applies it: the e-mail (when given, checked
/// free), then `profile` (the role's own columns), then `updated_at`. Shared by doctors and
/// patients; runs inside the caller's transaction.
pub fn update_account(
    conn: &mut DbConn,
    actor: UserId,
    id: UserId,
    email: Option<&str>,
    profile: impl FnOnce(&mut DbConn, &str) -> Result<(), ApiError>,
) -> Result<Option<EmailChange>, ApiError> {
    let id_text = id.to_string();
    crate::ledger::user_event(
        conn,
        Some(actor),
        crate::ledger::Action::UserUpdate,
        &id_text,
    )?;
    let mut change = None;
    if let Some(email) = email {
        let old = find(conn, id)?.ok_or(ApiError::NotFound)?.email;
        set_email(conn, &id_text, email)?;
        if old != email && actor != id {
            change = Some(staff_changed_email(conn, actor, id, old, email)?);
        }
    }
    profile(conn, &id_text)?;
    touch(conn, &id_text)?;
    Ok(change)
}

/// Records that staff (`actor`) changed `id`'s e-mail: the time (consent codes are held back
/// from the new address until the owner confirms it, at most [`STAFF_EMAIL_HOLD`]) and a
/// `user.email_change` entry under the account (a patient sees it in their access log).
fn staff_changed_email(
    conn: &mut DbConn,
    actor: UserId,
    id: UserId,
    old: String,
    new: &str,
) -> Result<EmailChange, ApiError> {
    let now = time::now();
    diesel::update(users::table.find(id.to_string()))
        .set(users::email_changed_by_staff_at.eq(now))
        .execute(conn)?;
    crate::ledger::append(
        conn,
        &crate::ledger::NewEntry::new(
            Some(actor),
            crate::ledger::Action::UserEmailChange,
            format!("user:{id}"),
        )
        .patient(id)
        .payload(serde_json::json!({ "user_id": id, "by": actor })),
    )?;
    Ok(EmailChange {
        old,
        new: new.to_owned(),
    })
}

/// The owner confirms the e-mail address staff set: consent codes go to it again at once.
/// Ledgered when there was a change to confirm.
pub fn confirm_email(conn: &mut DbConn, id: UserId) -> Result<(), ApiError> {
    let n = diesel::update(
        users::table
            .find(id.to_string())
            .filter(users::email_changed_by_staff_at.is_not_null()),
    )
    .set(users::email_changed_by_staff_at.eq(None::<NaiveDateTime>))
    .execute(conn)?;
    if n > 0 {
        crate::ledger::append(
            conn,
            &crate::ledger::NewEntry::new(
                Some(id),
                crate::ledger::Action::UserEmailConfirm,
                format!("user:{id}"),
            )
            .patient(id)
            .payload(serde_json::json!({ "user_id": id })),
        )?;
    }
    Ok(())
}

/// Tells the old address about a staff change of the e-mail, when SMTP is configured (after
/// the commit).
pub fn notify_email_change(state: &AppState, change: Option<&EmailChange>) {
    if let (Some(mailer), Some(change)) = (&state.mailer, change) {
        mailer.send_email_changed(&change.old, &change.new);
    }
}

/// Whether consent codes may be e-mailed to this account's address at `now`: not while staff
/// changed it less than [`STAFF_EMAIL_HOLD`] ago and the owner has not confirmed it.
pub fn codes_may_be_emailed(row: &UserRow, now: NaiveDateTime) -> bool {
    row.email_changed_by_staff_at
        .is_none_or(|at| now >= at + STAFF_EMAIL_HOLD)
}

/// Whether any active admin exists.
pub fn active_admin_exists(conn: &mut DbConn) -> Result<bool, ApiError> {
    let n: i64 = users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::active.eq(true))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
