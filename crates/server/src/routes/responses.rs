//! Error answers many operations share, as `IntoResponses` types for `#[utoipa::path]`'s
//! `responses(...)` list. Each stands for `(status = N, body = ErrorBody)` at its statuses, so
//! the spec reads exactly as if every handler had listed them by hand.
//!
//! [`ExtractorErrors`] adds, to every operation at once, the answers the app-wide extractors
//! give before a handler runs (a malformed body, query string or path, a missing token): they
//! depend only on what an operation reads, so they are derived from that, not listed by hand.

use std::collections::BTreeMap;

use medvault_types::ErrorBody;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, ToSchema};

/// An `ErrorBody` answer with `description`.
/// Every operation of `openapi`, whatever its method.
pub(crate) fn operations_mut(openapi: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

fn error_response(description: &str) -> RefOr<Response> {
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(ErrorBody::name())))
        .build();
    ResponseBuilder::new()
        .description(description)
        .content("application/json", body)
        .build()
        .into()
}

/// `ErrorBody` answers at `statuses`, with no description of their own.
fn error_bodies(statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|status| (status.to_string(), error_response("")))
        .collect()
}

macro_rules! error_set {
    ($(#[$doc:meta])* $name:ident: [$($status:literal),+]) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                error_bodies(&[$($status),+])
            }
        }
    };
}

error_set!(
    /// 401: no token, or an expired or revoked one. What a route open to any session
    /// (including one that must still change its password) may answer.
    SessionErrors: [401]
);
error_set!(
    /// 401 and 404: a route any signed-in role may call about an object the caller may not
    /// know of.
    SessionOrNotFound: [401, 404]
);
error_set!(
    /// 401 (no or expired token) and 403 (wrong role, or a password change pending): what
    /// every role-restricted route may answer.
    AuthErrors: [401, 403]
);
error_set!(
    /// 401, 403 and 404 (no such object, or not one the caller may know of).
    AuthOrNotFound: [401, 403, 404]
);
error_set!(
    /// 401, 403 and 422 (invalid query or body, per field).
    AuthOrInvalid: [401, 403, 422]
);
error_set!(
    /// 401, 403, 404 and 422.
    AuthNotFoundOrInvalid: [401, 403, 404, 422]
);
error_set!(
    /// 409 (already decided), 410 (expired) and 423 (locked after too many wrong codes): an
    /// access request that can no longer be decided.
    ClosedRequestErrors: [409, 410, 423]
);

/// Documents what `crate::error::extractor_configs` and the auth extractors answer before a
/// handler runs, on every operation that reads the input concerned (a status the operation
/// already documents keeps its own description):
/// * a JSON body: 400 (not JSON), 413 (over `http.json_limit_bytes`), 415 (not declared
///   `application/json`), 422 (a field missing or of the wrong type);
/// * query parameters: 400 (a value that does not parse, e.g. `page=x`);
/// * path parameters: 404 (an id that is not a UUID names no object);
/// * a bearer token: 401 (none, expired, revoked).
pub struct ExtractorErrors;

impl ExtractorErrors {
    fn document(op: &mut Operation) {
        let reads = |place: ParameterIn| {
            op.parameters
                .iter()
                .flatten()
                .any(|p| p.parameter_in == place)
        };
        let json_body = op
            .request_body
            .as_ref()
            .is_some_and(|b| b.content.contains_key("application/json"));
        let mut add: Vec<(u16, &str)> = Vec::new();
        if json_body {
            add.extend([
                (400, "Malformed JSON body"),
                (413, "Body over the size limit"),
                (415, "Body not declared as `application/json`"),
                (422, "A field missing or of the wrong type, or invalid"),
            ]);
        }
        if reads(ParameterIn::Query) {
            add.push((400, "Malformed query string"));
        }
        if reads(ParameterIn::Path) {
            add.push((404, "No such object (an id that is not a UUID names none)"));
        }
        if op.security.is_some() {
            add.push((401, "No token, or an expired or revoked one"));
        }
        for (status, description) in add {
            op.responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| error_response(description));
        }
    }
}

impl Modify for ExtractorErrors {
    fn modify(&self, openapi: &mut OpenApi) {
        for op in operations_mut(openapi) {
            Self::document(op);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_list_their_statuses() {
        assert_eq!(
            AuthNotFoundOrInvalid::responses()
                .keys()
                .cloned()
                .collect::<Vec<_>>(),
            ["401", "403", "404", "422"]
        );
        assert_eq!(SessionErrors::responses().len(), 1);
    }

    /// What the extractors answer is documented wherever they run (schemathesis found 400,
    /// 413, 415 and 422 undocumented on most operations).
    #[test]
    fn extractor_errors_are_documented() {
        use utoipa::OpenApi as _;
        let doc = crate::routes::ApiDoc::openapi();
        let statuses = |path: &str, method: &str| -> Vec<String> {
            let item = &doc.paths.paths[path];
            let op = match method {
                "get" => item.get.as_ref(),
                "post" => item.post.as_ref(),
                "patch" => item.patch.as_ref(),
                _ => item.delete.as_ref(),
            };
            op.expect("operation")
                .responses
                .responses
                .keys()
                .cloned()
                .collect()
        };
        // A JSON body, a path id and a token.
        let note = statuses("/api/v1/doctor/patients/{id}/notes", "post");
        for status in ["400", "401", "404", "413", "415", "422"] {
            assert!(note.contains(&status.to_string()), "{status} in {note:?}");
        }
        // A query string.
        let list = statuses("/api/v1/grants", "get");
        for status in ["400", "401", "422"] {
            assert!(list.contains(&status.to_string()), "{status} in {list:?}");
        }
        // Nothing read, nothing added: no body, query or path, and no token.
        assert_eq!(statuses("/healthz", "get"), ["200"]);
        // A documented status keeps its own description.
        let upload = &doc.paths.paths["/api/v1/records"]
            .post
            .as_ref()
            .expect("op");
        let Some(RefOr::T(bad)) = upload.responses.responses.get("400") else {
            panic!("upload documents 400");
        };
        assert_eq!(bad.description, "Malformed or truncated multipart body");
    }
}
