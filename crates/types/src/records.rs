//! Records: a patient's uploaded report, as metadata. The bytes never travel in these DTOs; they
//! stream through `POST /api/v1/records` (multipart) and `GET /api/v1/records/{id}/content`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{RecordId, UserId};

/// Content types a record may have unless the server's configuration narrows the list: the
/// server's default allowlist and the browser app's file picker both read this one list.
pub const DEFAULT_ALLOWED_TYPES: [&str; 7] = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/dicom",
    "text/plain",
    "text/csv",
    "application/json",
];

/// Largest file accepted by default (100 MiB); the server's configuration may change it and
/// reports the value in force at `GET /api/v1/me/storage`.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;

/// What kind of report a record is. Drives filtering and the timeline's icons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordCategory {
    /// Blood tests and other laboratory results.
    LabReport,
    /// X-ray, CT, MRI, ultrasound images or their reports.
    Imaging,
    /// A prescription.
    Prescription,
    /// A hospital discharge summary.
    DischargeSummary,
    /// Notes or letters from a consultation.
    Consultation,
    /// Vaccination certificates and records.
    Vaccination,
    /// Anything else.
    Other,
}

impl RecordCategory {
    /// Every category, in display order; the one list the server and the SPA both use.
    pub const ALL: [Self; 7] = [
        Self::LabReport,
        Self::Imaging,
        Self::Prescription,
        Self::DischargeSummary,
        Self::Consultation,
        Self::Vaccination,
        Self::Other,
    ];

    /// The wire name (`lab_report`, ...), as used in multipart fields and query strings.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LabReport => "lab_report",
            Self::Imaging => "imaging",
            Self::Prescription => "prescription",
            Self::DischargeSummary => "discharge_summary",
            Self::Consultation => "consultation",
            Self::Vaccination => "vaccination",
            Self::Other => "other",
        }
    }

    /// Parses the wire name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// A human label for screens.
    pub const fn label(self) -> &'static str {
        match self {
            Self::LabReport => "Lab report",
            Self::Imaging => "Imaging",
            Self::Prescription => "Prescription",
            Self::DischargeSummary => "Discharge summary",
            Self::Consultation => "Consultation",
            Self::Vaccination => "Vaccination",
            Self::Other => "Other",
        }
    }
}

/// A stored record's metadata: what patients and doctors in care may list without consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordMeta {
    /// Record id.
    pub id: RecordId,
    /// The patient (user id) the record belongs to.
    pub patient_id: UserId,
    /// Title given at upload.
    pub title: String,
    /// Category given at upload.
    pub category: RecordCategory,
    /// Date of the report (not of the upload).
    pub report_date: NaiveDate,
    /// Free-text notes given at upload (stored encrypted). Absent when the caller may see the
    /// record's metadata but not its notes (see `notes_withheld`).
    pub notes: Option<String>,
    /// The record has notes the caller may not read without a grant covering the record.
    #[serde(default)]
    pub notes_withheld: bool,
    /// Sanitised original file name, used for the download's Content-Disposition.
    pub file_name: String,
    /// Content type detected from the bytes (never the client's claim).
    pub content_type: String,
    /// Plaintext size in bytes.
    pub size_bytes: u64,
    /// SHA-256 (hex) of the plaintext, so a downloader can check what it received.
    pub sha256: String,
    /// When the upload committed.
    pub created_at: DateTime<Utc>,
}

/// Query of `GET /api/v1/records`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordListQuery {
    /// Doctors: whose records to list (a patient in their care). Patients: ignored.
    pub patient_id: Option<UserId>,
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u32>,
    /// Page size (default 20; values above 100 are capped to 100).
    #[param(minimum = 1, maximum = 4_294_967_295_u64, format = Int64)]
    pub per_page: Option<u32>,
}

/// Storage usage of one patient (for the upload screen's quota display).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StorageUsage {
    /// Bytes stored (plaintext sizes of live records).
    pub used_bytes: u64,
    /// The patient's quota in bytes.
    pub quota_bytes: u64,
    /// Largest file accepted, in bytes.
    pub max_file_bytes: u64,
    /// Content types accepted for upload.
    pub allowed_types: Vec<String>,
}

/// The `multipart/form-data` body of `POST /api/v1/records` (documentation shape: the server
/// streams the parts, it never deserialises this struct).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRecordForm {
    /// The report file. Its type is detected from its bytes and must be on the allowlist.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// Title (1 to 200 characters).
    #[schema(schema_with = crate::input::title_schema)]
    pub title: String,
    /// Date of the report, `YYYY-MM-DD`, not in the future.
    pub report_date: NaiveDate,
    /// Category wire name.
    pub category: RecordCategory,
    /// Optional notes (up to 2,000 characters; stored encrypted).
    #[schema(schema_with = crate::input::record_notes_schema)]
    pub notes: Option<String>,
}
