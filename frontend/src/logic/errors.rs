//! Turning what the API answered into words a person can act on.
//!
//! The server answers every error with one envelope, `{"error": {"code", "message", ...}}`; a
//! 422 may name the offending fields. The screens show [`ApiError::message`] next to the form or
//! button that caused it and [`ApiError::field`] under each named input.

use std::collections::BTreeMap;

/// An error from a call to the API, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status, or 0 when the request never got an answer.
    pub status: u16,
    /// The envelope's machine code (`validation`, `not_found`, ...), or a local one.
    pub code: String,
    /// What to tell the user.
    pub message: String,
    /// Per-field messages of a 422, keyed by the request's field name.
    pub fields: BTreeMap<String, String>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// The request did not reach the server or its answer was lost.
    pub fn network(detail: &str) -> Self {
        let _ = detail;
        Self::local(
            0,
            "network",
            "Cannot reach medvault. Check your connection and try again.",
        )
    }

    /// An error made up on this side (validation before sending, unreadable answer).
    pub fn local(status: u16, code: &str, message: &str) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            fields: BTreeMap::new(),
        }
    }

    /// The session is over and could not be renewed.
    pub fn session_expired() -> Self {
        Self::local(
            401,
            "session_expired",
            "Your session has ended. Please sign in again.",
        )
    }

    /// Builds the error from a non-2xx answer: the envelope's message when there is one, a
    /// wording by status otherwise. Server messages are used as they are (they are written for
    /// people and never carry internals); statuses the server does not explain get a default.
    pub fn from_response(status: u16, body: &str) -> Self {
        let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
        let err = parsed.as_ref().and_then(|v| v.get("error"));
        let code = err
            .and_then(|e| e.get("code"))
            .and_then(serde_json::Value::as_str)
            .map_or_else(|| default_code(status).to_string(), str::to_string);
        let server_message = err
            .and_then(|e| e.get("message"))
            .and_then(serde_json::Value::as_str)
            .filter(|m| !m.trim().is_empty());
        let fields = err.map(field_messages).unwrap_or_default();
        let message = if status >= 500 {
            default_message(status).to_string()
        } else if let Some(friendly) = friendly_message(&code) {
            friendly.to_string()
        } else {
            server_message.map_or_else(|| default_message(status).to_string(), sentence)
        };
        Self {
            status,
            code,
            message,
            fields,
        }
    }

    /// The message for one field of a rejected form, if the server named it.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields.get(name).cloned()
    }

    /// Whether renewing the session and trying again could help.
    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }
}

/// Wording for the codes whose server message is terse or technical.
fn friendly_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_credentials" => "The e-mail address or password is not right.",
        "unauthorized" => "Your session has ended. Please sign in again.",
        "forbidden" => "You are not allowed to do that.",
        "password_change_required" => "Change your temporary password first.",
        "mfa_setup_required" => {
            "Set up your sign-in authenticator app first: staff accounts need one before anything else."
        }
        "not_found" => default_message(404),
        "payload_too_large" => "The file is too large.",
        "unsupported_media_type" => {
            "This kind of file is not accepted, or its content does not match its type."
        }
        "validation_failed" => "Some fields need attention.",
        _ => return None,
    })
}

/// A server message as a sentence: capital first letter, final full stop.
fn sentence(message: &str) -> String {
    let m = message.trim();
    let mut chars = m.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Field messages in any of the shapes an envelope may carry them: an object
/// (`"fields": {"email": "..."}`) or a list (`"details": [{"field": "email", "message": "..."}]`).
fn field_messages(err: &serde_json::Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for key in ["fields", "details", "field_errors", "errors"] {
        match err.get(key) {
            Some(serde_json::Value::Object(map)) => {
                for (k, v) in map {
                    if let Some(text) = text_of(v) {
                        out.insert(k.clone(), text);
                    }
                }
            }
            Some(serde_json::Value::Array(items)) => {
                for item in items {
                    let name = item.get("field").and_then(serde_json::Value::as_str);
                    let text = item.get("message").and_then(text_of);
                    if let (Some(name), Some(text)) = (name, text) {
                        out.insert(name.to_string(), text);
                    }
                }
            }
            _ => {}
        }
    }
    if let (Some(name), Some(msg)) = (
        err.get("field").and_then(serde_json::Value::as_str),
        err.get("message").and_then(serde_json::Value::as_str),
    ) {
        out.entry(name.to_string())
            .or_insert_with(|| msg.to_string());
    }
    out
}

/// A field message given as a string or as a list of strings (first one wins).
fn text_of(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(a) => a.first().and_then(text_of),
        serde_json::Value::Object(o) => o.get("message").and_then(text_of),
        _ => None,
    }
}

