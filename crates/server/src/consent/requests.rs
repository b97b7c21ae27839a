//! Access requests: a doctor asks, the patient consents by a one-time code (read out to the
//! doctor, who redeems it) or in the app, or says no.
//!
//! The public functions are the use cases; each runs its steps in one write transaction (see
//! `db::write`), so a request, its grant and their ledger entries commit together. Consent
//! yields only its scoped, expiring grant: it never puts the patient in the doctor's care.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use medvault_engine::KeyRing;
use medvault_types::{
    AccessPurpose, AccessRequest, AccessRequestStatus, CreateAccessRequest, Grant, GrantId,
    ListQuery, Page, RecordId, RequestId, Role, UserId,
};
use serde_json::json;
use zeroize::Zeroizing;

use crate::accounts::care;
use crate::accounts::patients::{self, PatientRef};
use crate::auth::{AuthUser, recent};
use crate::consent::{ConsentConfig, codes, grants, rate, totp, totp_lock};
use crate::db::ids::FreshId;
use crate::db::ids::StoredId;
use crate::db::paging::Paging;
use crate::db::schema::{access_requests, records};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::ledger::Action;
use crate::ledger::{self, NewEntry};
use crate::read_models::names;
use crate::state::SharedState;
use crate::validate::{self, Fields};
use crate::{patient_key, time};
use medvault_types::input;

const CODE_FIELD: &str = "request_code";

/// The decision state a request row stores (`expired` is computed from its age, not stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// Waiting for a code or the patient's decision.
    Pending,
    /// Consent given; a grant exists.
    Granted,
    /// The patient said no.
    Denied,
    /// Too many wrong codes.
    Locked,
}

impl Stored {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Granted => "granted",
            Self::Denied => "denied",
            Self::Locked => "locked",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Granted, Self::Denied, Self::Locked]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A stored request.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = access_requests)]
pub struct RequestRow {
    /// Request id.
    pub id: String,
    /// Requesting doctor.
    pub doctor_id: String,
    /// Patient asked.
    pub patient_id: String,
    /// One record or all.
    pub record_id: Option<String>,
    /// Reason.
    pub reason: String,
    /// Grant duration asked for.
    pub duration_hours: i32,
    /// `pending`, `granted`, `denied` or `locked`.
    pub status: String,
    /// Wrong codes so far.
    pub failed_attempts: i32,
    /// Per-request code, sealed with the patient key.
    pub code_enc: Vec<u8>,
    /// When the code stops working.
    pub code_expires_at: NaiveDateTime,
    /// Resulting grant.
    pub grant_id: Option<String>,
    /// Created (UTC).
    pub created_at: NaiveDateTime,
    /// Decided (UTC).
    pub decided_at: Option<NaiveDateTime>,
    /// Whether the patient's visit notes are asked for too.
    pub include_notes: bool,
    /// Purpose wire name.
    pub purpose: String,
}

impl RequestRow {
    /// The status as the API shows it at `now` (an open request past its lifetime is expired).
    fn status_at(&self, cfg: &ConsentConfig, now: NaiveDateTime) -> AccessRequestStatus {
        match Stored::parse(&self.status) {
            Some(Stored::Granted) => AccessRequestStatus::Granted,
            Some(Stored::Denied) => AccessRequestStatus::Denied,
            Some(Stored::Locked) => AccessRequestStatus::Locked,
            _ if now >= self.created_at + Duration::hours(i64::from(cfg.request_ttl_hours)) => {
                AccessRequestStatus::Expired
            }
            _ => AccessRequestStatus::Pending,
        }
    }
}

/// What the server must do after a request is created: tell the patient the code.
struct Created {
    /// The request, as the doctor sees it (no code).
    pub request: AccessRequest,
    /// The patient's sign-in email, for the code email; `None` while staff changed it less
    /// than a day ago and the patient has not confirmed it (the code stays in the app inbox).
    pub patient_email: Option<String>,
    /// The per-request code (only ever sent to the patient).
    pub code: Zeroizing<String>,
}

