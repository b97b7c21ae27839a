//! Consent: access requests (doctor asks; patient's code redeemed by the doctor, or in-app
//! approval or denial), grants (list, revoke), and the patient's authenticator (TOTP).

use actix_web::{HttpResponse, web};
use medvault_types::{
    AccessRequest, CreateAccessRequest, ErrorBody, Grant, ListQuery, Page, RedeemCode, TotpCode,
    TotpEnrollment, TotpStatus,
};
use uuid::Uuid;

use crate::accounts::search::Paging;
use crate::auth::{AnyUser, DoctorUser, PatientUser};
use crate::consent::requests::{self, Redeemed};
use crate::consent::{grants, totp};
use crate::db;
use crate::error::ApiError;
use crate::openapi::{AuthErrors, ClosedRequestErrors};
use crate::state::AppState;

/// A doctor asks for access to a patient's record (or all records). The patient receives a
/// one-time code in their inbox (and by email when SMTP is configured).
#[utoipa::path(post, path = "/api/v1/access-requests", tag = "consent", operation_id = "create_access_request",
    security(("bearer" = [])),
    request_body = CreateAccessRequest,
    responses(
        (status = 201, body = AccessRequest),
        AuthErrors,
        (status = 404, description = "No such patient in care / MRN / record", body = ErrorBody),
        (status = 409, description = "Too many open requests", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create_access_request(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    body: web::Json<CreateAccessRequest>,
) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let req = body.into_inner();
    let created = db::write(&state.pool, move |conn| {
        requests::create(conn, &st.config.consent, st.engine.keys(), doctor.id, &req)
    })
    .await?;
    if let Some(mailer) = &state.mailer {
        mailer.send_consent_code(
            &created.patient_email,
            &created.request.doctor_name,
            &created.code,
        );
    }
    Ok(HttpResponse::Created().json(created.request))
}

/// A doctor's own requests, or the requests addressed to the calling patient (with the
/// one-time code while it is valid).
#[utoipa::path(get, path = "/api/v1/access-requests", tag = "consent", operation_id = "list_access_requests",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = Page<AccessRequest>),
        AuthErrors,
    ))]
pub async fn list_access_requests(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    query: web::Query<ListQuery>,
) -> Result<web::Json<Page<AccessRequest>>, ApiError> {
    if user.role == medvault_types::Role::Admin {
        return Err(ApiError::Forbidden);
    }
    let paging = Paging::from_query(&query)?;
    let st = state.clone();
    Ok(web::Json(
        db::run(&state.pool, move |conn| {
            requests::list(
                conn,
                &st.config.consent,
                st.engine.keys(),
                user.id,
                user.role,
                &paging,
            )
        })
        .await?,
    ))
}

/// One request the caller is party to.
#[utoipa::path(get, path = "/api/v1/access-requests/{id}", tag = "consent", operation_id = "get_access_request",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Request id")),
    responses(
        (status = 200, body = AccessRequest),
        AuthErrors,
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_access_request(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<AccessRequest>, ApiError> {
    if user.role == medvault_types::Role::Admin {
        return Err(ApiError::Forbidden);
    }
    let id = id.into_inner();
    let st = state.clone();
    Ok(web::Json(
        db::run(&state.pool, move |conn| {
            requests::get(
                conn,
                &st.config.consent,
                st.engine.keys(),
                user.id,
                user.role,
                id,
            )
        })
        .await?,
    ))
}

/// The doctor submits the code the patient read out (8-digit request code or 6-digit
/// authenticator code). Wrong codes count; the request locks after a few.
#[utoipa::path(post, path = "/api/v1/access-requests/{id}/redeem", tag = "consent", operation_id = "redeem_access_request",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Request id")),
    request_body = RedeemCode,
    responses(
        (status = 200, description = "Consent given", body = Grant),
        AuthErrors,
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already decided", body = ErrorBody),
        (status = 410, description = "Code or request expired", body = ErrorBody),
        (status = 422, description = "Wrong or malformed code", body = ErrorBody),
        (status = 423, description = "Locked after too many wrong codes", body = ErrorBody),
        (status = 429, description = "Too many failed codes recently", body = ErrorBody),
    ))]
