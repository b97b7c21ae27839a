//! Login, token refresh, the signed-in user and password change.

use crate::ids::UserId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Role;

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login email (case-insensitive).
    pub email: String,
    /// Password.
    pub password: String,
}

/// `POST /api/v1/auth/refresh` for API clients. The browser app sends no body: its refresh
/// token travels in the `HttpOnly` cookie (see [`SESSION_MODE_HEADER`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh; it is spent by this call.
    pub refresh_token: String,
}

/// The header by which the browser app asks for its refresh token in an `HttpOnly`,
/// `SameSite=Strict` cookie instead of the JSON body (value [`SESSION_MODE_COOKIE`]), on
/// sign-in, refresh and sign-out. A refresh by cookie needs it too: a cross-site request cannot
/// set it, so the cookie alone never renews a session (CSRF).
pub const SESSION_MODE_HEADER: &str = "X-Medvault-Session";
/// The value of [`SESSION_MODE_HEADER`].
pub const SESSION_MODE_COOKIE: &str = "cookie";
/// The refresh-token cookie's name (path `/api/v1/auth`).
pub const REFRESH_COOKIE: &str = "medvault_refresh";

/// Answer to a login or a refresh: a short-lived access token and a one-use refresh token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Opaque token for `POST /api/v1/auth/refresh`; valid once. Absent when the client asked
    /// for it as a cookie (the browser app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
    /// The session ends after this many seconds without a request (refreshing tokens does not
    /// count as activity); the browser app warns a minute before.
    pub idle_timeout_secs: u64,
    /// The session ends at this time whatever the activity (UTC).
    pub session_expires_at: DateTime<Utc>,
    /// Who signed in.
    pub user: UserSummary,
}

/// `202` answer to the password step of `POST /api/v1/auth/login` when the account has a
/// second factor: send a code from the authenticator app (or a recovery code) with this
/// challenge to `POST /api/v1/auth/login/mfa`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MfaChallenge {
    /// Opaque, single-use token naming this sign-in attempt.
    pub mfa_token: String,
    /// Seconds the challenge stays valid.
    pub expires_in: u64,
}

/// `POST /api/v1/auth/login/mfa`: the second step of sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaLoginRequest {
    /// The `mfa_token` of the password step's answer.
    pub mfa_token: String,
    /// Six digits from the authenticator app, or one unused recovery code
    /// (`xxxx-xxxx-xxxx-xxxx`).
    #[schema(min_length = 6, max_length = 64)]
    pub code: String,
}

/// The caller's sign-in second factor (`GET /api/v1/me/mfa`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MfaStatus {
    /// A confirmed authenticator app guards sign-in.
    pub enabled: bool,
    /// This account must have one (staff): until it is set up only `/me`, sign-out and the
    /// set-up endpoints answer.
    pub required: bool,
    /// Unused recovery codes left.
    pub recovery_codes_left: u32,
    /// When the authenticator was confirmed (UTC).
    pub enabled_at: Option<DateTime<Utc>>,
}

/// Ten single-use recovery codes, shown exactly once; only their hashes are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodes {
    /// Each signs in once in place of an authenticator code.
    pub recovery_codes: Vec<String>,
}

/// The minimum a client needs to route a user: identity and role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserSummary {
    /// User id.
    pub id: UserId,
    /// Login email (lower-case).
    pub email: String,
    /// Role.
    pub role: Role,
    /// When true the user must change their password before anything else.
    pub must_change_password: bool,
    /// When true the user must set up a sign-in second factor (after any password change)
    /// before anything else.
    #[serde(default)]
    pub mfa_setup_required: bool,
}

/// A user account as the API shows it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// User id.
    pub id: UserId,
    /// Login email (lower-case).
    pub email: String,
    /// Role.
    pub role: Role,
    /// Deactivated users cannot sign in and their tokens stop working.
    pub active: bool,
    /// When true the user must change their password before anything else.
    pub must_change_password: bool,
    /// When the owner first set their own password (UTC): a staff member who used the
    /// temporary password first would show here as an activation the owner did not make.
    /// `None` while the account still has its temporary password (and for accounts older than
    /// this field).
    #[serde(default)]
    pub activated_at: Option<DateTime<Utc>>,
    /// When staff changed the e-mail address, while the owner has not confirmed it (UTC):
    /// consent codes are not e-mailed to it for 24 hours from then unless the owner confirms
    /// (`POST /api/v1/me/email/confirm`).
    #[serde(default)]
    pub email_changed_by_staff_at: Option<DateTime<Utc>>,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last modification time (UTC).
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/v1/me/password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password in use now.
    pub current_password: String,
    /// The new password: 12 to 128 characters, different from the current one and the email,
    /// and not easy to guess (an offline strength estimate: common passwords, names, keyboard
    /// patterns and dates are refused with 422 and the reason).
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

/// A password generated by the server, shown exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TemporaryPassword {
    /// Give this to the user; they must replace it at their next sign-in. `None` when SMTP is
    /// configured: it went to the user's e-mail and staff never see it.
    pub temporary_password: Option<String>,
}

/// `POST /api/v1/auth/reauthenticate`: the password again, before a sensitive action
/// (emergency access) that needs a recent authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReauthenticateRequest {
    /// The account's current password.
    pub password: String,
    /// A code from the sign-in authenticator app (or a recovery code); required when the
    /// account has a second factor.
    #[serde(default)]
    pub code: Option<String>,
}

/// `POST /api/v1/auth/unlock`: the code e-mailed when the account was locked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockRequest {
    /// The code from the e-mail (or the part after `#` of its link).
    #[schema(max_length = 128)]
    pub token: String,
}

/// The session counts as recently authenticated until `valid_until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reauthenticated {
    /// When the password was confirmed.
    pub authenticated_at: DateTime<Utc>,
    /// Sensitive actions are allowed until then.
    pub valid_until: DateTime<Utc>,
}