/// Outcome of a redemption. Wrong codes are an `Ok` outcome so that their counting commits;
/// [`redeem_code`] turns them into error answers after the commit.
enum Redeemed {
    /// Consent given: the grant.
    Granted(Box<Grant>),
    /// Wrong code; the request is locked when `remaining` is 0.
    Wrong {
        /// Attempts left before the request locks.
        remaining: u32,
        /// The patient's e-mail when this wrong code locked the doctor out of the patient's
        /// authenticator codes (the patient is told after the commit).
        lock_notice: Option<String>,
    },
    /// The right per-request code, but too late.
    CodeExpired,
}

fn validate(cfg: &ConsentConfig, req: &CreateAccessRequest) -> Result<String, ApiError> {
    let mut f = Fields::default();
    let reason = f.take("reason", validate::text(&req.reason, &input::REASON));
    f.take(
        "duration_hours",
        if (1..=cfg.max_grant_hours).contains(&req.duration_hours) {
            Ok(())
        } else {
            Err(format!("must be between 1 and {}", cfg.max_grant_hours))
        },
    );
    PatientRef::named(&mut f, req.patient_id, req.mrn.as_deref());
    f.finish()?;
    Ok(reason)
}

/// Resolves the patient a doctor names: by id only within their care, by MRN anyone active.
/// Anything else is 404 (the doctor learns nothing about patients outside their care).
fn resolve_patient(
    conn: &mut DbConn,
    doctor: UserId,
    req: &CreateAccessRequest,
) -> Result<String, ApiError> {
    let by = if let Some(id) = req.patient_id {
        if !care::in_care(conn, doctor, id)? {
            return Err(ApiError::NotFound);
        }
        PatientRef::Id(id)
    } else {
        PatientRef::Mrn(req.mrn.as_deref().unwrap_or(""))
    };
    Ok(patients::active_patient(conn, by)?.to_string())
}

/// Creates a request and its per-request code (sealed with the patient key).
fn create(
    conn: &mut DbConn,
    cfg: &ConsentConfig,
    keyring: &KeyRing,
    doctor: UserId,
    req: &CreateAccessRequest,
    now: NaiveDateTime,
) -> Result<Created, ApiError> {
    let reason = validate(cfg, req)?;
    let doctor_id = doctor.to_string();
    let patient_id = resolve_patient(conn, doctor, req)?;
    if let Some(record) = req.record_id {
        let exists: i64 = records::table
            .filter(records::id.eq(record.to_string()))
            .filter(records::patient_id.eq(&patient_id))
            .filter(records::deleted_at.is_null())
            .count()
            .get_result(conn)?;
        if exists == 0 {
            return Err(ApiError::NotFound);
        }
    }
    let open: i64 = access_requests::table
        .filter(access_requests::doctor_id.eq(&doctor_id))
        .filter(access_requests::patient_id.eq(&patient_id))
        .filter(access_requests::status.eq(Stored::Pending.as_str()))
        .filter(
            access_requests::created_at.gt(now - Duration::hours(i64::from(cfg.request_ttl_hours))),
        )
        .count()
        .get_result(conn)?;
    if open >= i64::from(cfg.max_pending_per_patient) {
        return Err(ApiError::Conflict(
            "too many open requests for this patient",
        ));
    }
    let patient = UserId::from_stored(&patient_id)?;
    let dek = patient_key::get_or_create(conn, keyring, patient)?;
    let id = RequestId::fresh();
    let code = codes::generate_request_code();
    let row = RequestRow {
        id: id.to_string(),
        doctor_id: doctor_id.clone(),
        patient_id: patient_id.clone(),
        record_id: req.record_id.map(|r| r.to_string()),
        reason,
        duration_hours: i32::try_from(req.duration_hours).unwrap_or(i32::MAX),
        status: Stored::Pending.as_str().into(),
        failed_attempts: 0,
        code_enc: patient_key::seal(&dek, CODE_FIELD, id.as_uuid(), code.as_bytes()),
        code_expires_at: now + Duration::minutes(i64::from(cfg.code_ttl_minutes)),
        grant_id: None,
        created_at: now,
        decided_at: None,
        include_notes: req.include_notes,
        purpose: req.purpose.as_str().to_owned(),
    };
    diesel::insert_into(access_requests::table)
        .values(&row)
        .execute(conn)?;
    ledger::append(
        conn,
        &NewEntry::new(
            Some(doctor),
            Action::ConsentRequest,
            format!("access_request:{id}"),
        )
        .patient(patient)
        .payload(json!({
            "request_id": row.id,
            "doctor_id": doctor_id,
            "record_id": row.record_id,
            "duration_hours": req.duration_hours,
            "include_notes": req.include_notes,
            "purpose": req.purpose.as_str(),
            "by_mrn": req.mrn.is_some(),
        })),
    )?;
    let patient_row = crate::accounts::users::find(conn, UserId::from_stored(&patient_id)?)?
        .ok_or(ApiError::NotFound)?;
    let patient_email = crate::accounts::users::codes_may_be_emailed(&patient_row, now)
        .then_some(patient_row.email);
    let request = to_dtos(conn, cfg, None, vec![row], now)?.remove(0);
    Ok(Created {
        request,
        patient_email,
        code,
    })
}

