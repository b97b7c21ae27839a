//! Emergency access (break-glass): a doctor opens time-limited read access to a patient who
//! cannot consent, with a reason and a justification; the patient is told at once and every
//! emergency access is reviewed by an administrator.

use crate::ids::{EmergencyAccessId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Why consent cannot be asked for: the fixed list a doctor chooses from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmergencyReason {
    /// The patient is unconscious.
    UnconsciousPatient,
    /// A life-threatening condition needs treatment now.
    LifeThreatening,
    /// The patient is conscious but cannot communicate or decide.
    PatientIncapacitated,
    /// Urgent treatment, and the patient cannot be reached for consent in time.
    UrgentTreatment,
}

impl EmergencyReason {
    /// Every reason, in display order.
    pub const ALL: [Self; 4] = [
        Self::UnconsciousPatient,
        Self::LifeThreatening,
        Self::PatientIncapacitated,
        Self::UrgentTreatment,
    ];

    /// Wire name (as stored).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UnconsciousPatient => "unconscious_patient",
            Self::LifeThreatening => "life_threatening",
            Self::PatientIncapacitated => "patient_incapacitated",
            Self::UrgentTreatment => "urgent_treatment",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Words for people.
    pub const fn label(self) -> &'static str {
        match self {
            Self::UnconsciousPatient => "Patient unconscious",
            Self::LifeThreatening => "Life-threatening condition",
            Self::PatientIncapacitated => "Patient cannot communicate or decide",
            Self::UrgentTreatment => "Urgent treatment, patient unreachable",
        }
    }
}

/// `POST /api/v1/emergency-accesses` (doctor, recently authenticated). Name the patient by
/// `patient_id` or by `mrn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenEmergencyAccess {
    /// The patient's user id.
    #[serde(default)]
    pub patient_id: Option<UserId>,
    /// Or the patient's medical record number.
    #[serde(default)]
    pub mrn: Option<String>,
    /// Why consent cannot be asked for.
    pub reason: EmergencyReason,
    /// What is happening and why the records are needed (20 to 2000 characters).
    #[schema(schema_with = crate::input::justification_schema)]
    pub justification: String,
    /// How long, in minutes: 1 to the server's maximum (`emergency.max_minutes`, 1440 by
    /// default); absent, the server's default.
    #[serde(default, deserialize_with = "crate::input::opt_whole")]
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_minutes: Option<u32>,
}

/// An administrator's verdict on one emergency access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// The emergency was real and the access was needed.
    Justified,
    /// The access was not justified (follow up with the doctor).
    NotJustified,
}

impl ReviewOutcome {
    /// Wire name (as stored).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Justified => "justified",
            Self::NotJustified => "not_justified",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Justified, Self::NotJustified]
            .into_iter()
            .find(|o| o.as_str() == text)
    }

    /// Words for people.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Justified => "Justified",
            Self::NotJustified => "Not justified",
        }
    }
}

/// `POST /api/v1/emergency-accesses/{id}/review` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewEmergencyAccess {
    /// The verdict.
    pub outcome: ReviewOutcome,
    /// Why (3 to 2000 characters); the patient sees it.
    #[schema(schema_with = crate::input::review_comment_schema)]
    pub comment: String,
}

/// A finished review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EmergencyReview {
    /// The verdict.
    pub outcome: ReviewOutcome,
    /// The reviewer's comment.
    pub comment: String,
    /// The reviewing administrator.
    pub reviewed_by: UserId,
    /// When.
    pub reviewed_at: DateTime<Utc>,
}

/// One emergency access, as its doctor, its patient and administrators see it. It carries
/// nothing from the patient's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EmergencyAccess {
    /// Id.
    pub id: EmergencyAccessId,
    /// The doctor who opened it.
    pub doctor_id: UserId,
    /// Their name.
    pub doctor_name: String,
    /// The patient.
    pub patient_id: UserId,
    /// Their name.
    pub patient_name: String,
    /// Why consent could not be asked for.
    pub reason: EmergencyReason,
    /// The doctor's justification.
    pub justification: String,
    /// Opened.
    pub started_at: DateTime<Utc>,
    /// Ends by itself at.
    pub expires_at: DateTime<Utc>,
    /// Ended early by the doctor, or closed at expiry.
    pub ended_at: Option<DateTime<Utc>>,
    /// Whether it still gives access now.
    pub active: bool,
    /// The administrator's review, once done.
    pub review: Option<EmergencyReview>,
}

/// Query of `GET /api/v1/emergency-accesses`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmergencyListQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u32>,
    /// Page size (default 20; values above 100 are capped to 100).
    #[param(minimum = 1, maximum = 4_294_967_295_u64, format = Int64)]
    pub per_page: Option<u32>,
    /// Only those not yet reviewed (the administrators' queue).
    pub unreviewed: Option<bool>,
}
