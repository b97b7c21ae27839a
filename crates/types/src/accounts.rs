//! Doctors and patients: their profiles and the requests that create and change them.

use crate::ids::UserId;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::patch::nullable;

/// Biological sex as recorded clinically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Intersex or other.
    Other,
    /// Not known or not stated.
    Unknown,
}

impl Sex {
    /// Every value; the one list the server and the SPA use.
    pub const ALL: [Self; 4] = [Self::Female, Self::Male, Self::Other, Self::Unknown];

    /// The wire and database name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Female => "female",
            Self::Male => "male",
            Self::Other => "other",
            Self::Unknown => "unknown",
        }
    }

    /// Parses the wire/database name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// ABO/Rh blood group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum BloodGroup {
    /// A positive.
    #[serde(rename = "A+")]
    APos,
    /// A negative.
    #[serde(rename = "A-")]
    ANeg,
    /// B positive.
    #[serde(rename = "B+")]
    BPos,
    /// B negative.
    #[serde(rename = "B-")]
    BNeg,
    /// AB positive.
    #[serde(rename = "AB+")]
    AbPos,
    /// AB negative.
    #[serde(rename = "AB-")]
    AbNeg,
    /// O positive.
    #[serde(rename = "O+")]
    OPos,
    /// O negative.
    #[serde(rename = "O-")]
    ONeg,
}

impl BloodGroup {
    /// Every value; the one list the server and the SPA use.
    pub const ALL: [Self; 8] = [
        Self::APos,
        Self::ANeg,
        Self::BPos,
        Self::BNeg,
        Self::AbPos,
        Self::AbNeg,
        Self::OPos,
        Self::ONeg,
    ];

    /// The wire and database name (`A+`, `O-`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::APos => "A+",
            Self::ANeg => "A-",
            Self::BPos => "B+",
            Self::BNeg => "B-",
            Self::AbPos => "AB+",
            Self::AbNeg => "AB-",
            Self::OPos => "O+",
            Self::ONeg => "O-",
        }
    }

    /// Parses the wire/database name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A doctor account with its profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Doctor {
    /// User id.
    pub id: UserId,
    /// Login email (lower-case).
    pub email: String,
    /// Full name as shown to patients.
    pub full_name: String,
    /// Medical specialty.
    pub specialty: String,
    /// Professional licence number.
    pub licence_number: String,
    /// Contact phone.
    pub phone: Option<String>,
    /// Whether the account may sign in.
    pub active: bool,
    /// Whether the doctor still has to replace a temporary password.
    pub must_change_password: bool,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last modification time (UTC).
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/v1/admin/doctors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDoctor {
    /// Login email, unique (case-insensitive).
    #[schema(schema_with = crate::input::email_schema)]
    pub email: String,
    /// Full name, 1-100 characters.
    #[schema(schema_with = crate::input::name_schema)]
    pub full_name: String,
    /// Specialty, 1-100 characters.
    #[schema(schema_with = crate::input::name_schema)]
    pub specialty: String,
    /// Licence number, 3-32 letters, digits, `-` or `/`.
    #[schema(schema_with = crate::input::licence_schema)]
    pub licence_number: String,
    /// Phone: digits with optional leading `+`, spaces, `-`, `(`, `)`; 7-15 digits.
    #[serde(default)]
    #[schema(schema_with = crate::input::phone_schema)]
    pub phone: Option<String>,
}

/// `PATCH /api/v1/admin/doctors/{id}`: absent fields stay; `phone: null` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDoctor {
    /// New login email.
    #[serde(default)]
    #[schema(schema_with = crate::input::opt_email_schema)]
    pub email: Option<String>,
    /// New full name.
    #[serde(default)]
    #[schema(schema_with = crate::input::opt_name_schema)]
    pub full_name: Option<String>,
    /// New specialty.
    #[serde(default)]
    #[schema(schema_with = crate::input::opt_name_schema)]
    pub specialty: Option<String>,
    /// New licence number.
    #[serde(default)]
    #[schema(schema_with = crate::input::opt_licence_schema)]
    pub licence_number: Option<String>,
    /// New phone, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::input::phone_schema)]
    pub phone: Option<Option<String>>,
}

/// Answer to creating a doctor: the account and its one-time temporary password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreatedDoctor {
    /// The new doctor.
    pub doctor: Doctor,
    /// Shown once when the server has no SMTP; the doctor must change it at first sign-in.
    /// `None` when SMTP is configured: it went to the doctor's e-mail and staff never see it.
    pub temporary_password: Option<String>,
}

