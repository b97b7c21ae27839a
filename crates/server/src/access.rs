//! Who sees what of a patient's health data: the one place that decides it, and the ledger
//! entry every read leaves. `docs/security.md` has the same rules as a table for people.
//!
//! | what                                | patient | doctor in care | doctor with a live grant  | doctor in emergency [3] | admin |
//! |-------------------------------------|---------|----------------|---------------------------|-------------------------|-------|
//! | profile (demographics and clinical) | own     | yes            | no (unless in care)       | yes                     | no [1]|
//! | record list and metadata (no notes) | own     | every record   | the records it covers     | every record            | no    |
//! | record notes and content            | own     | no             | the records it covers [2] | every record            | no    |
//! | visit notes                         | own     | their own      | all, if it covers notes   | all                     | no    |
//! | timeline                            | own     | no             | no                        | no                      | no    |
//!
//! [1] Admins manage accounts: identity and contact fields only (`accounts::patients`).
//! [2] Content also spends one of the grant's downloads.
//! [3] A live emergency (break-glass) access the doctor opened (`crate::emergency`); a grant
//!     or care that already allows a read is named as its basis first.
//!
//! Care is explicit: an admin assigned the doctor, the doctor created the patient's account, or
//! the patient added them. Consent never creates care; it yields a scoped, expiring grant. A
//! doctor who is neither in care nor holds a live grant learns nothing: 404.
//!
//! Every read of health data writes one ledger entry naming the actor, the patient, what was
//! read and the basis that allowed it (`basis`: `owner`, `care`, `grant` with `grant_id`,
//! `emergency` with `emergency_id`), in
//! the same transaction as the read, so a read the ledger cannot record does not happen.

use chrono::NaiveDateTime;
use medvault_types::{AccessBasis, EmergencyAccessId, GrantId, RecordId, Role, UserId};
use serde_json::{Value, json};

use crate::accounts::care;
use crate::auth::AuthUser;
use crate::consent::grants::{self, GrantRow};
use crate::db::DbConn;
use crate::db::ids::StoredId;
use crate::emergency::lifecycle as emergency;
use crate::error::ApiError;
use crate::ledger::{self, Action, NewEntry};

/// What allowed one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The patient reads their own data.
    Owner,
    /// The doctor has the patient in their care.
    Care,
    /// A live grant the patient consented to.
    Grant(GrantId),
    /// A live emergency (break-glass) access the doctor opened.
    Emergency(EmergencyAccessId),
}

impl Basis {
    /// The basis as the API and the ledger name it.
    pub const fn kind(self) -> AccessBasis {
        match self {
            Self::Owner => AccessBasis::Owner,
            Self::Care => AccessBasis::Care,
            Self::Grant(_) => AccessBasis::Grant,
            Self::Emergency(_) => AccessBasis::Emergency,
        }
    }

    /// The ledger payload fields naming this basis (`basis`, and `grant_id` or
    /// `emergency_id`).
    pub fn payload(self) -> Value {
        match self {
            Self::Grant(id) => json!({ "basis": self.kind().as_str(), "grant_id": id }),
            Self::Emergency(id) => json!({ "basis": self.kind().as_str(), "emergency_id": id }),
            _ => json!({ "basis": self.kind().as_str() }),
        }
    }
}

/// Which of a patient's records a caller may list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordScope {
    /// Every live record.
    All,
    /// Only these.
    Only(Vec<RecordId>),
}

/// Which visit notes a caller may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotesScope {
    /// Every doctor's notes.
    All,
    /// Only the notes this doctor wrote.
    WrittenBy(UserId),
}

/// What one caller may see of one patient right now.
#[derive(Debug, Clone)]
pub struct Access {
    /// The patient.
    pub patient: UserId,
    owner: bool,
    in_care: bool,
    doctor: Option<UserId>,
    grants: Vec<GrantRow>,
    emergency: Option<EmergencyAccessId>,
}

impl Access {
    /// Works out what `user` may see of `patient` at `now`. Admins: 403 (they see no health
    /// data). Anyone with no basis at all: 404, so nobody learns that a patient exists.
    pub fn resolve(
        conn: &mut DbConn,
        user: &AuthUser,
        patient: UserId,
        now: NaiveDateTime,
    ) -> Result<Self, ApiError> {
        let access = match user.role {
            Role::Admin => return Err(ApiError::Forbidden),
            Role::Patient => Self {
                patient,
                owner: user.id == patient,
                in_care: false,
                doctor: None,
                grants: Vec::new(),
                emergency: None,
            },
            Role::Doctor => Self {
                patient,
                owner: false,
                in_care: care::in_care(conn, user.id, patient)?,
                doctor: Some(user.id),
                grants: grants::live_for(conn, user.id, patient, now)?,
                emergency: emergency::live_for(conn, user.id, patient, now)?,
            },
        };
        if access.owner || access.in_care || !access.grants.is_empty() || access.emergency.is_some()
        {
            Ok(access)
        } else {
            Err(ApiError::NotFound)
        }
    }

    /// Whether the caller has the patient in their care (a doctor) or is the patient.
    pub const fn is_owner_or_care(&self) -> bool {
        self.owner || self.in_care
    }

    /// The first live grant that covers `record` (a one-record grant before an all-records
    /// one).
    fn grant_covering(&self, record: RecordId) -> Option<GrantId> {
        let wanted = record.to_string();
        self.grants
            .iter()
            .find(|g| g.record_id.as_deref() == Some(wanted.as_str()))
            .or_else(|| self.grants.iter().find(|g| g.record_id.is_none()))
            .and_then(|g| GrantId::from_stored(&g.id).ok())
    }

