//! An emergency access from opening to end: open (after a fresh password, within the daily
//! limit), the live session [`crate::access`] reads, the doctor's early end, and the expiry
//! sweep that closes and ledgers sessions past their end.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use medvault_engine::KeyRing;
use medvault_types::{EmergencyAccess, EmergencyAccessId, OpenEmergencyAccess, UserId};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::EmergencyConfig;
use super::views;
use crate::accounts::patients::{self, PatientRef};
use crate::accounts::users;
use crate::auth::{AuthUser, recent};
use crate::db::ids::{FreshId, StoredId};
use crate::db::schema::{emergency_accesses, users as users_t};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::ledger::{self, Action, NewEntry};
use crate::patient_key;
use crate::state::SharedState;
use crate::time;
use crate::validate::{self, Fields};
use medvault_types::input;

/// Field name binding the sealed justification to its row.
pub const JUSTIFICATION_FIELD: &str = "emergency_justification";

/// Who ended an emergency access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    /// The doctor ended it early.
    Doctor,
    /// Its time ran out.
    Expiry,
}

impl EndedBy {
    /// As stored and ledgered.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Doctor => "doctor",
            Self::Expiry => "expiry",
        }
    }
}

/// A stored emergency access.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = emergency_accesses)]
pub struct EmergencyRow {
    /// Id.
    pub id: String,
    /// The doctor.
    pub doctor_id: String,
    /// The patient.
    pub patient_id: String,
    /// Reason code.
    pub reason: String,
    /// The justification, sealed with the patient key.
    pub justification_enc: Vec<u8>,
    /// Opened (UTC).
    pub started_at: NaiveDateTime,
    /// Ends by itself (UTC).
    pub expires_at: NaiveDateTime,
    /// Ended (UTC).
    pub ended_at: Option<NaiveDateTime>,
    /// [`EndedBy`] wire name.
    pub ended_by: Option<String>,
    /// Reviewing administrator.
    pub reviewed_by: Option<String>,
    /// Reviewed (UTC).
    pub reviewed_at: Option<NaiveDateTime>,
    /// Review outcome wire name.
    pub review_outcome: Option<String>,
    /// Reviewer's comment.
    pub review_comment: Option<String>,
}

impl EmergencyRow {
    /// Gives access at `now`: not ended, not past its end.
    pub fn is_live(&self, now: NaiveDateTime) -> bool {
        self.ended_at.is_none() && self.expires_at > now
    }
}

/// What the server does after an opening commits: tell the patient.
struct Opened {
    access: EmergencyAccess,
    patient_email: Option<String>,
}

/// The live emergency access `doctor` holds for `patient` at `now`, if any.
pub fn live_for(
    conn: &mut DbConn,
    doctor: UserId,
    patient: UserId,
    now: NaiveDateTime,
) -> Result<Option<EmergencyAccessId>, ApiError> {
    emergency_accesses::table
        .filter(emergency_accesses::doctor_id.eq(doctor.to_string()))
        .filter(emergency_accesses::patient_id.eq(patient.to_string()))
        .filter(emergency_accesses::ended_at.is_null())
        .filter(emergency_accesses::expires_at.gt(now))
        .select(emergency_accesses::id)
        .order(emergency_accesses::expires_at.desc())
        .first::<String>(conn)
        .optional()?
        .map(|id| EmergencyAccessId::from_stored(&id))
        .transpose()
}

/// Marks one open row ended at `at` and writes its `emergency.end` entry (by `actor`, or the
/// system for an expiry). A row someone else already closed is left alone.
fn close(
    conn: &mut DbConn,
    row: &EmergencyRow,
    actor: Option<UserId>,
    by: EndedBy,
    at: NaiveDateTime,
) -> Result<(), ApiError> {
    let closed = diesel::update(
        emergency_accesses::table
            .find(&row.id)
            .filter(emergency_accesses::ended_at.is_null()),
    )
    .set((
        emergency_accesses::ended_at.eq(at),
        emergency_accesses::ended_by.eq(by.as_str()),
    ))
    .execute(conn)?;
    if closed == 1 {
        ledger::append(
            conn,
            &NewEntry::new(actor, Action::EmergencyEnd, format!("emergency:{}", row.id))
                .patient(UserId::from_stored(&row.patient_id)?)
                .payload(json!({
                    "emergency_id": row.id,
                    "doctor_id": row.doctor_id,
                    "by": by.as_str(),
                    "ended_at": time::utc(at).to_rfc3339(),
                })),
        )?;
    }
    Ok(())
}

