//! Consent: a doctor's access request, the patient's one-time code, and the grant it becomes.

use crate::ids::{GrantId, RecordId, RequestId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /api/v1/access-requests` (doctor). Name the patient by `patient_id` (in care) or by
/// `mrn` (medical record number; the patient's consent then also puts them in care).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateAccessRequest {
    /// The patient's user id (a patient in the doctor's care).
    pub patient_id: Option<UserId>,
    /// Or the patient's medical record number.
    pub mrn: Option<String>,
    /// One record, or `null` for all of the patient's records.
    pub record_id: Option<RecordId>,
    /// Why the doctor needs access (shown to the patient; 3 to 500 characters).
    pub reason: String,
    /// How long the grant should last once consented, in hours (1 to the server's cap).
    pub duration_hours: u32,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessRequestStatus {
    /// Waiting for the patient's code or approval.
    Pending,
    /// Consented: a grant exists.
    Granted,
    /// The patient said no.
    Denied,
    /// Too many wrong codes.
    Locked,
    /// The one-time code expired before use.
    Expired,
}

/// An access request as the doctor or the patient sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessRequest {
    /// Request id.
    pub id: RequestId,
    /// The requesting doctor.
    pub doctor_id: UserId,
    /// The doctor's full name.
    pub doctor_name: String,
    /// The patient asked.
    pub patient_id: UserId,
    /// The patient's full name.
    pub patient_name: String,
    /// The record asked for, or `null` for all records.
    pub record_id: Option<RecordId>,
    /// That record's title, when one record is asked for.
    pub record_title: Option<String>,
    /// The doctor's reason.
    pub reason: String,
    /// Grant duration asked for, in hours.
    pub duration_hours: u32,
    /// Where it stands.
    pub status: AccessRequestStatus,
    /// Wrong codes so far (the request locks at the server's limit).
    pub failed_attempts: u32,
    /// When the per-request code stops working.
    pub code_expires_at: DateTime<Utc>,
    /// The per-request one-time code: present only in the patient's own view of a pending
    /// request, never in any response to a doctor.
    pub code: Option<String>,
    /// The grant this request became, if any.
    pub grant_id: Option<GrantId>,
    /// When the doctor asked.
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/access-requests/{id}/redeem` (doctor): the code the patient read out, either
/// the per-request 8-digit code or the patient's current authenticator (TOTP) code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RedeemCode {
    /// Digits only.
    pub code: String,
}

/// A live or past permission for a doctor to download a patient's record(s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Grant {
    /// Grant id.
    pub id: GrantId,
    /// The request it came from.
    pub request_id: RequestId,
    /// The doctor allowed.
    pub doctor_id: UserId,
    /// The doctor's full name.
    pub doctor_name: String,
    /// The patient whose records it covers.
    pub patient_id: UserId,
    /// The patient's full name.
    pub patient_name: String,
    /// One record, or `null` for all of the patient's records.
    pub record_id: Option<RecordId>,
    /// That record's title, when the grant covers one record.
    pub record_title: Option<String>,
    /// When it was granted.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Downloads allowed in total.
    pub max_downloads: u32,
    /// Downloads used so far.
    pub downloads_used: u32,
    /// When the patient revoked it or the doctor gave it up.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Live now: not revoked, not expired, downloads left.
    pub active: bool,
}

/// `POST /api/v1/me/totp`: a fresh, not yet confirmed authenticator secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TotpEnrollment {
    /// `otpauth://totp/...` URI for authenticator apps.
    pub otpauth_uri: String,
    /// The same as a QR code: a PNG, base64-encoded.
    pub qr_png_base64: String,
    /// The secret in base32, for manual entry.
    pub secret_base32: String,
}

/// A TOTP code from the patient's authenticator (confirm enrolment, or remove it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TotpCode {
    /// Six digits.
    pub code: String,
}

/// `GET /api/v1/me/totp`: whether an authenticator is set up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TotpStatus {
    /// A confirmed authenticator is enrolled.
    pub enabled: bool,
}

/// One line of a patient's "who saw my records" view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessLogEntry {
    /// Ledger sequence number of the event (for cross-checking with the ledger).
    pub seq: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it (user id), if anyone.
    pub actor_id: Option<UserId>,
    /// Their display name.
    pub actor_name: Option<String>,
    /// What happened (`record.download`, `consent.grant`, `consent.code_failed`, ...).
    pub action: String,
    /// The record concerned, if one.
    pub record_id: Option<RecordId>,
    /// Its title, if it still exists.
    pub record_title: Option<String>,
    /// Whether the action was allowed.
    pub allowed: bool,
}
