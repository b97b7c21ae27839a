//! Grants: what a doctor may download, for how long and how often; revocable by the patient
//! (or given up by the doctor) at any time.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use medvault_types::{Grant, GrantId, ListQuery, Page, RecordId, RequestId, UserId};
use serde_json::json;

use crate::auth::AuthUser;
use crate::db::ids::FreshId;
use crate::db::ids::StoredId;
use crate::db::paging::Paging;
use crate::db::schema::grants;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::ledger::Action;
use crate::ledger::{self, NewEntry};
use crate::read_models::names;
use crate::state::SharedState;
use crate::time;
use medvault_types::Role;

/// A stored grant.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = grants)]
pub struct GrantRow {
    /// Grant id.
    pub id: String,
    /// Originating request.
    pub request_id: String,
    /// Doctor allowed.
    pub doctor_id: String,
    /// Patient concerned.
    pub patient_id: String,
    /// One record or all.
    pub record_id: Option<String>,
    /// Created (UTC).
    pub created_at: NaiveDateTime,
    /// Expires (UTC).
    pub expires_at: NaiveDateTime,
    /// Download limit.
    pub max_downloads: i32,
    /// Downloads used.
    pub downloads_used: i32,
    /// Revoked (UTC).
    pub revoked_at: Option<NaiveDateTime>,
    /// Who revoked.
    pub revoked_by: Option<String>,
    /// Whether the patient's visit notes are covered too.
    pub include_notes: bool,
}

impl GrantRow {
    /// Live at `now`: not revoked, not expired, downloads left.
    pub fn is_live(&self, now: NaiveDateTime) -> bool {
        self.revoked_at.is_none()
            && self.expires_at > now
            && self.downloads_used < self.max_downloads
    }
}

/// What a grant covers and for how long, from the request the patient consented to.
#[derive(Debug, Clone)]
pub struct NewGrant<'a> {
    /// Originating request.
    pub request_id: &'a str,
    /// Doctor allowed.
    pub doctor_id: &'a str,
    /// Patient concerned.
    pub patient_id: &'a str,
    /// One record, or all.
    pub record_id: Option<&'a str>,
    /// Whether visit notes are covered.
    pub include_notes: bool,
    /// Lifetime from `now`.
    pub duration_hours: u32,
    /// Download limit.
    pub max_downloads: u32,
}

