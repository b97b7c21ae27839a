//! Admin: doctors.

use actix_web::{HttpResponse, web};
use medvault_types::{
    CreateDoctor, CreatedDoctor, Doctor, ErrorBody, ListQuery, Page, Role, UpdateDoctor,
};
use uuid::Uuid;

use crate::accounts::doctors;
use crate::accounts::search::Paging;
use crate::auth::AdminUser;
use crate::db;
use crate::error::ApiError;
use crate::routes::new_account;
use crate::state::AppState;

/// Lists doctors, newest first; `q` searches name and email.
#[utoipa::path(get, path = "/api/v1/admin/doctors", tag = "admin", operation_id = "list_doctors",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = Page<Doctor>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn list_doctors(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<ListQuery>,
) -> Result<web::Json<Page<Doctor>>, ApiError> {
    let paging = Paging::from_query(&query)?;
    Ok(web::Json(
        db::run(&state.pool, move |conn| doctors::list(conn, &paging)).await?,
    ))
}

/// Creates a doctor and their login; the temporary password is returned once.
#[utoipa::path(post, path = "/api/v1/admin/doctors", tag = "admin", operation_id = "create_doctor",
    security(("bearer" = [])),
    request_body = CreateDoctor,
    responses(
        (status = 201, body = CreatedDoctor),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "Email already in use", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create_doctor(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    body: web::Json<CreateDoctor>,
) -> Result<HttpResponse, ApiError> {
    let (email, profile) = doctors::validate_new(body.into_inner())?;
    let (user, password) = new_account(&state, email, Role::Doctor).await?;
    let doctor = db::run(&state.pool, move |conn| {
        doctors::create(conn, admin.id, &user, profile)
    })
    .await?;
    tracing::info!(doctor = %doctor.id, "doctor created");
    Ok(HttpResponse::Created().json(CreatedDoctor {
        doctor,
        temporary_password: password.to_string(),
    }))
}

/// One doctor.
#[utoipa::path(get, path = "/api/v1/admin/doctors/{id}", tag = "admin", operation_id = "get_doctor",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doctor id")),
    responses(
        (status = 200, body = Doctor),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_doctor(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Doctor>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(
        db::run(&state.pool, move |conn| doctors::get(conn, id)).await?,
    ))
}

/// Changes a doctor's email or profile; absent fields stay.
#[utoipa::path(patch, path = "/api/v1/admin/doctors/{id}", tag = "admin", operation_id = "update_doctor",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doctor id")),
    request_body = UpdateDoctor,
    responses(
        (status = 200, body = Doctor),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn update_doctor(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdateDoctor>,
) -> Result<web::Json<Doctor>, ApiError> {
    let id = id.into_inner();
    let (email, changes) = doctors::validate_changes(body.into_inner())?;
    Ok(web::Json(
        db::run(&state.pool, move |conn| {
            doctors::update(conn, admin.id, id, email.as_deref(), &changes)
        })
        .await?,
    ))
}