/// A patient account with its demographic and contact profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Patient {
    /// User id.
    pub id: UserId,
    /// Medical record number, generated, unique.
    pub mrn: String,
    /// Login and contact email (lower-case).
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Sex.
    pub sex: Sex,
    /// Phone.
    pub phone: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State or region.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Blood group.
    pub blood_group: Option<BloodGroup>,
    /// Height in centimetres.
    pub height_cm: Option<f64>,
    /// Weight in kilograms.
    pub weight_kg: Option<f64>,
    /// Known allergies, free text.
    pub allergies: Option<String>,
    /// Emergency contact (name and phone), free text.
    pub emergency_contact: Option<String>,
    /// Doctors with this patient in their care.
    pub doctor_ids: Vec<UserId>,
    /// Whether the account may sign in.
    pub active: bool,
    /// Whether the patient still has to replace a temporary password.
    pub must_change_password: bool,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last modification time (UTC).
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/v1/admin/patients` and `POST /api/v1/doctor/patients`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePatient {
    /// Login and contact email, unique (case-insensitive).
    #[schema(schema_with = crate::input::email_schema)]
    pub email: String,
    /// Given name, 1-100 characters.
    #[schema(schema_with = crate::input::name_schema)]
    pub first_name: String,
    /// Family name, 1-100 characters.
    #[schema(schema_with = crate::input::name_schema)]
    pub last_name: String,
    /// Date of birth: not in the future, not before 1900-01-01.
    pub date_of_birth: NaiveDate,
    /// Sex.
    pub sex: Sex,
    /// Phone: 7-15 digits, optional leading `+`, spaces, `-`, `(`, `)`.
    #[serde(default)]
    #[schema(schema_with = crate::input::phone_schema)]
    pub phone: Option<String>,
    /// Street address, at most 200 characters.
    #[serde(default)]
    #[schema(schema_with = crate::input::address_schema)]
    pub address: Option<String>,
    /// City, at most 100 characters.
    #[serde(default)]
    #[schema(schema_with = crate::input::place_schema)]
    pub city: Option<String>,
    /// State or region, at most 100 characters.
    #[serde(default)]
    #[schema(schema_with = crate::input::place_schema)]
    pub state: Option<String>,
    /// Postal code: 3-10 letters, digits, spaces or `-`.
    #[serde(default)]
    #[schema(schema_with = crate::input::postal_code_schema)]
    pub postal_code: Option<String>,
    /// Blood group.
    #[serde(default)]
    pub blood_group: Option<BloodGroup>,
    /// Height in centimetres, 20-300.
    #[serde(default)]
    #[schema(minimum = 20, maximum = 300)]
    pub height_cm: Option<f64>,
    /// Weight in kilograms, 0.2-700.
    #[serde(default)]
    #[schema(minimum = 0.2, maximum = 700)]
    pub weight_kg: Option<f64>,
    /// Known allergies, at most 1000 characters.
    #[serde(default)]
    #[schema(schema_with = crate::input::allergies_schema)]
    pub allergies: Option<String>,
    /// Emergency contact, at most 200 characters.
    #[serde(default)]
    #[schema(schema_with = crate::input::address_schema)]
    pub emergency_contact: Option<String>,
}

/// `PATCH /api/v1/admin/patients/{id}`: absent fields stay; `null` clears an optional field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePatient {
    /// New login and contact email.
    #[serde(default)]
    #[schema(schema_with = crate::input::opt_email_schema)]
    pub email: Option<String>,
    /// New given name.
    #[serde(default)]
    #[schema(schema_with = crate::input::opt_name_schema)]
    pub first_name: Option<String>,
    /// New family name.
    #[serde(default)]
    #[schema(schema_with = crate::input::opt_name_schema)]
    pub last_name: Option<String>,
    /// New date of birth.
    #[serde(default)]
    pub date_of_birth: Option<NaiveDate>,
    /// New sex.
    #[serde(default)]
    pub sex: Option<Sex>,
    /// New phone, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::input::phone_schema)]
    pub phone: Option<Option<String>>,
    /// New address, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::input::address_schema)]
    pub address: Option<Option<String>>,
    /// New city, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::input::place_schema)]
    pub city: Option<Option<String>>,
    /// New state, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::input::place_schema)]
    pub state: Option<Option<String>>,
    /// New postal code, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::input::postal_code_schema)]
    pub postal_code: Option<Option<String>>,
    /// New blood group, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<BloodGroup>)]
    pub blood_group: Option<Option<BloodGroup>>,
    /// New height, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<f64>, minimum = 20, maximum = 300)]
    pub height_cm: Option<Option<f64>>,
    /// New weight, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<f64>, minimum = 0.2, maximum = 700)]
    pub weight_kg: Option<Option<f64>>,
    /// New allergies, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::input::allergies_schema)]
    pub allergies: Option<Option<String>>,
    /// New emergency contact, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::input::address_schema)]
    pub emergency_contact: Option<Option<String>>,
}

/// `PATCH /api/v1/me/profile`: the contact fields a patient may change themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateContact {
    /// New phone, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::input::phone_schema)]
    pub phone: Option<Option<String>>,
    /// New address, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::input::address_schema)]
    pub address: Option<Option<String>>,
    /// New city, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::input::place_schema)]
    pub city: Option<Option<String>>,
    /// New state, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::input::place_schema)]
    pub state: Option<Option<String>>,
    /// New postal code, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::input::postal_code_schema)]
    pub postal_code: Option<Option<String>>,
    /// New emergency contact, or `null` to clear.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::input::address_schema)]
    pub emergency_contact: Option<Option<String>>,
}

/// Answer to creating a patient: the account and its one-time temporary password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreatedPatient {
    /// The new patient.
    pub patient: Patient,
    /// Shown once when the server has no SMTP; the patient must change it at first sign-in.
    /// `None` when SMTP is configured: it went to the patient's e-mail and staff never see it.
    pub temporary_password: Option<String>,
}
