//! The API's error type: one enum, one JSON envelope, causes logged but never sent.

use std::collections::BTreeMap;
use std::fmt::Display;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, error as actix_error, web};
use medvault_types::{ErrorBody, ErrorDetail};

/// Field name -> message, for 422 answers.
pub type FieldErrors = BTreeMap<String, String>;

/// Everything a handler can fail with, each mapped to one status and code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body or query could not be read at all.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401: no valid credentials.
    #[error("unauthorized")]
    Unauthorized,
    /// 401: sign-in failed (same answer for unknown email and wrong password).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 403: signed in, but this role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// 403: the temporary password must be changed first.
    #[error("password change required")]
    PasswordChangeRequired,
    /// 403: the account must set up a sign-in second factor first (staff).
    #[error("second factor set-up required")]
    MfaSetupRequired,
    /// 403: a sensitive action needs the password again (`POST /api/v1/auth/reauthenticate`)
    /// within the last few minutes (`auth::recent`).
    #[error("recent authentication required")]
    ReauthRequired,
    /// 403: emergency access is switched off in this deployment's configuration.
    #[error("emergency access disabled")]
    EmergencyDisabled,
    /// 404: no such object, or not one the caller may know about.
    #[error("not found")]
    NotFound,
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: conflicts with existing data (e.g. email taken).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// 413: body too large.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415: wrong content type.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 413: the upload would exceed the patient's storage quota.
    #[error("quota exceeded")]
    QuotaExceeded,
    /// 415 with a specific message (uploads: what the bytes are, what is accepted).
    #[error("unsupported type: {0}")]
    UnsupportedType(String),
    /// 403: a doctor without a live grant for this record (recorded in the ledger).
    #[error("no live grant")]
    NoGrant,
    /// 423: a consent request locked after too many wrong codes.
    #[error("locked")]
    Locked,
    /// 410: a one-time code or request past its lifetime.
    #[error("expired: {0}")]
    Expired(&'static str),
    /// 422: a wrong one-time code; `remaining` attempts before the request locks.
    #[error("wrong code")]
    WrongCode {
        /// Attempts left.
        remaining: u32,
    },
    /// 503: object storage could not serve the request (cause logged, never sent).
    #[error("storage: {0}")]
    Storage(String),
    /// 422: well-formed but invalid; per-field messages.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// 429: too many attempts; retry after the given seconds.
    #[error("too many attempts")]
    TooManyAttempts {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// 429: this user already has as many uploads and downloads running as allowed.
    #[error("too many transfers")]
    TooManyTransfers {
        /// Seconds after which a retry may succeed.
        retry_after: u64,
    },
    /// 503: the server already runs as many uploads and downloads as it allows.
    #[error("busy")]
    Busy {
        /// Seconds after which a retry may succeed.
        retry_after: u64,
    },
    /// 503: a dependency (database pool) is unavailable. The cause is logged.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 507: the database's or a bucket's disk is full; nothing was changed. The cause is
    /// logged.
    #[error("insufficient storage: {0}")]
    InsufficientStorage(String),
    /// 500: a bug or an unexpected failure. The cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 500 carrying `cause` for the log.
    pub fn internal(cause: impl Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// A 503 carrying `cause` for the log.
    pub fn unavailable(cause: impl Display) -> Self {
        Self::Unavailable(cause.to_string())
    }

    /// An engine failure: 503 when storage is unreachable or too damaged to rebuild a record,
    /// 500 for everything else (keys, manifests). The cause is logged, never sent.
    pub fn storage(e: medvault_engine::EngineError) -> Self {
        use medvault_engine::EngineError as E;
        match e {
            E::Write {
                source: medvault_engine::StoreError::Io(ref io),
                ..
            } if io.kind() == std::io::ErrorKind::StorageFull => {
                Self::InsufficientStorage(e.to_string())
            }
            E::Write { .. }
            | E::TooManyErasures { .. }
            | E::Store { .. }
            | E::TooFewUsableBuckets { .. }
            | E::StripeTimeout { .. } => Self::Storage(e.to_string()),
            other => Self::internal(other),
        }
    }

    /// A 422 for one field.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        Self::Validation(BTreeMap::from([(name.to_string(), message.into())]))
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Forbidden => "forbidden",
            Self::PasswordChangeRequired => "password_change_required",
            Self::MfaSetupRequired => "mfa_setup_required",
            Self::ReauthRequired => "reauth_required",
            Self::EmergencyDisabled => "emergency_disabled",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType | Self::UnsupportedType(_) => "unsupported_media_type",
            Self::Validation(_) => "validation_failed",
            Self::QuotaExceeded => "quota_exceeded",
            Self::NoGrant => "no_grant",
            Self::Locked => "locked",
            Self::Expired(_) => "expired",
            Self::WrongCode { .. } => "wrong_code",
            Self::Storage(_) => "storage_unavailable",
            Self::InsufficientStorage(_) => "insufficient_storage",
            Self::TooManyTransfers { .. } => "too_many_transfers",
            Self::Busy { .. } => "busy",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn public_message(&self) -> String {
        match self {
            Self::BadRequest(m) | Self::UnsupportedType(m) => m.clone(),
            Self::Unauthorized => "authentication required".into(),
            Self::InvalidCredentials => "invalid email or password".into(),
            Self::Forbidden => "not allowed for this role".into(),
            Self::PasswordChangeRequired => "change your temporary password first".into(),
            Self::MfaSetupRequired => {
                "set up your sign-in authenticator app first (required for staff)".into()
            }
            Self::ReauthRequired => {
                "confirm your password first (it is asked again before sensitive actions)".into()
            }
            Self::EmergencyDisabled => "emergency access is disabled on this server".into(),
            Self::NotFound => "not found".into(),
            Self::MethodNotAllowed => "method not allowed on this path".into(),
            Self::Conflict(m) | Self::Expired(m) => (*m).into(),
            Self::PayloadTooLarge => "request body too large".into(),
            Self::UnsupportedMediaType => "unsupported content type".into(),
            Self::Validation(_) => "some fields are invalid".into(),
            Self::QuotaExceeded => "this upload would exceed your storage quota".into(),
            Self::NoGrant => "no live access grant for this record".into(),
            Self::Locked => "locked after too many wrong codes".into(),
            Self::WrongCode { remaining } => format!("wrong code; {remaining} attempts left"),
            Self::Storage(_) => "storage temporarily unavailable".into(),
            Self::InsufficientStorage(_) => "storage is full; nothing was changed".into(),
            Self::TooManyTransfers { .. } => {
                "too many uploads and downloads at once; try again shortly".into()
            }
            Self::Busy { .. } => {
                "the server is busy with other transfers; try again shortly".into()
            }
            Self::TooManyAttempts { .. } => "too many attempts; try again later".into(),
            Self::Unavailable(_) => "service temporarily unavailable".into(),
            Self::Internal(_) => "internal error".into(),
        }
    }
}

/// The `Retry-After` (seconds) sent with a 503.
const UNAVAILABLE_RETRY_SECS: u32 = 5;

/// Database messages that mean "try again": SQLite gave up waiting for a lock (busy
/// timeout); PostgreSQL is shutting down, starting up or dropped the connection (SQLSTATE
/// classes 08 and 57P, which diesel reports by message only).
const RETRYABLE: &[&str] = &[
    "database is locked",
    "database is busy",
    "terminating connection",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "server closed the connection",
    "no connection to the server",
    "connection to server",
    "could not connect to server",
];

/// Database messages that mean the disk is full (SQLite `SQLITE_FULL`, PostgreSQL
/// `ENOSPC`): the transaction was rolled back, so answering 507 leaves a consistent state.
const DISK_FULL: &[&str] = &["database or disk is full", "No space left on device"];

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => Self::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::Conflict("already exists")
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                Self::Unavailable("serialization failure".into())
            }
            // The connection is gone (the server restarted or shut down): retryable.
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Self::Unavailable(info.message().to_string()),
            Error::DatabaseError(_, info) => {
                let message = info.message();
                if DISK_FULL.iter().any(|m| message.contains(m)) {
                    Self::InsufficientStorage(message.to_string())
                } else if RETRYABLE.iter().any(|m| message.contains(m)) {
                    Self::Unavailable(message.to_string())
                } else {
                    Self::internal(message)
                }
            }
            other => Self::internal(other),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden
            | Self::PasswordChangeRequired
            | Self::MfaSetupRequired
            | Self::NoGrant
            | Self::ReauthRequired
            | Self::EmergencyDisabled => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge | Self::QuotaExceeded => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType | Self::UnsupportedType(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            Self::Validation(_) | Self::WrongCode { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Locked => StatusCode::LOCKED,
            Self::Expired(_) => StatusCode::GONE,
            Self::TooManyAttempts { .. } | Self::TooManyTransfers { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Busy { .. } | Self::Unavailable(_) | Self::Storage(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(%cause, "request failed"),
            Self::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            Self::Storage(cause) => tracing::error!(%cause, "storage failure"),
            Self::InsufficientStorage(cause) => tracing::error!(%cause, "disk full"),
            _ => {}
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().into(),
                message: self.public_message(),
                fields: match self {
                    Self::Validation(fields) => Some(fields.clone()),
                    _ => None,
                },
            },
        };
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::TooManyAttempts { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            // A refused transfer: an upload's body was not read, and keeping the connection
            // would make the server read it (up to a file's size) only to drop it.
            Self::TooManyTransfers { retry_after } | Self::Busy { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
                response.force_close();
            }
            Self::Unauthorized | Self::InvalidCredentials => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            // A restart or an outage: a hint for well-behaved clients, not a promise.
            Self::Unavailable(_) | Self::Storage(_) => {
                response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_SECS.to_string()));
            }
            _ => {}
        }
        response.json(body)
    }
}

