//! HTTP routes: one module per resource, all registered from [`config`].

pub mod admin_doctors;
pub mod admin_ledger;
pub mod admin_patients;
pub mod admin_users;
pub mod auth;
pub mod consent;
pub mod doctor_patients;
pub mod health;
pub mod history;
pub mod me;
pub mod profile;
pub mod records;

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
                )
                .configure(records_routes),
        );
}

/// Records, consent, clinical history and ledger routes (inside `/api/v1`).
fn records_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/records")
            .route(web::get().to(records::list_records))
            .route(web::post().to(records::upload_record)),
    )
    .service(
        resource("/records/{id}")
            .route(web::get().to(records::get_record))
            .route(web::delete().to(records::delete_record)),
    )
    .service(resource("/records/{id}/content").route(web::get().to(records::download_record)))
    .service(resource("/me/storage").route(web::get().to(records::get_my_storage)))
    .service(
        resource("/access-requests")
            .route(web::get().to(consent::list_access_requests))
            .route(web::post().to(consent::create_access_request)),
    )
    .service(resource("/access-requests/{id}").route(web::get().to(consent::get_access_request)))
    .service(
        resource("/access-requests/{id}/redeem")
            .route(web::post().to(consent::redeem_access_request)),
    )
    .service(
        resource("/access-requests/{id}/approve")
            .route(web::post().to(consent::approve_access_request)),
    )
    .service(
        resource("/access-requests/{id}/deny").route(web::post().to(consent::deny_access_request)),
    )
    .service(resource("/grants").route(web::get().to(consent::list_grants)))
    .service(resource("/grants/{id}").route(web::delete().to(consent::revoke_grant)))
    .service(
        resource("/me/totp")
            .route(web::get().to(consent::get_totp))
            .route(web::post().to(consent::enrol_totp))
            .route(web::delete().to(consent::remove_totp)),
    )
    .service(resource("/me/totp/confirm").route(web::post().to(consent::confirm_totp)))
    .service(
        resource("/doctor/patients/{id}/notes")
            .route(web::get().to(history::list_visit_notes))
            .route(web::post().to(history::add_visit_note)),
    )
    .service(resource("/me/notes").route(web::get().to(history::list_my_notes)))
    .service(resource("/me/history").route(web::get().to(history::get_my_history)))
    .service(resource("/me/access-log").route(web::get().to(history::get_my_access_log)))
    .service(resource("/admin/ledger").route(web::get().to(admin_ledger::list_ledger)))
    .service(resource("/admin/ledger/verify").route(web::get().to(admin_ledger::verify_ledger)))
    .service(resource("/admin/overview").route(web::get().to(admin_ledger::get_overview)));
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