/// API shapes for rows. With `reveal` (the patient's own key), pending requests whose code is
/// still valid carry the code; otherwise no code is ever included.
fn to_dtos(
    conn: &mut DbConn,
    cfg: &ConsentConfig,
    reveal: Option<(&KeyRing, UserId)>,
    rows: Vec<RequestRow>,
    now: NaiveDateTime,
) -> Result<Vec<AccessRequest>, ApiError> {
    let doctor_ids: Vec<String> = rows.iter().map(|r| r.doctor_id.clone()).collect();
    let patient_ids: Vec<String> = rows.iter().map(|r| r.patient_id.clone()).collect();
    let record_ids: Vec<String> = rows.iter().filter_map(|r| r.record_id.clone()).collect();
    let doctors = names::doctors(conn, &doctor_ids)?;
    let patients = names::patients(conn, &patient_ids)?;
    let titles = names::record_titles(conn, &record_ids)?;
    let dek = match reveal {
        Some((keyring, patient)) => patient_key::load(conn, keyring, patient)?,
        None => None,
    };
    rows.into_iter()
        .map(|r| {
            let id = RequestId::from_stored(&r.id)?;
            let status = r.status_at(cfg, now);
            let code = match &dek {
                Some(dek) if status == AccessRequestStatus::Pending && r.code_expires_at > now => {
                    Some(patient_key::open_text(
                        dek,
                        CODE_FIELD,
                        id.as_uuid(),
                        &r.code_enc,
                    )?)
                }
                _ => None,
            };
            Ok(AccessRequest {
                id,
                doctor_id: UserId::from_stored(&r.doctor_id)?,
                doctor_name: doctors.get(&r.doctor_id).cloned().unwrap_or_default(),
                patient_id: UserId::from_stored(&r.patient_id)?,
                patient_name: patients.get(&r.patient_id).cloned().unwrap_or_default(),
                record_id: r
                    .record_id
                    .as_deref()
                    .map(RecordId::from_stored)
                    .transpose()?,
                record_title: r.record_id.as_ref().and_then(|x| titles.get(x).cloned()),
                reason: r.reason,
                purpose: AccessPurpose::parse(&r.purpose).unwrap_or_default(),
                include_notes: r.include_notes,
                duration_hours: u32::try_from(r.duration_hours).unwrap_or(0),
                status,
                failed_attempts: u32::try_from(r.failed_attempts).unwrap_or(0),
                code_expires_at: time::utc(r.code_expires_at),
                code,
                grant_id: r
                    .grant_id
                    .as_deref()
                    .map(GrantId::from_stored)
                    .transpose()?,
                created_at: time::utc(r.created_at),
            })
        })
        .collect()
}

/// A doctor's own requests, or the requests addressed to a patient (with their codes), newest
/// first.
fn list(
    conn: &mut DbConn,
    cfg: &ConsentConfig,
    keyring: &KeyRing,
    user_id: UserId,
    role: Role,
    paging: &Paging,
    now: NaiveDateTime,
) -> Result<Page<AccessRequest>, ApiError> {
    let me = user_id.to_string();
    let base = || {
        let q = access_requests::table.into_boxed();
        match role {
            Role::Doctor => q.filter(access_requests::doctor_id.eq(me.clone())),
            _ => q.filter(access_requests::patient_id.eq(me.clone())),
        }
    };
    let total: i64 = base().count().get_result(conn)?;
    let rows: Vec<RequestRow> = base()
        .select(RequestRow::as_select())
        .order(access_requests::created_at.desc())
        .offset(paging.offset())
        .limit(paging.limit())
        .load(conn)?;
    let reveal = (role == Role::Patient).then_some((keyring, user_id));
    Ok(paging.page(to_dtos(conn, cfg, reveal, rows, now)?, total))
}