pub async fn redeem_access_request(
    state: web::Data<AppState>,
    DoctorUser(doctor): DoctorUser,
    id: web::Path<Uuid>,
    body: web::Json<RedeemCode>,
) -> Result<web::Json<Grant>, ApiError> {
    let id = id.into_inner();
    let code = zeroize::Zeroizing::new(body.into_inner().code);
    let st = state.clone();
    let outcome = db::write(&state.pool, move |conn| {
        requests::redeem(
            conn,
            &st.config.consent,
            st.engine.keys(),
            doctor.id,
            id,
            &code,
        )
    })
    .await?;
    match outcome {
        Redeemed::Granted(grant) => Ok(web::Json(*grant)),
        Redeemed::Wrong { remaining: 0 } => Err(ApiError::Locked),
        Redeemed::Wrong { remaining } => Err(ApiError::WrongCode { remaining }),
        Redeemed::CodeExpired => Err(ApiError::Expired("the code has expired")),
    }
}

/// The patient approves a request in the app.
#[utoipa::path(post, path = "/api/v1/access-requests/{id}/approve", tag = "consent", operation_id = "approve_access_request",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Request id")),
    responses(
        (status = 200, body = Grant),
        AuthErrors,
        (status = 404, body = ErrorBody),
        ClosedRequestErrors,
    ))]
pub async fn approve_access_request(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Grant>, ApiError> {
    let id = id.into_inner();
    let st = state.clone();
    Ok(web::Json(
        db::write(&state.pool, move |conn| {
            requests::approve(conn, &st.config.consent, patient.id, id)
        })
        .await?,
    ))
}

/// The patient denies a request.
#[utoipa::path(post, path = "/api/v1/access-requests/{id}/deny", tag = "consent", operation_id = "deny_access_request",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Request id")),
    responses(
        (status = 200, body = AccessRequest),
        AuthErrors,
        (status = 404, body = ErrorBody),
        ClosedRequestErrors,
    ))]
pub async fn deny_access_request(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<AccessRequest>, ApiError> {
    let id = id.into_inner();
    let st = state.clone();
    Ok(web::Json(
        db::write(&state.pool, move |conn| {
            requests::deny(conn, &st.config.consent, st.engine.keys(), patient.id, id)
        })
        .await?,
    ))
}

/// Grants the caller holds (doctor) or gave (patient), newest first.
#[utoipa::path(get, path = "/api/v1/grants", tag = "consent", operation_id = "list_grants",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = Page<Grant>),
        AuthErrors,
    ))]
pub async fn list_grants(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    query: web::Query<ListQuery>,
) -> Result<web::Json<Page<Grant>>, ApiError> {
    if user.role == medvault_types::Role::Admin {
        return Err(ApiError::Forbidden);
    }
    let paging = Paging::from_query(&query)?;
    Ok(web::Json(
        db::run(&state.pool, move |conn| grants::list(conn, &user, &paging)).await?,
    ))
}

/// Revokes a grant (patient) or gives it up (doctor). Takes effect on the next download.
#[utoipa::path(delete, path = "/api/v1/grants/{id}", tag = "consent", operation_id = "revoke_grant",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Grant id")),
    responses(
        (status = 200, body = Grant),
        AuthErrors,
        (status = 404, body = ErrorBody),
    ))]
pub async fn revoke_grant(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Grant>, ApiError> {
    if user.role == medvault_types::Role::Admin {
        return Err(ApiError::Forbidden);
    }
    let id = id.into_inner();
    Ok(web::Json(
        db::write(&state.pool, move |conn| grants::revoke(conn, &user, id)).await?,
    ))
}

/// Whether the patient has an authenticator set up.
#[utoipa::path(get, path = "/api/v1/me/totp", tag = "consent", operation_id = "get_totp",
    security(("bearer" = [])),
    responses((status = 200, body = TotpStatus), AuthErrors))]
