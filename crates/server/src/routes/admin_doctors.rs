//! Admin: doctors.

use actix_web::{HttpResponse, get, patch, post, web};
use medvault_types::{
    CreateDoctor, CreatedDoctor, Doctor, ErrorBody, ListQuery, Page, UpdateDoctor, UserId,
};

use crate::accounts::doctors;
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::routes::responses::{AuthNotFoundOrInvalid, AuthOrInvalid, AuthOrNotFound};
use crate::state::AppState;

/// Lists doctors, newest first; `q` searches name and email.
#[utoipa::path(tag = "admin", operation_id = "list_doctors",
    security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = Page<Doctor>), AuthOrInvalid))]
#[get("/api/v1/admin/doctors")]
pub async fn list_doctors(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<ListQuery>,
) -> Result<web::Json<Page<Doctor>>, ApiError> {
    Ok(web::Json(doctors::list_page(&state, &query).await?))
}

/// Creates a doctor and their login; the temporary password is returned once.
#[utoipa::path(tag = "admin", operation_id = "create_doctor",
    security(("bearer" = [])),
    request_body = CreateDoctor,
    responses(
        (status = 201, body = CreatedDoctor),
        AuthOrInvalid,
        (status = 409, description = "Email already in use", body = ErrorBody),
    ))]
#[post("/api/v1/admin/doctors")]
pub async fn create_doctor(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    body: super::json::Json<CreateDoctor>,
) -> Result<HttpResponse, ApiError> {
    let created = doctors::create_account(&state, admin.id, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(created))
}

/// One doctor.
#[utoipa::path(tag = "admin", operation_id = "get_doctor",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "Doctor id")),
    responses((status = 200, body = Doctor), AuthOrNotFound))]
#[get("/api/v1/admin/doctors/{id}")]
pub async fn get_doctor(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<UserId>,
) -> Result<web::Json<Doctor>, ApiError> {
    Ok(web::Json(doctors::show(&state, id.into_inner()).await?))
}

/// Changes a doctor's email or profile; absent fields stay.
#[utoipa::path(tag = "admin", operation_id = "update_doctor",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "Doctor id")),
    request_body = UpdateDoctor,
    responses(
        (status = 200, body = Doctor),
        AuthNotFoundOrInvalid,
        (status = 409, body = ErrorBody),
    ))]
#[patch("/api/v1/admin/doctors/{id}")]
pub async fn update_doctor(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    id: web::Path<UserId>,
    body: super::json::Json<UpdateDoctor>,
) -> Result<web::Json<Doctor>, ApiError> {
    Ok(web::Json(
        doctors::change(&state, admin.id, id.into_inner(), body.into_inner()).await?,
    ))
}
