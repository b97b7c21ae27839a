//! The doctor's screens.

mod access;
mod consent;
mod emergency;
mod patient_page;
mod patients;

pub use access::{Access, status_badge};
pub use emergency::Emergency;
pub use patient_page::PatientPage;
pub use patients::MyPatients;
