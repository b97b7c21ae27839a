//! Wrong authenticator (TOTP) codes given for a patient's consent.
//!
//! A patient's authenticator code has 6 digits, so guessing one is a matter of attempts. Two
//! limits, both kept in the database (every instance sees them):
//!
//! - **Per (patient, doctor):** after `max_attempts` wrong codes (across requests) that doctor
//!   can no longer use the patient's authenticator codes (423) until the patient lifts the lock
//!   in the app. The request's own 8-digit code and approval in the app keep working.
//! - **Per patient, across doctors:** from the [`DELAY_AFTER`]th wrong code in the last
//!   [`WINDOW`], each further one doubles the wait before the next authenticator code may be
//!   tried for that patient by anyone (1 s, 2 s, 4 s, ... at most [`MAX_DELAY_SECS`]); 429 with
//!   `Retry-After` meanwhile.
//!
//! Neither is a pause a stranger can keep in force: one doctor adds at most `max_attempts`
//! failures before their own lock stops them (so one doctor alone can cause at most a few
//! seconds of delay), failures older than the window are forgotten, the other consent paths are
//! untouched, and the patient can lift everything at once. Each lock and each lift is ledgered
//! under the patient, so it shows in their "Who saw my records". This is consent only: a sign-in
//! second factor is a separate secret and is not affected.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use medvault_types::{ConsentLock, ConsentLocks, UserId};
use serde_json::json;

use crate::db::schema::consent_totp_failures as f;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::ledger::{self, Action, NewEntry};
use crate::read_models::names;
use crate::state::SharedState;
use crate::time;

/// Wrong codes across doctors before the per-patient delay starts.
pub const DELAY_AFTER: i64 = 3;
/// The longest per-patient delay, in seconds.
pub const MAX_DELAY_SECS: i64 = 15 * 60;
/// How long a wrong code counts towards the per-patient delay.
pub const WINDOW: Duration = Duration::hours(24);

/// The per-patient wait after `failures` wrong codes in the window.
pub fn delay_for(failures: i64) -> Duration {
    if failures < DELAY_AFTER {
        return Duration::zero();
    }
    let exponent = u32::try_from(failures - DELAY_AFTER)
        .unwrap_or(u32::MAX)
        .min(20);
    Duration::seconds((1_i64 << exponent).min(MAX_DELAY_SECS))
}

/// Recent failures for `patient` (sum, latest) within the window ending at `now`.
fn recent(
    conn: &mut DbConn,
    patient: UserId,
    now: NaiveDateTime,
) -> Result<(i64, Option<NaiveDateTime>), ApiError> {
    let rows: Vec<(i32, NaiveDateTime)> = f::table
        .filter(f::patient_id.eq(patient.to_string()))
        .filter(f::last_at.gt(now - WINDOW))
        .select((f::failures, f::last_at))
        .load(conn)?;
    let total = rows.iter().map(|r| i64::from(r.0)).sum();
    Ok((total, rows.iter().map(|r| r.1).max()))
}

/// Refuses an authenticator code from `doctor` for `patient` now: 423 while the doctor is
/// locked out of the patient's codes, 429 while the per-patient delay runs.
pub fn ensure_may_try(
    conn: &mut DbConn,
    patient: UserId,
    doctor: UserId,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let locked: Option<Option<NaiveDateTime>> = f::table
        .find((patient.to_string(), doctor.to_string()))
        .select(f::locked_at)
        .first(conn)
        .optional()?;
    if matches!(locked, Some(Some(_))) {
        return Err(ApiError::Locked);
    }
    let (failures, last) = recent(conn, patient, now)?;
    if let Some(last) = last {
        let until = last + delay_for(failures);
        if now < until {
            let wait = (until - now).num_seconds().max(1);
            return Err(ApiError::TooManyAttempts {
                retry_after: u64::try_from(wait).unwrap_or(1),
            });
        }
    }
    Ok(())
}

