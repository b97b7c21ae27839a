//! Clinical history: doctors' visit notes (stored encrypted) and the patient's timeline.

use crate::ids::{NoteId, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::records::RecordMeta;

/// `POST /api/v1/doctor/patients/{id}/notes`: a visit note for a patient in the doctor's care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateVisitNote {
    /// Date of the visit (not in the future).
    pub visit_date: NaiveDate,
    /// Symptoms reported (up to 4,000 characters).
    #[schema(schema_with = crate::input::finding_schema)]
    pub symptoms: String,
    /// Diagnosis (up to 4,000 characters).
    #[schema(schema_with = crate::input::finding_schema)]
    pub diagnosis: String,
    /// Prescription (up to 4,000 characters; may be empty).
    #[schema(schema_with = crate::input::prescription_schema)]
    pub prescription: String,
    /// Free text (up to 10,000 characters; may be empty).
    #[schema(schema_with = crate::input::visit_notes_schema)]
    pub notes: String,
}

/// A visit note as read back (decrypted for an authorised reader only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VisitNote {
    /// Note id.
    pub id: NoteId,
    /// The patient.
    pub patient_id: UserId,
    /// The doctor who wrote it.
    pub doctor_id: UserId,
    /// The doctor's full name.
    pub doctor_name: String,
    /// Date of the visit.
    pub visit_date: NaiveDate,
    /// Symptoms.
    pub symptoms: String,
    /// Diagnosis.
    pub diagnosis: String,
    /// Prescription.
    pub prescription: String,
    /// Free text.
    pub notes: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// One item of a patient's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HistoryItem {
    /// A visit note.
    Note(VisitNote),
    /// An uploaded record.
    Record(RecordMeta),
}

/// `GET /api/v1/me/history`: visit notes and records on one timeline, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct History {
    /// Items, newest date first.
    pub items: Vec<HistoryItem>,
}
