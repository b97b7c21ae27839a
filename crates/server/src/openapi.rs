//! The OpenAPI document, derived from the route table in [`crate::routes`] (the handlers'
//! `#[utoipa::path]` attributes) and the DTOs' `ToSchema` derives. Served at
//! `/api/openapi.json`, browsable at `/api/docs`, and checked in as `openapi/openapi.json`
//! (drift-tested).

use utoipa::OpenApi;

pub use crate::routes::ApiDoc;

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
                    || path == "/api/v1/auth/login/mfa"
                    || path == "/api/v1/auth/unlock"
                    || path == "/api/v1/auth/refresh";
                assert_eq!(op.security.is_some(), !public, "{path} security");
            }
        }
        assert!(ids.len() >= 25);
    }
}
