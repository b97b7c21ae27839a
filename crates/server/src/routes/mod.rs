//! HTTP routes: one module per resource, all registered from [`config`].

pub mod admin_doctors;
pub mod admin_patients;
pub mod admin_users;
pub mod auth;
pub mod doctor_patients;
pub mod health;
pub mod me;
pub mod profile;

use actix_web::{Resource, web};

use crate::error::method_not_allowed;

/// A resource whose unsupported methods answer 405 in the JSON envelope.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// Registers every API route.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").route(web::get().to(health::healthz)))
        .service(resource("/readyz").route(web::get().to(health::readyz)))
        .service(
            web::scope("/api/v1")
                .service(resource("/auth/login").route(web::post().to(auth::login)))
                .service(resource("/auth/refresh").route(web::post().to(auth::refresh)))
                .service(resource("/auth/logout").route(web::post().to(auth::logout)))
                .service(resource("/me").route(web::get().to(me::get_me)))
                .service(resource("/me/password").route(web::post().to(me::change_password)))
                .service(
                    resource("/me/profile")
                        .route(web::get().to(profile::get_profile))
                        .route(web::patch().to(profile::update_profile)),
                )
                .service(
                    resource("/admin/doctors")
                        .route(web::get().to(admin_doctors::list_doctors))
                        .route(web::post().to(admin_doctors::create_doctor)),
                )
                .service(
                    resource("/admin/doctors/{id}")
                        .route(web::get().to(admin_doctors::get_doctor))
                        .route(web::patch().to(admin_doctors::update_doctor)),
                )
                .service(
                    resource("/admin/patients")
                        .route(web::get().to(admin_patients::list_patients))
                        .route(web::post().to(admin_patients::create_patient)),
                )
                .service(
                    resource("/admin/patients/{id}")
                        .route(web::get().to(admin_patients::get_patient))
                        .route(web::patch().to(admin_patients::update_patient)),
                )
                .service(
                    resource("/admin/patients/{id}/doctors/{doctor_id}")
                        .route(web::put().to(admin_patients::assign_doctor))
                        .route(web::delete().to(admin_patients::unassign_doctor)),
                )
                .service(
                    resource("/admin/users/{id}/deactivate")
                        .route(web::post().to(admin_users::deactivate_user)),
                )
                .service(
                    resource("/admin/users/{id}/reactivate")
                        .route(web::post().to(admin_users::reactivate_user)),
                )
                .service(
                    resource("/admin/users/{id}/reset-password")
                        .route(web::post().to(admin_users::reset_password)),
                )
                .service(
                    resource("/doctor/patients")
                        .route(web::get().to(doctor_patients::list_my_patients))
                        .route(web::post().to(doctor_patients::create_my_patient)),
                )
                .service(
                    resource("/doctor/patients/{id}")
                        .route(web::get().to(doctor_patients::get_my_patient)),
                ),
        );
}

/// A new login row for `email` with a fresh temporary password (returned once, hashed here).
async fn new_account(
    state: &crate::state::AppState,
    email: String,
    role: medvault_types::Role,
) -> Result<(crate::accounts::users::UserRow, zeroize::Zeroizing<String>), crate::error::ApiError> {
    let password = crate::auth::password::temporary_password();
    let hash = state.hasher.hash(password.clone()).await?;
    Ok((
        crate::accounts::users::UserRow::new(email, role, hash, true),
        password,
    ))
}
