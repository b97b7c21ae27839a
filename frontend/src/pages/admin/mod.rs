//! The admin's screens.

mod accounts;
mod doctors;
mod emergency;
mod ledger;
mod overview;
mod patients;

pub use doctors::Doctors;
pub use emergency::EmergencyReviews;
pub use ledger::Ledger;
pub use overview::Overview;
pub use patients::Patients;