/// Counts one wrong authenticator code from `doctor` for `patient` (an atomic increment) and
/// locks the doctor out at `max_attempts`, with a ledger entry under the patient. Returns
/// whether this failure locked.
pub fn record_failure(
    conn: &mut DbConn,
    patient: UserId,
    doctor: UserId,
    max_attempts: u32,
    now: NaiveDateTime,
) -> Result<bool, ApiError> {
    let key = (patient.to_string(), doctor.to_string());
    let updated = diesel::update(f::table.find(key.clone()))
        .set((f::failures.eq(f::failures + 1), f::last_at.eq(now)))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(f::table)
            .values((
                f::patient_id.eq(&key.0),
                f::doctor_id.eq(&key.1),
                f::failures.eq(1),
                f::last_at.eq(now),
            ))
            .execute(conn)?;
    }
    let limit = i32::try_from(max_attempts).unwrap_or(i32::MAX);
    let newly_locked = diesel::update(
        f::table
            .find(key)
            .filter(f::locked_at.is_null())
            .filter(f::failures.ge(limit)),
    )
    .set(f::locked_at.eq(now))
    .execute(conn)?
        > 0;
    if newly_locked {
        ledger::append(
            conn,
            &NewEntry::new(
                Some(doctor),
                Action::ConsentTotpLocked,
                format!("user:{patient}"),
            )
            .patient(patient)
            .payload(json!({ "doctor_id": doctor, "failures": max_attempts })),
        )?;
    }
    Ok(newly_locked)
}

/// What the patient sees: the doctors locked out and the delay in force.
pub async fn for_patient(state: &SharedState, patient: UserId) -> Result<ConsentLocks, ApiError> {
    let now = state.clock.now();
    db::run(&state.pool, move |conn| {
        let rows: Vec<(String, i32, Option<NaiveDateTime>)> = f::table
            .filter(f::patient_id.eq(patient.to_string()))
            .filter(f::locked_at.is_not_null())
            .order(f::locked_at)
            .select((f::doctor_id, f::failures, f::locked_at))
            .load(conn)?;
        let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        let doctor_names = names::doctors(conn, &ids)?;
        let locked = rows
            .into_iter()
            .filter_map(|(doctor, failures, at)| at.map(|at| (doctor, failures, at)))
            .map(|(doctor, failures, at)| {
                Ok(ConsentLock {
                    doctor_id: crate::db::ids::StoredId::from_stored(&doctor)?,
                    doctor_name: doctor_names.get(&doctor).cloned().unwrap_or_default(),
                    failures: u32::try_from(failures).unwrap_or(0),
                    locked_at: time::utc(at),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let (failures, last) = recent(conn, patient, now)?;
        let delay_until = last
            .map(|last| last + delay_for(failures))
            .filter(|until| *until > now)
            .map(time::utc);
        Ok(ConsentLocks {
            locked,
            recent_failures: u32::try_from(failures).unwrap_or(u32::MAX),
            delay_until,
        })
    })
    .await
}

/// The patient lifts every lock and the delay (forgets all wrong codes given for them),
/// ledgered when there was anything to lift.
pub async fn lift(state: &SharedState, patient: UserId) -> Result<(), ApiError> {
    db::write(&state.pool, move |conn| {
        let n =
            diesel::delete(f::table.filter(f::patient_id.eq(patient.to_string()))).execute(conn)?;
        if n > 0 {
            ledger::append(
                conn,
                &NewEntry::new(
                    Some(patient),
                    Action::ConsentTotpUnlocked,
                    format!("user:{patient}"),
                )
                .patient(patient)
                .payload(json!({ "doctors": n })),
            )?;
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_starts_late_doubles_and_is_capped() {
        assert_eq!(delay_for(0), Duration::zero());
        assert_eq!(delay_for(DELAY_AFTER - 1), Duration::zero());
        assert_eq!(delay_for(DELAY_AFTER), Duration::seconds(1));
        assert_eq!(delay_for(DELAY_AFTER + 1), Duration::seconds(2));
        assert_eq!(delay_for(DELAY_AFTER + 4), Duration::seconds(16));
        assert_eq!(
            delay_for(DELAY_AFTER + 30),
            Duration::seconds(MAX_DELAY_SECS)
        );
        assert_eq!(delay_for(i64::MAX), Duration::seconds(MAX_DELAY_SECS));
    }
}