    /// The profile (demographics and clinical fields): owner, care or emergency.
    pub fn profile(&self) -> Result<Basis, ApiError> {
        self.owner_or_care()
            .or_else(|| self.in_emergency())
            .ok_or(ApiError::NotFound)
    }

    /// The live emergency access, as a basis.
    fn in_emergency(&self) -> Option<Basis> {
        self.emergency.map(Basis::Emergency)
    }

    fn owner_or_care(&self) -> Option<Basis> {
        if self.owner {
            Some(Basis::Owner)
        } else if self.in_care {
            Some(Basis::Care)
        } else {
            None
        }
    }

    /// The record list: everything for the owner, care, an all-records grant or an emergency;
    /// the covered records under record grants.
    pub fn record_list(&self) -> Result<(Basis, RecordScope), ApiError> {
        if let Some(basis) = self.owner_or_care() {
            return Ok((basis, RecordScope::All));
        }
        if let Some(all) = self.grants.iter().find(|g| g.record_id.is_none()) {
            return Ok((
                Basis::Grant(GrantId::from_stored(&all.id)?),
                RecordScope::All,
            ));
        }
        if let Some(basis) = self.in_emergency() {
            return Ok((basis, RecordScope::All));
        }
        let first = self.grants.first().ok_or(ApiError::NotFound)?;
        let ids = self
            .grants
            .iter()
            .filter_map(|g| g.record_id.as_deref())
            .map(RecordId::from_stored)
            .collect::<Result<_, _>>()?;
        Ok((
            Basis::Grant(GrantId::from_stored(&first.id)?),
            RecordScope::Only(ids),
        ))
    }

    /// One record's metadata: owner, care, a grant covering it, or an emergency; else 404.
    pub fn record_meta(&self, record: RecordId) -> Result<Basis, ApiError> {
        self.owner_or_care()
            .or_else(|| self.grant_covering(record).map(Basis::Grant))
            .or_else(|| self.in_emergency())
            .ok_or(ApiError::NotFound)
    }

    /// One record's notes: the owner, a grant covering the record, or an emergency (care
    /// alone does not reach them).
    pub fn record_notes(&self, record: RecordId) -> Option<Basis> {
        if self.owner {
            Some(Basis::Owner)
        } else {
            self.grant_covering(record)
                .map(Basis::Grant)
                .or_else(|| self.in_emergency())
        }
    }

    /// Visit notes: all for the owner, under a grant that covers notes, or in an emergency; a
    /// doctor in care without either reads only their own; anyone else 404.
    pub fn visit_notes(&self) -> Result<(Basis, NotesScope), ApiError> {
        if self.owner {
            return Ok((Basis::Owner, NotesScope::All));
        }
        if let Some(g) = self.grants.iter().find(|g| g.include_notes) {
            return Ok((Basis::Grant(GrantId::from_stored(&g.id)?), NotesScope::All));
        }
        if let Some(basis) = self.in_emergency() {
            return Ok((basis, NotesScope::All));
        }
        match (self.in_care, self.doctor) {
            (true, Some(doctor)) => Ok((Basis::Care, NotesScope::WrittenBy(doctor))),
            _ => Err(ApiError::NotFound),
        }
    }

    /// The timeline (notes and records on one list): the patient's own view only.
    pub fn timeline(&self) -> Result<Basis, ApiError> {
        if self.owner {
            Ok(Basis::Owner)
        } else {
            Err(ApiError::NotFound)
        }
    }
}

/// What was read, for the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The patient's profile.
    Profile,
    /// The patient's record list (one entry per request, with the count shown).
    RecordList {
        /// Records in the answer.
        shown: usize,
    },
    /// One record's metadata (and its notes when `notes` is true).
    Record {
        /// The record.
        id: RecordId,
        /// Whether its notes were included.
        notes: bool,
    },
    /// Visit notes.
    VisitNotes {
        /// Notes in the answer.
        shown: usize,
        /// Whether only the caller's own notes were included.
        own_only: bool,
    },
    /// The patient's timeline.
    Timeline {
        /// Items in the answer.
        shown: usize,
    },
}

impl Read {
    fn action(self) -> Action {
        match self {
            Self::Profile => Action::PatientRead,
            Self::RecordList { .. } => Action::RecordList,
            Self::Record { .. } => Action::RecordRead,
            Self::VisitNotes { .. } => Action::NotesRead,
            Self::Timeline { .. } => Action::HistoryRead,
        }
    }

    fn details(self) -> (String, Value) {
        match self {
            Self::Profile => ("profile".into(), json!({})),
            Self::RecordList { shown } => ("records".into(), json!({ "shown": shown })),
            Self::Record { id, notes } => (
                format!("record:{id}"),
                json!({ "record_id": id, "notes": notes }),
            ),
            Self::VisitNotes { shown, own_only } => (
                "notes".into(),
                json!({ "shown": shown, "own_only": own_only }),
            ),
            Self::Timeline { shown } => ("history".into(), json!({ "shown": shown })),
        }
    }
}

/// Writes the ledger entry for one read of `patient`'s health data by `actor` (inside the
/// read's transaction).
pub fn record_read(
    conn: &mut DbConn,
    actor: UserId,
    patient: UserId,
    read: Read,
    basis: Basis,
) -> Result<(), ApiError> {
    let (what, details) = read.details();
    let mut payload = basis.payload();
    if let (Some(p), Value::Object(extra)) = (payload.as_object_mut(), details) {
        p.extend(extra);
        p.insert("patient_id".into(), json!(patient));
    }
    ledger::append(
        conn,
        &NewEntry::new(
            Some(actor),
            read.action(),
            format!("patient:{patient}/{what}"),
        )
        .patient(patient)
        .payload(payload),
    )?;
    Ok(())
}
