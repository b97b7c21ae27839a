//! HTTP routes: one module per resource. Each handler extracts its inputs, makes one call into
//! a domain module, and maps the result to a response; no SQL and no transaction here.
//!
//! The route table below is written once: [`api!`] turns it into both the actix registration
//! ([`config`]) and the OpenAPI document ([`ApiDoc`]). Each handler's path and method come from
//! its actix attribute (`#[get("/api/v1/...")]`), which `#[utoipa::path]` reads too.

pub mod admin_doctors;
pub mod admin_ledger;
pub mod admin_patients;
pub mod admin_users;
pub mod auth;
pub mod consent;
pub mod consent_locks;
pub mod doctor_patients;
pub mod emergency;
pub mod health;
pub mod history;
pub mod json;
pub mod links;
pub mod me;
pub mod mfa;
pub mod my_care;
pub mod profile;
pub mod records;
pub mod responses;
pub mod session_cookie;

use std::sync::OnceLock;

use actix_web::dev::ResourceDef;
use actix_web::web;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use links::Links;
use responses::ExtractorErrors;

/// Writes [`config`] and [`ApiDoc`] from one list of handlers.
macro_rules! api {
    ($($module:ident :: $handler:ident),+ $(,)?) => {
        /// Registers every operation of the route table.
        pub fn config(cfg: &mut web::ServiceConfig) {
            $(cfg.service($module::$handler);)+
        }

        /// The API description, derived from the route table.
        #[derive(OpenApi)]
        #[openapi(
            info(
                title = "medvault API",
                description = "Health records kept safe in object storage, released to doctors only with the patient's one-time consent. Every error answers with `ErrorBody`.",
            ),
            paths($($module::$handler),+),
            modifiers(&BearerAuth, &ExtractorErrors, &Links),
            tags(
                (name = "health", description = "Liveness and readiness"),
                (name = "auth", description = "Sign-in, token refresh, sign-out, re-authentication"),
                (name = "me", description = "The signed-in user"),
                (name = "admin", description = "Administration of doctors, patients and accounts"),
                (name = "doctor", description = "A doctor's patients"),
                (name = "records", description = "Upload, list, download and delete health records"),
                (name = "consent", description = "Access requests, one-time codes, grants, authenticator"),
                (name = "emergency", description = "Emergency (break-glass) access: opened by a doctor, seen by the patient, reviewed by an administrator"),
                (name = "history", description = "Visit notes, the patient's timeline and access log"),
                (name = "ledger", description = "The tamper-evident ledger and the admin overview"),
            )
        )]
        pub struct ApiDoc;
    };
}

api! {
    health::healthz,
    health::readyz,
    auth::login,
    auth::login_mfa,
    auth::unlock,
    auth::refresh,
    auth::logout,
    auth::reauthenticate,
    me::get_me,
    me::change_password,
    me::confirm_email,
    mfa::get_mfa,
    mfa::start_enrollment,
    mfa::confirm_enrollment,
    mfa::disable,
    mfa::renew_recovery_codes,
    profile::get_profile,
    profile::update_profile,
    my_care::list_my_care,
    my_care::add_my_care_doctor,
    my_care::remove_my_care_doctor,
    admin_doctors::list_doctors,
    admin_doctors::create_doctor,
    admin_doctors::get_doctor,
    admin_doctors::update_doctor,
    admin_patients::list_patients,
    admin_patients::create_patient,
    admin_patients::get_patient,
    admin_patients::update_patient,
    admin_patients::assign_doctor,
    admin_patients::unassign_doctor,
    admin_users::deactivate_user,
    admin_users::reactivate_user,
    admin_users::reset_password,
    admin_users::unlock_user,
    mfa::reset_user_mfa,
    doctor_patients::list_my_patients,
    doctor_patients::create_my_patient,
    doctor_patients::get_my_patient,
    records::upload_record,
    records::list_records,
    records::get_record,
    records::download_record,
    records::delete_record,
    records::get_my_storage,
    consent::create_access_request,
    consent::list_access_requests,
    consent::get_access_request,
    consent::redeem_access_request,
    consent::approve_access_request,
    consent::deny_access_request,
    consent::list_grants,
    consent::revoke_grant,
    consent::get_totp,
    consent::enrol_totp,
    consent::confirm_totp,
    consent::remove_totp,
    consent_locks::get_my_consent_locks,
    consent_locks::lift_my_consent_locks,
    history::add_visit_note,
    history::list_visit_notes,
    history::get_my_history,
    history::list_my_notes,
    history::get_my_access_log,
    emergency::open_emergency_access,
    emergency::list_emergency_accesses,
    emergency::get_emergency_access,
    emergency::end_emergency_access,
    emergency::review_emergency_access,
    admin_ledger::list_ledger,
    admin_ledger::verify_ledger,
    admin_ledger::get_overview,
    admin_ledger::get_storage,
}

/// Adds the `bearer` security scheme (JWT access tokens) the operations refer to.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The methods `path` supports when it is one of the API's paths (`None` otherwise), for
/// the `Allow` header of a 405: a request that reached the fallback on such a path used a
/// method the path does not support (405, not 404). Several templates may match one path
/// (`/api/v1/me/totp` and `/api/v1/me/{...}` alike); their methods are merged.
pub fn allowed_methods(path: &str) -> Option<String> {
    static DEFS: OnceLock<Vec<(ResourceDef, Vec<&'static str>)>> = OnceLock::new();
    let defs = DEFS.get_or_init(|| {
        ApiDoc::openapi()
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, present)| present.then_some(m))
                .collect();
                (ResourceDef::new(template.as_str()), methods)
            })
            .collect()
    });
    let mut allowed: Vec<&str> = defs
        .iter()
        .filter(|(def, _)| def.is_match(path))
        .flat_map(|(_, methods)| methods.iter().copied())
        .collect();
    if allowed.is_empty() {
        return None;
    }
    allowed.sort_unstable();
    allowed.dedup();
    Some(allowed.join(", "))
}