/// Closes every emergency access whose time ran out by `now`, each at its own end time, with
/// its `emergency.end` entry. Run before emergency accesses are listed or opened, and by the
/// background sweep.
pub fn close_expired(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, ApiError> {
    let due: Vec<EmergencyRow> = emergency_accesses::table
        .filter(emergency_accesses::ended_at.is_null())
        .filter(emergency_accesses::expires_at.le(now))
        .select(EmergencyRow::as_select())
        .load(conn)?;
    for row in &due {
        close(conn, row, None, EndedBy::Expiry, row.expires_at)?;
    }
    Ok(due.len())
}

/// The checked fields of an opening: the justification, how long, and who.
fn validate<'a>(
    cfg: &EmergencyConfig,
    req: &'a OpenEmergencyAccess,
) -> Result<(String, Duration, PatientRef<'a>), ApiError> {
    let mut f = Fields::default();
    let justification = f.take(
        "justification",
        validate::text(&req.justification, &input::JUSTIFICATION),
    );
    let minutes = req.duration_minutes.unwrap_or(cfg.default_minutes);
    f.take(
        "duration_minutes",
        if (1..=cfg.max_minutes).contains(&minutes) {
            Ok(())
        } else {
            Err(format!("must be between 1 and {}", cfg.max_minutes))
        },
    );
    let by = PatientRef::named(&mut f, req.patient_id, req.mrn.as_deref());
    f.finish()?;
    let by = by.ok_or_else(|| ApiError::internal("a named patient after validation"))?;
    Ok((justification, Duration::minutes(i64::from(minutes)), by))
}

/// Refuses with 429 when `doctor` opened `per_day` emergency accesses in the 24 hours before
/// `now` (the caller holds the doctor's row lock). `retry_after`: until the oldest leaves the
/// window.
fn check_daily_limit(
    conn: &mut DbConn,
    doctor: UserId,
    per_day: u32,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let since = now - Duration::hours(24);
    let recent: Vec<NaiveDateTime> = emergency_accesses::table
        .filter(emergency_accesses::doctor_id.eq(doctor.to_string()))
        .filter(emergency_accesses::started_at.gt(since))
        .select(emergency_accesses::started_at)
        .order(emergency_accesses::started_at.asc())
        .load(conn)?;
    if recent.len() < usize::try_from(per_day).unwrap_or(usize::MAX) {
        return Ok(());
    }
    let oldest = recent.first().copied().unwrap_or(now);
    let retry_after = (oldest + Duration::hours(24) - now).num_seconds().max(1);
    Err(ApiError::TooManyAttempts {
        retry_after: u64::try_from(retry_after).unwrap_or(1),
    })
}

