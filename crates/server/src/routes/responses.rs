//! Error answers many operations share, as `IntoResponses` types for `#[utoipa::path]`'s
//! `responses(...)` list. Each stands for `(status = N, body = ErrorBody)` at its statuses, so
//! the spec reads exactly as if every handler had listed them by hand.

use std::collections::BTreeMap;

use medvault_types::ErrorBody;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, ToSchema};

/// `ErrorBody` answers at `statuses`, with no description of their own.
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
}