fn default_code(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        413 => "too_large",
        415 => "unsupported_type",
        422 => "validation",
        423 => "locked",
        429 => "rate_limited",
        s if s >= 500 => "server_error",
        _ => "error",
    }
}

fn default_message(status: u16) -> &'static str {
    match status {
        400 => "The request was not accepted. Check the form and try again.",
        401 => "Your session has ended. Please sign in again.",
        403 => "You are not allowed to do that.",
        404 => "Not found. It may have been removed, or it is not yours to see.",
        409 => "That conflicts with something that already exists.",
        413 => "The file is too large.",
        415 => "This kind of file is not accepted.",
        422 => "Some fields need attention.",
        423 => "Locked after too many attempts.",
        429 => "Too many attempts. Wait a moment and try again.",
        s if s >= 500 => "medvault had a problem. Try again in a moment.",
        _ => "Something went wrong.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_message_and_code_are_used() {
        let e = ApiError::from_response(
            409,
            r#"{"error":{"code":"conflict","message":"email already in use"}}"#,
        );
        assert_eq!(e.status, 409);
        assert_eq!(e.code, "conflict");
        assert_eq!(e.message, "Email already in use.");
        let e = ApiError::from_response(
            401,
            r#"{"error":{"code":"invalid_credentials","message":"invalid email or password"}}"#,
        );
        assert_eq!(e.message, "The e-mail address or password is not right.");
        let e = ApiError::from_response(
            422,
            r#"{"error":{"code":"wrong_code","message":"wrong code; 4 attempts left"}}"#,
        );
        assert_eq!(e.message, "Wrong code; 4 attempts left.");
    }

    #[test]
    fn field_errors_in_object_or_list_form() {
        let e = ApiError::from_response(
            422,
            r#"{"error":{"code":"validation","message":"Invalid input","fields":{"email":"bad address"}}}"#,
        );
        assert_eq!(e.field("email").as_deref(), Some("bad address"));
        let e = ApiError::from_response(
            422,
            r#"{"error":{"code":"validation","message":"x","details":[{"field":"phone","message":"digits only"}]}}"#,
        );
        assert_eq!(e.field("phone").as_deref(), Some("digits only"));
        let e = ApiError::from_response(
            422,
            r#"{"error":{"code":"validation","field":"height_cm","message":"30 to 250"}}"#,
        );
        assert_eq!(e.field("height_cm").as_deref(), Some("30 to 250"));
        assert_eq!(e.field("email"), None);
    }

    #[test]
    fn non_json_and_server_errors_get_default_wording() {
        let e = ApiError::from_response(502, "<html>Bad gateway</html>");
        assert_eq!(e.code, "server_error");
        assert!(e.message.contains("Try again"));
        let e = ApiError::from_response(
            500,
            r#"{"error":{"code":"internal","message":"db pool timeout"}}"#,
        );
        assert!(!e.message.contains("pool"), "internal detail must not show");
        let e = ApiError::from_response(413, "");
        assert_eq!(e.code, "too_large");
        assert_eq!(e.message, "The file is too large.");
    }

    #[test]
    fn setup_required_gets_its_own_wording() {
        let e = ApiError::from_response(
            403,
            r#"{"error":{"code":"mfa_setup_required","message":"set up your sign-in authenticator app first (required for staff)"}}"#,
        );
        assert_eq!(e.code, "mfa_setup_required");
        assert!(
            e.message
                .starts_with("Set up your sign-in authenticator app first")
        );
    }

    #[test]
    fn unauthorized_is_detected() {
        assert!(ApiError::from_response(401, "").is_unauthorized());
        assert!(!ApiError::from_response(403, "").is_unauthorized());
        assert!(ApiError::session_expired().is_unauthorized());
        assert_eq!(ApiError::network("x").status, 0);
    }
}
