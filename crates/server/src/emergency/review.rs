//! The administrators' review of emergency accesses: each is reviewed once, justified or
//! not, with a comment the patient sees; ledgered as `emergency.review`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use medvault_engine::KeyRing;
use medvault_types::{EmergencyAccess, EmergencyAccessId, ReviewEmergencyAccess, UserId};
use serde_json::json;

use super::views;
use crate::db::ids::StoredId;
use crate::db::schema::emergency_accesses;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::ledger::{self, Action, NewEntry};
use crate::state::SharedState;
use crate::validate::{self, Fields};
use medvault_types::input;

/// Records `admin`'s verdict on one emergency access: 404 when unknown, 409 when already
/// reviewed (also when two reviews race: the update only takes an unreviewed row).
fn review(
    conn: &mut DbConn,
    keyring: &KeyRing,
    admin: UserId,
    id: EmergencyAccessId,
    req: &ReviewEmergencyAccess,
    now: NaiveDateTime,
) -> Result<EmergencyAccess, ApiError> {
    let mut f = Fields::default();
    let comment = f.take(
        "comment",
        validate::text(&req.comment, &input::REVIEW_COMMENT),
    );
    f.finish()?;
    let row = views::load(conn, id)?.ok_or(ApiError::NotFound)?;
    let taken = diesel::update(
        emergency_accesses::table
            .find(&row.id)
            .filter(emergency_accesses::reviewed_at.is_null()),
    )
    .set((
        emergency_accesses::reviewed_by.eq(admin.to_string()),
        emergency_accesses::reviewed_at.eq(now),
        emergency_accesses::review_outcome.eq(req.outcome.as_str()),
        emergency_accesses::review_comment.eq(&comment),
    ))
    .execute(conn)?;
    if taken == 0 {
        return Err(ApiError::Conflict(
            "this emergency access is already reviewed",
        ));
    }
    ledger::append(
        conn,
        &NewEntry::new(
            Some(admin),
            Action::EmergencyReview,
            format!("emergency:{id}"),
        )
        .patient(UserId::from_stored(&row.patient_id)?)
        .payload(json!({
            "emergency_id": row.id,
            "doctor_id": row.doctor_id,
            "outcome": req.outcome.as_str(),
        })),
    )?;
    let fresh = views::load(conn, id)?.ok_or(ApiError::NotFound)?;
    Ok(views::to_dtos(conn, keyring, vec![fresh], now)?.remove(0))
}

/// An administrator reviews an emergency access.
pub async fn record_review(
    state: &SharedState,
    admin: UserId,
    id: EmergencyAccessId,
    req: ReviewEmergencyAccess,
) -> Result<EmergencyAccess, ApiError> {
    let st = SharedState::clone(state);
    let now = state.clock.now();
    db::write(&state.pool, move |conn| {
        review(conn, st.engine.keys(), admin, id, &req, now)
    })
    .await
}