pub async fn get_totp(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
) -> Result<web::Json<TotpStatus>, ApiError> {
    Ok(web::Json(
        db::run(&state.pool, move |conn| totp::status(conn, patient.id)).await?,
    ))
}

/// Starts authenticator enrolment: the otpauth URI, its QR code, and the secret for manual
/// entry. Confirm with a first code.
#[utoipa::path(post, path = "/api/v1/me/totp", tag = "consent", operation_id = "enrol_totp",
    security(("bearer" = [])),
    responses(
        (status = 200, body = TotpEnrollment),
        AuthErrors,
        (status = 409, description = "Already enrolled", body = ErrorBody),
    ))]
pub async fn enrol_totp(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
) -> Result<web::Json<TotpEnrollment>, ApiError> {
    let st = state.clone();
    Ok(web::Json(
        db::write(&state.pool, move |conn| {
            totp::enrol(conn, st.engine.keys(), patient.id, &patient.email)
        })
        .await?,
    ))
}

/// Confirms enrolment with a code from the app.
#[utoipa::path(post, path = "/api/v1/me/totp/confirm", tag = "consent", operation_id = "confirm_totp",
    security(("bearer" = [])),
    request_body = TotpCode,
    responses(
        (status = 200, body = TotpStatus),
        AuthErrors,
        (status = 404, description = "No enrolment started", body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, description = "Wrong code", body = ErrorBody),
        (status = 429, description = "Too many wrong codes recently", body = ErrorBody),
    ))]
pub async fn confirm_totp(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
    body: web::Json<TotpCode>,
) -> Result<web::Json<TotpStatus>, ApiError> {
    limited_totp(&state, patient.id, body.into_inner().code, totp::confirm).await
}

/// Removes the authenticator; needs a current code from it.
#[utoipa::path(delete, path = "/api/v1/me/totp", tag = "consent", operation_id = "remove_totp",
    security(("bearer" = [])),
    request_body = TotpCode,
    responses(
        (status = 200, body = TotpStatus),
        AuthErrors,
        (status = 404, body = ErrorBody),
        (status = 422, description = "Wrong code", body = ErrorBody),
        (status = 429, description = "Too many wrong codes recently", body = ErrorBody),
    ))]
pub async fn remove_totp(
    state: web::Data<AppState>,
    PatientUser(patient): PatientUser,
    body: web::Json<TotpCode>,
) -> Result<web::Json<TotpStatus>, ApiError> {
    limited_totp(&state, patient.id, body.into_inner().code, totp::remove).await
}

/// A TOTP operation on the patient's authenticator (confirm or remove).
type TotpOp = fn(
    &mut crate::db::DbConn,
    &medvault_engine::KeyRing,
    Uuid,
    &str,
) -> Result<TotpStatus, ApiError>;

/// Runs `op` with the patient's wrong-code limit: refused with 429 after too many recent wrong
/// codes; a wrong code is recorded in its own transaction (the operation's rolls back).
async fn limited_totp(
    state: &web::Data<AppState>,
    patient: Uuid,
    code: String,
    op: TotpOp,
) -> Result<web::Json<TotpStatus>, ApiError> {
    let code = zeroize::Zeroizing::new(code);
    let key = totp::failure_key(patient);
    let limit_key = key.clone();
    db::run(&state.pool, move |conn| {
        totp::check_failures(conn, &limit_key)
    })
    .await?;
    let st = state.clone();
    let result = db::write(&state.pool, move |conn| {
        op(conn, st.engine.keys(), patient, &code)
    })
    .await;
    if matches!(result, Err(ApiError::Validation(_))) {
        db::write(&state.pool, move |conn| {
            crate::consent::rate::record(conn, &key)
        })
        .await?;
    }
    Ok(web::Json(result?))
}