/// Bad JSON bodies: syntax errors and missing content type are 400, wrong types or missing
/// fields 422 (naming serde's complaint), too large 413.
pub fn json_error(err: actix_error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_error::JsonPayloadError as E;
    let api = match err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => ApiError::PayloadTooLarge,
        E::ContentType => ApiError::UnsupportedMediaType,
        E::Deserialize(e) if e.is_data() => ApiError::field("body", e.to_string()),
        E::Deserialize(e) => ApiError::BadRequest(format!("malformed JSON: {e}")),
        _ => ApiError::BadRequest("could not read the request body".into()),
    };
    api.into()
}

/// Bad query strings are 400 with serde's complaint.
#[expect(
    clippy::needless_pass_by_value,
    reason = "signature fixed by actix's QueryConfig::error_handler"
)]
pub fn query_error(err: actix_error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid query string: {err}")).into()
}

/// Path segments that do not parse (e.g. a malformed UUID) are 404: no such object.
pub fn path_error(err: actix_error::PathError, _req: &HttpRequest) -> actix_web::Error {
    drop(err);
    ApiError::NotFound.into()
}

/// Extractor configuration applied to the whole app.
pub fn extractor_configs(
    json_limit: usize,
) -> (web::JsonConfig, web::QueryConfig, web::PathConfig) {
    (
        web::JsonConfig::default()
            .limit(json_limit)
            .error_handler(json_error),
        web::QueryConfig::default().error_handler(query_error),
        web::PathConfig::default().error_handler(path_error),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn envelope_hides_internal_causes() {
        let err = ApiError::internal("connection string postgres://secret@db");
        let resp = err.error_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(resp.into_body()).await.unwrap();
        let parsed: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed.error.code, "internal");
        assert!(!String::from_utf8_lossy(&body).contains("secret"));
    }

    #[actix_web::test]
    async fn validation_lists_fields() {
        let resp = ApiError::field("email", "not an email address").error_response();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = to_bytes(resp.into_body()).await.unwrap();
        let parsed: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            parsed
                .error
                .fields
                .unwrap()
                .get("email")
                .map(String::as_str),
            Some("not an email address")
        );
    }

    #[test]
    fn sqlite_lock_timeout_is_retryable() {
        let e = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new(String::from("database is locked")),
        );
        assert_eq!(
            ApiError::from(e).status_code(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn lost_connections_are_retryable_and_full_disks_507() {
        use diesel::result::{DatabaseErrorKind as K, Error};
        let db = |kind, message: &str| Error::DatabaseError(kind, Box::new(message.to_owned()));
        for e in [
            db(K::ClosedConnection, "closed"),
            db(K::UnableToSendCommand, "no connection to the server"),
            db(
                K::Unknown,
                "terminating connection due to administrator command",
            ),
            db(K::Unknown, "FATAL: the database system is shutting down"),
        ] {
            let resp = ApiError::from(e).error_response();
            assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "5");
        }
        for e in [
            db(K::Unknown, "database or disk is full"),
            db(
                K::Unknown,
                "could not extend file \"base/1/2\": No space left on device",
            ),
        ] {
            assert_eq!(
                ApiError::from(e).status_code(),
                StatusCode::INSUFFICIENT_STORAGE
            );
        }
        assert_eq!(
            ApiError::from(db(K::Unknown, "syntax error")).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn unique_violation_is_conflict() {
        let e = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            Box::new(String::from("dup")),
        );
        assert_eq!(ApiError::from(e).status_code(), StatusCode::CONFLICT);
    }
}
