//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` attributes and the
//! DTOs' `ToSchema` derives. Served at `/api/openapi.json`, browsable at `/api/docs`, and
//! checked in as `openapi/openapi.json` (drift-tested).

use std::collections::BTreeMap;

use medvault_types::ErrorBody;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use crate::routes::{
    admin_doctors, admin_ledger, admin_patients, admin_users, auth, consent, doctor_patients,
    health, history, me, profile, records,
};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "medvault API",
        description = "Health records kept safe in object storage, released to doctors only with the patient's one-time consent. Every error answers with `ErrorBody`.",
    ),
    paths(
        health::healthz,
        health::readyz,
        auth::login,
        auth::refresh,
        auth::logout,
        me::get_me,
        me::change_password,
        profile::get_profile,
        profile::update_profile,
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
        history::add_visit_note,
        history::list_visit_notes,
        history::get_my_history,
        history::list_my_notes,
        history::get_my_access_log,
        admin_ledger::list_ledger,
        admin_ledger::verify_ledger,
        admin_ledger::get_overview,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Sign-in, token refresh, sign-out"),
        (name = "me", description = "The signed-in user"),
        (name = "admin", description = "Administration of doctors, patients and accounts"),
        (name = "doctor", description = "A doctor's patients"),
        (name = "records", description = "Upload, list, download and delete health records"),
        (name = "consent", description = "Access requests, one-time codes, grants, authenticator"),
        (name = "history", description = "Visit notes, the patient's timeline and access log"),
        (name = "ledger", description = "The tamper-evident ledger and the admin overview"),
    )
)]
pub struct ApiDoc;

/// Adds the `bearer` security scheme (JWT access tokens) the paths refer to.
struct BearerAuth;

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

/// `ErrorBody` answers at `statuses` with no description of their own: what
/// `(status = N, body = ErrorBody)` in `#[utoipa::path(responses(...))]` writes, for the types
/// below that stand for several such answers at once.
fn error_bodies(statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|status| {
            let body = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                .build();
            let response = ResponseBuilder::new()
                .description("")
                .content("application/json", body)
                .build();
            (status.to_string(), response.into())
        })
        .collect()
}

/// 401 (no or expired token) and 403 (wrong role, or not this user's to see), both
/// `ErrorBody`: what every signed-in route may answer. In `responses(...)` as `AuthErrors`.
pub struct AuthErrors;

impl IntoResponses for AuthErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_bodies(&[401, 403])
    }
}

/// 409 (already decided), 410 (expired) and 423 (locked after too many wrong codes), all
/// `ErrorBody`: an access request that can no longer be decided. In `responses(...)` as
/// `ClosedRequestErrors`.
pub struct ClosedRequestErrors;

impl IntoResponses for ClosedRequestErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_bodies(&[409, 410, 423])
    }
}

/// The spec as pretty JSON with a trailing newline, byte-for-byte what `medvault openapi`
/// prints and `openapi/openapi.json` holds.
pub fn spec_json() -> String {
    let mut json = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_tag_id_and_unique_id() {
        let doc = ApiDoc::openapi();
        let mut ids = std::collections::HashSet::new();
        for (path, item) in &doc.paths.paths {
            for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                .into_iter()
                .flatten()
            {
                let id = op.operation_id.clone().expect("operation id");
                assert!(ids.insert(id.clone()), "duplicate operation id {id}");
                assert!(
                    op.tags.as_ref().is_some_and(|t| !t.is_empty()),
                    "{path} untagged"
                );
                let public = path.starts_with("/healthz")
                    || path.starts_with("/readyz")
                    || path == "/api/v1/auth/login"
                    || path == "/api/v1/auth/refresh";
                assert_eq!(op.security.is_some(), !public, "{path} security");
            }
        }
        assert!(ids.len() >= 25);
    }
}