/// One request the caller is party to (doctor who asked, patient asked); else 404.
fn get(
    conn: &mut DbConn,
    cfg: &ConsentConfig,
    keyring: &KeyRing,
    user_id: UserId,
    role: Role,
    id: RequestId,
    now: NaiveDateTime,
) -> Result<AccessRequest, ApiError> {
    let row = load_for(conn, user_id, role, id)?;
    let reveal = (role == Role::Patient).then_some((keyring, user_id));
    Ok(to_dtos(conn, cfg, reveal, vec![row], now)?.remove(0))
}

fn load_for(
    conn: &mut DbConn,
    user_id: UserId,
    role: Role,
    id: RequestId,
) -> Result<RequestRow, ApiError> {
    let me = user_id.to_string();
    access_requests::table
        .find(id.to_string())
        .select(RequestRow::as_select())
        .first(conn)
        .optional()?
        .filter(|r| match role {
            Role::Doctor => r.doctor_id == me,
            Role::Patient => r.patient_id == me,
            Role::Admin => false,
        })
        .ok_or(ApiError::NotFound)
}

fn ensure_open(cfg: &ConsentConfig, row: &RequestRow, now: NaiveDateTime) -> Result<(), ApiError> {
    match row.status_at(cfg, now) {
        AccessRequestStatus::Pending => Ok(()),
        AccessRequestStatus::Locked => Err(ApiError::Locked),
        AccessRequestStatus::Expired => Err(ApiError::Expired("the request has expired")),
        AccessRequestStatus::Granted | AccessRequestStatus::Denied => {
            Err(ApiError::Conflict("the request is already decided"))
        }
    }
}

/// Turns an open request into its grant (scoped and expiring; never care); `method` says how
/// consent was given.
fn grant(
    conn: &mut DbConn,
    cfg: &ConsentConfig,
    row: &RequestRow,
    actor: UserId,
    method: &'static str,
    now: NaiveDateTime,
) -> Result<Grant, ApiError> {
    let g = grants::insert(
        conn,
        &grants::NewGrant {
            request_id: &row.id,
            doctor_id: &row.doctor_id,
            patient_id: &row.patient_id,
            record_id: row.record_id.as_deref(),
            include_notes: row.include_notes,
            duration_hours: u32::try_from(row.duration_hours).unwrap_or(1),
            max_downloads: cfg.downloads_per_grant,
        },
        now,
    )?;
    diesel::update(access_requests::table.find(&row.id))
        .set((
            access_requests::status.eq(Stored::Granted.as_str()),
            access_requests::grant_id.eq(&g.id),
            access_requests::decided_at.eq(now),
        ))
        .execute(conn)?;
    ledger::append(
        conn,
        &NewEntry::new(Some(actor), Action::ConsentGrant, format!("grant:{}", g.id))
            .patient(UserId::from_stored(&row.patient_id)?)
            .payload(json!({
                "grant_id": g.id,
                "request_id": row.id,
                "doctor_id": row.doctor_id,
                "record_id": row.record_id,
                "include_notes": row.include_notes,
                "method": method,
                "expires_at": time::utc(g.expires_at).to_rfc3339(),
                "max_downloads": g.max_downloads,
            })),
    )?;
    Ok(grants::to_dtos(conn, vec![g], now)?.remove(0))
}

fn rate_key(doctor: UserId) -> String {
    format!("redeem_failure:{doctor}")
}

/// Refuses with 429 when the doctor failed too many redemptions recently (across requests).
fn check_doctor_rate(
    conn: &mut DbConn,
    cfg: &ConsentConfig,
    doctor: UserId,
) -> Result<(), ApiError> {
    rate::check(
        conn,
        &rate_key(doctor),
        cfg.doctor_failures_per_window,
        Duration::minutes(i64::from(cfg.doctor_failure_window_minutes)),
    )
}

