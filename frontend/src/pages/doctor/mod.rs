//! The doctor's screens.

mod access;
mod consent;
mod patient_page;
mod patients;

pub use access::{Access, status_badge};
pub use patient_page::PatientPage;
pub use patients::MyPatients;
