//! Admin: patients and their doctors.

use actix_web::{HttpResponse, web};
use medvault_types::{
    CreatePatient, CreatedPatient, ErrorBody, ListQuery, Page, Patient, Role, UpdatePatient,
};
use uuid::Uuid;

use crate::accounts::patients::{self, Scope};
use crate::accounts::search::Paging;
use crate::accounts::{care, users};
use crate::auth::AdminUser;
use crate::db;
use crate::error::ApiError;
use crate::routes::new_account;
use crate::state::AppState;

/// Lists patients, newest first; `q` searches name, email and MRN.
#[utoipa::path(get, path = "/api/v1/admin/patients", tag = "admin", operation_id = "list_patients",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = Page<Patient>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn list_patients(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<ListQuery>,
) -> Result<web::Json<Page<Patient>>, ApiError> {
    let paging = Paging::from_query(&query)?;
    Ok(web::Json(
        db::run(&state.pool, move |conn| {
            patients::list(conn, &Scope::All, &paging)
        })
        .await?,
    ))
}

/// Creates a patient and their login; the temporary password is returned once.
#[utoipa::path(post, path = "/api/v1/admin/patients", tag = "admin", operation_id = "create_patient",
    security(("bearer" = [])),
    request_body = CreatePatient,
    responses(
        (status = 201, body = CreatedPatient),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "Email already in use", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create_patient(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    body: web::Json<CreatePatient>,
) -> Result<HttpResponse, ApiError> {
    create(&state, admin.id, body.into_inner(), None).await
}

/// Shared by the admin and doctor create endpoints.
pub(crate) async fn create(
    state: &AppState,
    actor: Uuid,
    req: CreatePatient,
    doctor: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let (email, profile) = patients::validate_new(req)?;
    let (user, password) = new_account(state, email, Role::Patient).await?;
    let patient = db::run(&state.pool, move |conn| {
        patients::create(conn, actor, &user, profile, doctor.as_deref())
    })
    .await?;
    tracing::info!(patient = %patient.id, "patient created");
    Ok(HttpResponse::Created().json(CreatedPatient {
        patient,
        temporary_password: password.to_string(),
    }))
}

/// One patient.
#[utoipa::path(get, path = "/api/v1/admin/patients/{id}", tag = "admin", operation_id = "get_patient",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Patient id")),
    responses(
        (status = 200, body = Patient),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_patient(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Patient>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(
        db::run(&state.pool, move |conn| {
            patients::get(conn, id, &Scope::All)
        })
        .await?,
    ))
}

/// Changes a patient's email or profile; absent fields stay, `null` clears optional ones.
#[utoipa::path(patch, path = "/api/v1/admin/patients/{id}", tag = "admin", operation_id = "update_patient",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Patient id")),
    request_body = UpdatePatient,
    responses(
        (status = 200, body = Patient),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn update_patient(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdatePatient>,
) -> Result<web::Json<Patient>, ApiError> {
    let id = id.into_inner();
    let (email, changes) = patients::validate_changes(body.into_inner())?;
    Ok(web::Json(
        db::run(&state.pool, move |conn| {
            patients::update(conn, admin.id, id, email.as_deref(), &changes)
        })
        .await?,
    ))
}

/// Puts the patient in the doctor's care (idempotent).
#[utoipa::path(put, path = "/api/v1/admin/patients/{id}/doctors/{doctor_id}", tag = "admin",
    operation_id = "assign_doctor",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Patient id"), ("doctor_id" = Uuid, Path, description = "Doctor id")),
    responses(
        (status = 204, description = "In care"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such patient or doctor", body = ErrorBody),
    ))]
pub async fn assign_doctor(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (patient, doctor) = path.into_inner();
    db::write(&state.pool, move |conn| {
        let p = users::get_with_role(conn, patient, Role::Patient)?;
        let d = users::get_with_role(conn, doctor, Role::Doctor)?;
        care::assign(conn, &p.id, &d.id)?;
        care_event(conn, admin.id, "care.assign", &p.id, &d.id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends the doctor's care of the patient.
#[utoipa::path(delete, path = "/api/v1/admin/patients/{id}/doctors/{doctor_id}", tag = "admin",
    operation_id = "unassign_doctor",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Patient id"), ("doctor_id" = Uuid, Path, description = "Doctor id")),
    responses(
        (status = 204, description = "No longer in care"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Not in this doctor's care", body = ErrorBody),
    ))]
pub async fn unassign_doctor(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (patient, doctor) = path.into_inner();
    db::write(&state.pool, move |conn| {
        care::unassign(conn, &patient.to_string(), &doctor.to_string())?;
        care_event(
            conn,
            admin.id,
            "care.unassign",
            &patient.to_string(),
            &doctor.to_string(),
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ledger entry for a change of the care relation.
fn care_event(
    conn: &mut crate::db::DbConn,
    admin: Uuid,
    action: &'static str,
    patient: &str,
    doctor: &str,
) -> Result<(), ApiError> {
    let patient_id = crate::accounts::users::parse_id(patient)?;
    crate::ledger::append(
        conn,
        &crate::ledger::NewEntry::new(Some(admin), action, format!("user:{patient}"))
            .patient(patient_id)
            .payload(serde_json::json!({ "patient_id": patient, "doctor_id": doctor })),
    )?;
    Ok(())
}