/// The doctor submits the code the patient gave them: the per-request 8-digit code or the
/// patient's current 6-digit authenticator code.
fn redeem(
    conn: &mut DbConn,
    cfg: &ConsentConfig,
    keyring: &KeyRing,
    doctor: UserId,
    id: RequestId,
    code: &str,
    now: NaiveDateTime,
) -> Result<Redeemed, ApiError> {
    let code = code.trim();
    let is_request_code = codes::is_well_formed(code, codes::REQUEST_CODE_DIGITS);
    let is_totp = codes::is_well_formed(code, codes::TOTP_DIGITS);
    if !is_request_code && !is_totp {
        return Err(ApiError::field(
            "code",
            "must be the 8-digit request code or a 6-digit authenticator code",
        ));
    }
    let row = load_for(conn, doctor, Role::Doctor, id)?;
    check_doctor_rate(conn, cfg, doctor)?;
    ensure_open(cfg, &row, now)?;
    let patient = UserId::from_stored(&row.patient_id)?;
    let (ok, method) = if is_request_code {
        let dek = patient_key::load(conn, keyring, patient)?
            .ok_or_else(|| ApiError::internal("request without patient key"))?;
        let expected = Zeroizing::new(patient_key::open_text(
            &dek,
            CODE_FIELD,
            id.as_uuid(),
            &row.code_enc,
        )?);
        let matches = codes::codes_equal(code, &expected);
        if matches && now >= row.code_expires_at {
            return Ok(Redeemed::CodeExpired);
        }
        (matches, "request_code")
    } else {
        totp_lock::ensure_may_try(conn, patient, doctor, now)?;
        (totp::check(conn, keyring, patient, code, false)?, "totp")
    };
    let lock_notice = if !ok
        && !is_request_code
        && totp_lock::record_failure(conn, patient, doctor, cfg.max_attempts, now)?
    {
        crate::accounts::users::find(conn, patient)?.map(|u| u.email)
    } else {
        None
    };
    if ok {
        return Ok(Redeemed::Granted(Box::new(grant(
            conn, cfg, &row, doctor, method, now,
        )?)));
    }
    let attempts = row.failed_attempts.saturating_add(1);
    let locked = u32::try_from(attempts).unwrap_or(u32::MAX) >= cfg.max_attempts;
    diesel::update(access_requests::table.find(&row.id))
        .set(access_requests::failed_attempts.eq(attempts))
        .execute(conn)?;
    rate::record(conn, &rate_key(doctor))?;
    ledger::append(
        conn,
        &NewEntry::new(
            Some(doctor),
            Action::ConsentCodeFailed,
            format!("access_request:{id}"),
        )
        .patient(patient)
        .payload(json!({ "request_id": row.id, "attempt": attempts })),
    )?;
    if locked {
        diesel::update(access_requests::table.find(&row.id))
            .set((
                access_requests::status.eq(Stored::Locked.as_str()),
                access_requests::decided_at.eq(now),
            ))
            .execute(conn)?;
        ledger::append(
            conn,
            &NewEntry::new(
                Some(doctor),
                Action::ConsentLocked,
                format!("access_request:{id}"),
            )
            .patient(patient)
            .payload(json!({ "request_id": row.id, "attempts": attempts })),
        )?;
    }
    Ok(Redeemed::Wrong {
        remaining: cfg
            .max_attempts
            .saturating_sub(u32::try_from(attempts).unwrap_or(u32::MAX)),
        lock_notice,
    })
}

/// The patient approves in the app.
fn approve(
    conn: &mut DbConn,
    cfg: &ConsentConfig,
    patient: UserId,
    id: RequestId,
    now: NaiveDateTime,
) -> Result<Grant, ApiError> {
    let row = load_for(conn, patient, Role::Patient, id)?;
    ensure_open(cfg, &row, now)?;
    grant(conn, cfg, &row, patient, "approval", now)
}

/// The patient says no.
fn deny(
    conn: &mut DbConn,
    cfg: &ConsentConfig,
    keyring: &KeyRing,
    patient: UserId,
    id: RequestId,
    now: NaiveDateTime,
) -> Result<AccessRequest, ApiError> {
    let row = load_for(conn, patient, Role::Patient, id)?;
    ensure_open(cfg, &row, now)?;
    diesel::update(access_requests::table.find(&row.id))
        .set((
            access_requests::status.eq(Stored::Denied.as_str()),
            access_requests::decided_at.eq(now),
        ))
        .execute(conn)?;
    ledger::append(
        conn,
        &NewEntry::new(
            Some(patient),
            Action::ConsentDeny,
            format!("access_request:{id}"),
        )
        .patient(patient)
        .payload(json!({ "request_id": row.id, "doctor_id": row.doctor_id })),
    )?;
    get(conn, cfg, keyring, patient, Role::Patient, id, now)
}