/// Opens an emergency access (the use case's one transaction).
fn open(
    conn: &mut DbConn,
    cfg: &EmergencyConfig,
    keyring: &KeyRing,
    doctor: &AuthUser,
    recent_secs: u64,
    req: &OpenEmergencyAccess,
    now: NaiveDateTime,
) -> Result<Opened, ApiError> {
    if !cfg.enabled {
        return Err(ApiError::EmergencyDisabled);
    }
    recent::require(conn, doctor.session_id, now, recent_secs)?;
    let (justification, duration, by) = validate(cfg, req)?;
    let patient = patients::active_patient(conn, by)?;
    // Serialises this doctor's openings (a row lock on PostgreSQL; SQLite writers are already
    // serial), so the daily count below cannot be outrun by concurrent requests.
    diesel::update(users_t::table.find(doctor.id.to_string()))
        .set(users_t::id.eq(users_t::id))
        .execute(conn)?;
    close_expired(conn, now)?;
    if live_for(conn, doctor.id, patient, now)?.is_some() {
        return Err(ApiError::Conflict(
            "an emergency access to this patient is already open",
        ));
    }
    check_daily_limit(conn, doctor.id, cfg.per_doctor_per_day, now)?;
    let dek = patient_key::get_or_create(conn, keyring, patient)?;
    let id = EmergencyAccessId::fresh();
    let row = EmergencyRow {
        id: id.to_string(),
        doctor_id: doctor.id.to_string(),
        patient_id: patient.to_string(),
        reason: req.reason.as_str().to_owned(),
        justification_enc: patient_key::seal(
            &dek,
            JUSTIFICATION_FIELD,
            id.as_uuid(),
            justification.as_bytes(),
        ),
        started_at: now,
        expires_at: now + duration,
        ended_at: None,
        ended_by: None,
        reviewed_by: None,
        reviewed_at: None,
        review_outcome: None,
        review_comment: None,
    };
    diesel::insert_into(emergency_accesses::table)
        .values(&row)
        .execute(conn)?;
    ledger::append(
        conn,
        &NewEntry::new(
            Some(doctor.id),
            Action::EmergencyStart,
            format!("emergency:{id}"),
        )
        .patient(patient)
        .payload(json!({
            "emergency_id": row.id,
            "doctor_id": row.doctor_id,
            "reason": row.reason,
            "justification_sha256": hex::encode(Sha256::digest(justification.as_bytes())),
            "expires_at": time::utc(row.expires_at).to_rfc3339(),
            "by_mrn": req.patient_id.is_none(),
        })),
    )?;
    let patient_email = users::find(conn, patient)?.map(|u| u.email);
    let access = views::to_dtos(conn, keyring, vec![row], now)?.remove(0);
    Ok(Opened {
        access,
        patient_email,
    })
}

/// The doctor ends their own emergency access early (idempotent); anyone else: 404.
fn end(
    conn: &mut DbConn,
    keyring: &KeyRing,
    doctor: UserId,
    id: EmergencyAccessId,
    now: NaiveDateTime,
) -> Result<EmergencyAccess, ApiError> {
    let row = views::load(conn, id)?
        .filter(|r| r.doctor_id == doctor.to_string())
        .ok_or(ApiError::NotFound)?;
    if row.is_live(now) {
        close(conn, &row, Some(doctor), EndedBy::Doctor, now)?;
    } else if row.ended_at.is_none() {
        close(conn, &row, None, EndedBy::Expiry, row.expires_at)?;
    }
    let fresh = views::load(conn, id)?.ok_or(ApiError::NotFound)?;
    Ok(views::to_dtos(conn, keyring, vec![fresh], now)?.remove(0))
}

/// A doctor opens emergency access to a patient; the patient is told at once (their list
/// in the app, and an e-mail after the commit when SMTP is configured).
pub async fn open_access(
    state: &SharedState,
    doctor: AuthUser,
    req: OpenEmergencyAccess,
) -> Result<EmergencyAccess, ApiError> {
    let st = SharedState::clone(state);
    let now = state.clock.now();
    let opened = db::write(&state.pool, move |conn| {
        open(
            conn,
            &st.config.emergency,
            st.engine.keys(),
            &doctor,
            st.config.auth.recent_auth_secs,
            &req,
            now,
        )
    })
    .await?;
    if let (Some(mailer), Some(email)) = (&state.mailer, &opened.patient_email) {
        mailer.send_emergency_notice(
            email,
            &opened.access.doctor_name,
            opened.access.reason.label(),
            opened.access.expires_at,
        );
    }
    Ok(opened.access)
}

/// The doctor ends their emergency access now.
pub async fn end_access(
    state: &SharedState,
    doctor: UserId,
    id: EmergencyAccessId,
) -> Result<EmergencyAccess, ApiError> {
    let st = SharedState::clone(state);
    let now = state.clock.now();
    db::write(&state.pool, move |conn| {
        end(conn, st.engine.keys(), doctor, id, now)
    })
    .await
}

/// Closes expired emergency accesses every `every` (their `emergency.end` entries appear
/// within that time even when nobody looks).
pub async fn sweep_forever(state: SharedState, every: std::time::Duration) {
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        let now = state.clock.now();
        match db::write(&state.pool, move |conn| close_expired(conn, now)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(closed = n, "expired emergency accesses closed"),
            Err(e) => tracing::warn!(error = %e, "emergency expiry sweep failed"),
        }
    }
}