/// Inserts a grant for an accepted request, starting `now`. The caller writes the ledger entry
/// (it knows how consent was given).
pub fn insert(
    conn: &mut DbConn,
    new: &NewGrant<'_>,
    now: NaiveDateTime,
) -> Result<GrantRow, ApiError> {
    let row = GrantRow {
        id: GrantId::fresh().to_string(),
        request_id: new.request_id.to_owned(),
        doctor_id: new.doctor_id.to_owned(),
        patient_id: new.patient_id.to_owned(),
        record_id: new.record_id.map(str::to_owned),
        created_at: now,
        expires_at: now + Duration::hours(i64::from(new.duration_hours)),
        max_downloads: i32::try_from(new.max_downloads).unwrap_or(i32::MAX),
        downloads_used: 0,
        revoked_at: None,
        revoked_by: None,
        include_notes: new.include_notes,
    };
    diesel::insert_into(grants::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// The grants of `doctor` for `patient` that are live at `now`, soonest expiry first.
pub fn live_for(
    conn: &mut DbConn,
    doctor: UserId,
    patient: UserId,
    now: NaiveDateTime,
) -> Result<Vec<GrantRow>, ApiError> {
    let rows: Vec<GrantRow> = grants::table
        .filter(grants::doctor_id.eq(doctor.to_string()))
        .filter(grants::patient_id.eq(patient.to_string()))
        .filter(grants::revoked_at.is_null())
        .filter(grants::expires_at.gt(now))
        .select(GrantRow::as_select())
        .order(grants::expires_at.asc())
        .load(conn)?;
    Ok(rows.into_iter().filter(|g| g.is_live(now)).collect())
}

/// Ends every unrevoked grant of `doctor` for `patient` (the doctor left the patient's care),
/// one `consent.revoke` entry each, by `actor`.
pub fn end_all(
    conn: &mut DbConn,
    actor: UserId,
    doctor: UserId,
    patient: UserId,
    now: NaiveDateTime,
) -> Result<usize, ApiError> {
    let open: Vec<GrantRow> = grants::table
        .filter(grants::doctor_id.eq(doctor.to_string()))
        .filter(grants::patient_id.eq(patient.to_string()))
        .filter(grants::revoked_at.is_null())
        .filter(grants::expires_at.gt(now))
        .select(GrantRow::as_select())
        .load(conn)?;
    for g in &open {
        mark_revoked(conn, g, actor, "care_ended", now)?;
    }
    Ok(open.len())
}

/// Revokes one grant and writes its `consent.revoke` entry; `by` says who or why.
fn mark_revoked(
    conn: &mut DbConn,
    row: &GrantRow,
    actor: UserId,
    by: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::update(
        grants::table
            .find(&row.id)
            .filter(grants::revoked_at.is_null()),
    )
    .set((
        grants::revoked_at.eq(now),
        grants::revoked_by.eq(actor.to_string()),
    ))
    .execute(conn)?;
    ledger::append(
        conn,
        &NewEntry::new(
            Some(actor),
            Action::ConsentRevoke,
            format!("grant:{}", row.id),
        )
        .patient(UserId::from_stored(&row.patient_id)?)
        .payload(json!({
            "grant_id": row.id,
            "request_id": row.request_id,
            "doctor_id": row.doctor_id,
            "record_id": row.record_id,
            "by": by,
        })),
    )?;
    Ok(())
}

/// API shapes for rows, with names resolved in one query per kind.
pub fn to_dtos(
    conn: &mut DbConn,
    rows: Vec<GrantRow>,
    now: NaiveDateTime,
) -> Result<Vec<Grant>, ApiError> {
    let doctor_ids: Vec<String> = rows.iter().map(|r| r.doctor_id.clone()).collect();
    let patient_ids: Vec<String> = rows.iter().map(|r| r.patient_id.clone()).collect();
    let record_ids: Vec<String> = rows.iter().filter_map(|r| r.record_id.clone()).collect();
    let doctors = names::doctors(conn, &doctor_ids)?;
    let patients = names::patients(conn, &patient_ids)?;
    let titles = names::record_titles(conn, &record_ids)?;
    rows.into_iter()
        .map(|r| {
            Ok(Grant {
                id: GrantId::from_stored(&r.id)?,
                request_id: RequestId::from_stored(&r.request_id)?,
                doctor_id: UserId::from_stored(&r.doctor_id)?,
                doctor_name: doctors.get(&r.doctor_id).cloned().unwrap_or_default(),
                patient_id: UserId::from_stored(&r.patient_id)?,
                patient_name: patients.get(&r.patient_id).cloned().unwrap_or_default(),
                record_id: r
                    .record_id
                    .as_deref()
                    .map(RecordId::from_stored)
                    .transpose()?,
                record_title: r.record_id.as_ref().and_then(|id| titles.get(id).cloned()),
                include_notes: r.include_notes,
                created_at: time::utc(r.created_at),
                expires_at: time::utc(r.expires_at),
                max_downloads: u32::try_from(r.max_downloads).unwrap_or(0),
                downloads_used: u32::try_from(r.downloads_used).unwrap_or(0),
                revoked_at: r.revoked_at.map(time::utc),
                active: r.is_live(now),
            })
        })
        .collect()
}

/// The caller's grants, newest first: a doctor's own, or those a patient gave. Admins see none
/// here (they read the ledger).
fn list(
    conn: &mut DbConn,
    user: &AuthUser,
    paging: &Paging,
    now: NaiveDateTime,
) -> Result<Page<Grant>, ApiError> {
    let me = user.id.to_string();
    let base = || {
        let q = grants::table.into_boxed();
        match user.role {
            Role::Doctor => q.filter(grants::doctor_id.eq(me.clone())),
            _ => q.filter(grants::patient_id.eq(me.clone())),
        }
    };
    let total: i64 = base().count().get_result(conn)?;
    let rows: Vec<GrantRow> = base()
        .select(GrantRow::as_select())
        .order(grants::created_at.desc())
        .offset(paging.offset())
        .limit(paging.limit())
        .load(conn)?;
    Ok(paging.page(to_dtos(conn, rows, now)?, total))
}

/// Revokes (patient) or gives up (doctor) a grant the caller is party to; anyone else gets
/// 404. Revoking twice is harmless and writes one ledger entry only.
fn revoke(
    conn: &mut DbConn,
    user: &AuthUser,
    id: GrantId,
    now: NaiveDateTime,
) -> Result<Grant, ApiError> {
    let me = user.id.to_string();
    let row: GrantRow = grants::table
        .find(id.to_string())
        .select(GrantRow::as_select())
        .first(conn)
        .optional()?
        .filter(|g| match user.role {
            Role::Doctor => g.doctor_id == me,
            Role::Patient => g.patient_id == me,
            Role::Admin => false,
        })
        .ok_or(ApiError::NotFound)?;
    if row.revoked_at.is_none() {
        let by = if user.role == Role::Doctor {
            "doctor"
        } else {
            "patient"
        };
        mark_revoked(conn, &row, user.id, by, now)?;
    }
    let fresh: GrantRow = grants::table
        .find(&row.id)
        .select(GrantRow::as_select())
        .first(conn)?;
    Ok(to_dtos(conn, vec![fresh], now)?.remove(0))
}

/// Consumes one download of a live grant that lets `doctor` read `record_id` of `patient_id`.
/// Returns the grant's id, or `None` when no live grant covers it. The conditional update
/// makes concurrent downloads unable to exceed the limit.
pub fn consume_download(
    conn: &mut DbConn,
    doctor: UserId,
    patient: UserId,
    record: RecordId,
    now: NaiveDateTime,
) -> Result<Option<GrantId>, ApiError> {
    let candidates: Vec<GrantRow> = grants::table
        .filter(grants::doctor_id.eq(doctor.to_string()))
        .filter(grants::patient_id.eq(patient.to_string()))
        .filter(
            grants::record_id
                .eq(record.to_string())
                .or(grants::record_id.is_null()),
        )
        .filter(grants::revoked_at.is_null())
        .filter(grants::expires_at.gt(now))
        .select(GrantRow::as_select())
        .order(grants::expires_at.asc())
        .load(conn)?;
    for g in candidates.into_iter().filter(|g| g.is_live(now)) {
        let updated = diesel::update(
            grants::table
                .filter(grants::id.eq(&g.id))
                .filter(grants::downloads_used.lt(grants::max_downloads))
                .filter(grants::revoked_at.is_null()),
        )
        .set(grants::downloads_used.eq(grants::downloads_used + 1))
        .execute(conn)?;
        if updated == 1 {
            return Ok(Some(GrantId::from_stored(&g.id)?));
        }
    }
    Ok(None)
}

/// The caller's grants, newest first: a doctor's own, or those a patient gave.
pub async fn list_for(
    state: &SharedState,
    user: AuthUser,
    query: &ListQuery,
) -> Result<Page<Grant>, ApiError> {
    let paging = Paging::from_query(query)?;
    let now = state.clock.now();
    db::run(&state.pool, move |conn| list(conn, &user, &paging, now)).await
}

/// Revokes (patient) or gives up (doctor) a grant; takes effect on the next download.
pub async fn revoke_as(
    state: &SharedState,
    user: AuthUser,
    id: GrantId,
) -> Result<Grant, ApiError> {
    let now = state.clock.now();
    db::write(&state.pool, move |conn| revoke(conn, &user, id, now)).await
}