/// A doctor asks for access; the patient receives the one-time code in their inbox (and by
/// e-mail when SMTP is configured, after the commit).
pub async fn ask(
    state: &SharedState,
    doctor: UserId,
    req: CreateAccessRequest,
) -> Result<AccessRequest, ApiError> {
    let st = SharedState::clone(state);
    let now = state.clock.now();
    let created = db::write(&state.pool, move |conn| {
        create(
            conn,
            &st.config.consent,
            st.engine.keys(),
            doctor,
            &req,
            now,
        )
    })
    .await?;
    match (&state.mailer, &created.patient_email) {
        (Some(mailer), Some(email)) => {
            mailer.send_consent_code(email, &created.request.scope_summary(), &created.code);
        }
        (Some(_), None) => tracing::info!(
            request = %created.request.id,
            "consent code not e-mailed: staff changed the address recently and the patient has not confirmed it"
        ),
        (None, _) => {}
    }
    Ok(created.request)
}

/// A doctor's own requests, or those addressed to a patient (with codes while valid).
pub async fn list_for(
    state: &SharedState,
    user: AuthUser,
    query: &ListQuery,
) -> Result<Page<AccessRequest>, ApiError> {
    let paging = Paging::from_query(query)?;
    let st = SharedState::clone(state);
    let now = state.clock.now();
    db::run(&state.pool, move |conn| {
        list(
            conn,
            &st.config.consent,
            st.engine.keys(),
            user.id,
            user.role,
            &paging,
            now,
        )
    })
    .await
}

/// One request the caller is party to.
pub async fn show(
    state: &SharedState,
    user: AuthUser,
    id: RequestId,
) -> Result<AccessRequest, ApiError> {
    let st = SharedState::clone(state);
    let now = state.clock.now();
    db::run(&state.pool, move |conn| {
        get(
            conn,
            &st.config.consent,
            st.engine.keys(),
            user.id,
            user.role,
            id,
            now,
        )
    })
    .await
}

/// The doctor redeems the patient's code. A wrong code is counted (and committed) before it
/// is refused: 422 with the attempts left, 423 once locked, 410 for an expired code.
pub async fn redeem_code(
    state: &SharedState,
    doctor: UserId,
    id: RequestId,
    code: Zeroizing<String>,
) -> Result<Grant, ApiError> {
    let st = SharedState::clone(state);
    let now = state.clock.now();
    let outcome = db::write(&state.pool, move |conn| {
        redeem(
            conn,
            &st.config.consent,
            st.engine.keys(),
            doctor,
            id,
            &code,
            now,
        )
    })
    .await?;
    if let (
        Redeemed::Wrong {
            lock_notice: Some(email),
            ..
        },
        Some(mailer),
    ) = (&outcome, &state.mailer)
    {
        mailer.send_totp_locked(email);
    }
    match outcome {
        Redeemed::Granted(grant) => Ok(*grant),
        Redeemed::Wrong { remaining: 0, .. } => Err(ApiError::Locked),
        Redeemed::Wrong { remaining, .. } => Err(ApiError::WrongCode { remaining }),
        Redeemed::CodeExpired => Err(ApiError::Expired("the code has expired")),
    }
}

/// The patient approves a request in the app: a sensitive action, so the patient's password
/// must be recent (`auth::recent`; 403 `reauth_required` otherwise).
pub async fn approve_request(
    state: &SharedState,
    patient: AuthUser,
    id: RequestId,
) -> Result<Grant, ApiError> {
    let st = SharedState::clone(state);
    let now = state.clock.now();
    db::write(&state.pool, move |conn| {
        recent::require(
            conn,
            patient.session_id,
            now,
            st.config.auth.recent_auth_secs,
        )?;
        approve(conn, &st.config.consent, patient.id, id, now)
    })
    .await
}

/// The patient denies a request.
pub async fn deny_request(
    state: &SharedState,
    patient: UserId,
    id: RequestId,
) -> Result<AccessRequest, ApiError> {
    let st = SharedState::clone(state);
    let now = state.clock.now();
    db::write(&state.pool, move |conn| {
        deny(conn, &st.config.consent, st.engine.keys(), patient, id, now)
    })
    .await
}
