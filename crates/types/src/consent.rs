//! Consent: a doctor's access request, the patient's one-time code, and the grant it becomes.

use crate::ids::{GrantId, RecordId, RequestId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why a doctor asks for access (shown to the patient with the request).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessPurpose {
    /// Treating the patient now.
    #[default]
    Treatment,
    /// A second opinion on the patient's case.
    SecondOpinion,
    /// The patient was referred to this doctor.
    Referral,
    /// Follow-up after an earlier episode of care.
    FollowUp,
}

impl AccessPurpose {
    /// Every purpose, in display order.
    pub const ALL: [Self; 4] = [
        Self::Treatment,
        Self::SecondOpinion,
        Self::Referral,
        Self::FollowUp,
    ];

    /// Wire name (as stored).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Treatment => "treatment",
            Self::SecondOpinion => "second_opinion",
            Self::Referral => "referral",
            Self::FollowUp => "follow_up",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// Words for people.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Treatment => "treatment",
            Self::SecondOpinion => "a second opinion",
            Self::Referral => "a referral",
            Self::FollowUp => "follow-up care",
        }
    }
}

/// `POST /api/v1/access-requests` (doctor). Name the patient by `patient_id` (in care) or by
/// `mrn` (medical record number). Consent yields a scoped, expiring grant and never puts the
/// patient in the doctor's care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateAccessRequest {
    /// The patient's user id (a patient in the doctor's care).
    pub patient_id: Option<UserId>,
    /// Or the patient's medical record number.
    pub mrn: Option<String>,
    /// One record, or `null` for all of the patient's records.
    pub record_id: Option<RecordId>,
    /// Why the doctor needs access (shown to the patient; 3 to 500 characters).
    #[schema(schema_with = crate::input::reason_schema)]
    pub reason: String,
    /// How long the grant should last once consented, in hours: 1 to the server's cap
    /// (`consent.max_grant_hours`, 168 by default).
    #[serde(deserialize_with = "crate::input::whole")]
    #[schema(minimum = 1, maximum = 168)]
    pub duration_hours: u32,
    /// Why (default `treatment`).
    #[serde(default)]
    pub purpose: AccessPurpose,
    /// Whether the patient's visit notes (by every doctor) are asked for too (default no).
    #[serde(default)]
    pub include_notes: bool,
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
    /// Why, as a category.
    pub purpose: AccessPurpose,
    /// Whether the patient's visit notes are asked for too.
    pub include_notes: bool,
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

impl AccessRequest {
    /// What the request asks for, in words for the patient (the e-mail, the inbox and the
    /// approval dialog all say the same): which records and notes, why, and for how long.
    pub fn scope_summary(&self) -> String {
        let records = match (&self.record_id, &self.record_title) {
            (Some(_), Some(title)) => format!("your record \"{title}\""),
            (Some(_), None) => "one of your records".to_owned(),
            (None, _) => "all your records".to_owned(),
        };
        let notes = if self.include_notes {
            " and your visit notes (by every doctor)"
        } else {
            ""
        };
        let hours = if self.duration_hours == 1 {
            "1 hour".to_owned()
        } else {
            format!("{} hours", self.duration_hours)
        };
        format!(
            "{doctor} asks to see {records}{notes}, for {purpose}, for {hours}",
            doctor = self.doctor_name,
            purpose = self.purpose.label(),
        )
    }
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
    /// Whether the patient's visit notes are covered too.
    pub include_notes: bool,
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

/// A fresh, not yet confirmed authenticator secret (`POST /api/v1/me/totp` for consent,
/// `POST /api/v1/me/mfa/enrollment` for sign-in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TotpEnrollment {
    /// `otpauth://totp/...` URI for authenticator apps.
    pub otpauth_uri: String,
    /// The same as a QR code: a PNG, base64-encoded.
    pub qr_png_base64: String,
    /// The secret in base32, for manual entry.
    pub secret_base32: String,
}

/// A TOTP code from an authenticator app: confirming the set-up of a patient's consent
/// authenticator or of a sign-in second factor, or removing the consent authenticator.
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
    /// For reads of health data: what authorised it.
    pub basis: Option<AccessBasis>,
}

/// What authorised a read of a patient's health data (recorded with every read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessBasis {
    /// The patient themself.
    Owner,
    /// The doctor has the patient in their care (admin-assigned, creator, or added by the
    /// patient).
    Care,
    /// A live grant the patient consented to.
    Grant,
    /// Emergency access (break-glass).
    Emergency,
}

impl AccessBasis {
    /// Wire name (as written in ledger payloads).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Care => "care",
            Self::Grant => "grant",
            Self::Emergency => "emergency",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Owner, Self::Care, Self::Grant, Self::Emergency]
            .into_iter()
            .find(|b| b.as_str() == text)
    }
}

/// How a doctor came into a patient's care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CareOrigin {
    /// An administrator assigned the doctor.
    Admin,
    /// The doctor created the patient's account.
    Creator,
    /// The patient added the doctor.
    Patient,
}

impl CareOrigin {
    /// Wire name (as stored).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Creator => "creator",
            Self::Patient => "patient",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Admin, Self::Creator, Self::Patient]
            .into_iter()
            .find(|o| o.as_str() == text)
    }
}

/// One doctor in a patient's care, as the patient sees it (`GET /api/v1/me/care`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CareDoctor {
    /// The doctor's user id.
    pub doctor_id: UserId,
    /// Full name.
    pub doctor_name: String,
    /// Sign-in e-mail (how the patient can tell doctors apart).
    pub email: String,
    /// How the care began.
    pub origin: CareOrigin,
    /// Since when.
    pub since: DateTime<Utc>,
}

/// `POST /api/v1/me/care` (patient): add a doctor to your care by id or by e-mail (exactly
/// one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AddCareDoctor {
    /// The doctor's user id.
    pub doctor_id: Option<UserId>,
    /// Or the doctor's sign-in e-mail.
    #[schema(schema_with = crate::input::opt_email_schema)]
    pub email: Option<String>,
}

/// A doctor who may no longer use the patient's authenticator codes for consent, after too
/// many wrong ones (`GET /api/v1/me/consent-locks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsentLock {
    /// The doctor.
    pub doctor_id: UserId,
    /// The doctor's display name.
    pub doctor_name: String,
    /// Wrong authenticator codes this doctor gave.
    pub failures: u32,
    /// When the lock began (UTC).
    pub locked_at: DateTime<Utc>,
}

/// Wrong authenticator codes given for the calling patient's consent: the doctors locked out of
/// using them and the delay all doctors must wait before the next try. The patient can lift
/// both (`DELETE /api/v1/me/consent-locks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsentLocks {
    /// Doctors locked out of the patient's authenticator codes.
    pub locked: Vec<ConsentLock>,
    /// Wrong authenticator codes in the last 24 hours, across all doctors.
    pub recent_failures: u32,
    /// Until when every doctor must wait before trying an authenticator code (UTC), if a delay
    /// is in force now.
    pub delay_until: Option<DateTime<Utc>>,
}
