//! Emergency accesses as their doctor, their patient and administrators see them: who, which
//! patient, when, the reason and the justification, the review; nothing from the record.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use medvault_engine::KeyRing;
use medvault_types::{
    EmergencyAccess, EmergencyAccessId, EmergencyListQuery, EmergencyReason, EmergencyReview,
    ListQuery, Page, ReviewOutcome, Role, UserId,
};

use super::lifecycle::{self, EmergencyRow, JUSTIFICATION_FIELD};
use crate::auth::AuthUser;
use crate::db::ids::StoredId;
use crate::db::paging::Paging;
use crate::db::schema::emergency_accesses;
use crate::db::{self, Db, DbConn};
use crate::error::ApiError;
use crate::patient_key;
use crate::read_models::names;
use crate::state::SharedState;
use crate::time;

/// One row by id.
pub fn load(conn: &mut DbConn, id: EmergencyAccessId) -> Result<Option<EmergencyRow>, ApiError> {
    Ok(emergency_accesses::table
        .find(id.to_string())
        .select(EmergencyRow::as_select())
        .first(conn)
        .optional()?)
}

/// API shapes for rows: names in one query per kind, justifications opened with each
/// patient's key.
pub fn to_dtos(
    conn: &mut DbConn,
    keyring: &KeyRing,
    rows: Vec<EmergencyRow>,
    now: NaiveDateTime,
) -> Result<Vec<EmergencyAccess>, ApiError> {
    let doctor_ids: Vec<String> = rows.iter().map(|r| r.doctor_id.clone()).collect();
    let patient_ids: Vec<String> = rows.iter().map(|r| r.patient_id.clone()).collect();
    let doctors = names::doctors(conn, &doctor_ids)?;
    let patients = names::patients(conn, &patient_ids)?;
    let mut keys = HashMap::new();
    for id in &patient_ids {
        if !keys.contains_key(id) {
            let dek = patient_key::load(conn, keyring, UserId::from_stored(id)?)?
                .ok_or_else(|| ApiError::internal("emergency access without patient key"))?;
            keys.insert(id.clone(), dek);
        }
    }
    rows.into_iter()
        .map(|r| {
            let id = EmergencyAccessId::from_stored(&r.id)?;
            let justification = patient_key::open_text(
                &keys[&r.patient_id],
                JUSTIFICATION_FIELD,
                id.as_uuid(),
                &r.justification_enc,
            )?;
            let review = match (&r.reviewed_by, r.reviewed_at, &r.review_outcome) {
                (Some(by), Some(at), Some(outcome)) => Some(EmergencyReview {
                    outcome: ReviewOutcome::parse(outcome)
                        .ok_or_else(|| ApiError::internal("unknown review outcome"))?,
                    comment: r.review_comment.clone().unwrap_or_default(),
                    reviewed_by: UserId::from_stored(by)?,
                    reviewed_at: time::utc(at),
                }),
                _ => None,
            };
            Ok(EmergencyAccess {
                id,
                doctor_id: UserId::from_stored(&r.doctor_id)?,
                doctor_name: doctors.get(&r.doctor_id).cloned().unwrap_or_default(),
                patient_id: UserId::from_stored(&r.patient_id)?,
                patient_name: patients.get(&r.patient_id).cloned().unwrap_or_default(),
                reason: EmergencyReason::parse(&r.reason)
                    .ok_or_else(|| ApiError::internal("unknown emergency reason"))?,
                justification,
                active: r.is_live(now),
                started_at: time::utc(r.started_at),
                expires_at: time::utc(r.expires_at),
                ended_at: r.ended_at.map(time::utc),
                review,
            })
        })
        .collect()
}

/// Whether `user` may see `row`: its doctor, its patient, any administrator.
fn may_see(user: &AuthUser, row: &EmergencyRow) -> bool {
    let me = user.id.to_string();
    match user.role {
        Role::Admin => true,
        Role::Doctor => row.doctor_id == me,
        Role::Patient => row.patient_id == me,
    }
}

/// The caller's emergency accesses, newest first: a doctor's own, those about a patient, or
/// all for administrators (only unreviewed ones when asked).
fn list(
    conn: &mut DbConn,
    keyring: &KeyRing,
    user: &AuthUser,
    unreviewed: bool,
    paging: &Paging,
    now: NaiveDateTime,
) -> Result<Page<EmergencyAccess>, ApiError> {
    let me = user.id.to_string();
    let base = || {
        let mut q = emergency_accesses::table.into_boxed::<Db>();
        q = match user.role {
            Role::Doctor => q.filter(emergency_accesses::doctor_id.eq(me.clone())),
            Role::Patient => q.filter(emergency_accesses::patient_id.eq(me.clone())),
            Role::Admin => q,
        };
        if unreviewed {
            q = q.filter(emergency_accesses::reviewed_at.is_null());
        }
        q
    };
    let total: i64 = base().count().get_result(conn)?;
    let rows: Vec<EmergencyRow> = base()
        .select(EmergencyRow::as_select())
        .order((
            emergency_accesses::started_at.desc(),
            emergency_accesses::id.asc(),
        ))
        .offset(paging.offset())
        .limit(paging.limit())
        .load(conn)?;
    Ok(paging.page(to_dtos(conn, keyring, rows, now)?, total))
}

/// Emergency accesses not yet reviewed (the admin overview's count).
pub fn unreviewed_count(conn: &mut DbConn) -> Result<u64, ApiError> {
    let n: i64 = emergency_accesses::table
        .filter(emergency_accesses::reviewed_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The caller's emergency accesses (expired ones closed first, so `active` and the ledger
/// agree).
pub async fn list_for(
    state: &SharedState,
    user: AuthUser,
    query: EmergencyListQuery,
) -> Result<Page<EmergencyAccess>, ApiError> {
    let paging = Paging::from_query(&ListQuery {
        page: query.page,
        per_page: query.per_page,
        q: None,
    })?;
    let unreviewed = query.unreviewed.unwrap_or(false);
    let st = SharedState::clone(state);
    let now = state.clock.now();
    db::write(&state.pool, move |conn| {
        lifecycle::close_expired(conn, now)?;
        list(conn, st.engine.keys(), &user, unreviewed, &paging, now)
    })
    .await
}

/// One emergency access its doctor, its patient or an administrator may see; else 404.
pub async fn show(
    state: &SharedState,
    user: AuthUser,
    id: EmergencyAccessId,
) -> Result<EmergencyAccess, ApiError> {
    let st = SharedState::clone(state);
    let now = state.clock.now();
    db::write(&state.pool, move |conn| {
        lifecycle::close_expired(conn, now)?;
        let row = load(conn, id)?
            .filter(|r| may_see(&user, r))
            .ok_or(ApiError::NotFound)?;
        Ok(to_dtos(conn, st.engine.keys(), vec![row], now)?.remove(0))
    })
    .await
}
