//! The admin's screens.

mod accounts;
mod doctors;
mod ledger;
mod overview;
mod patients;

pub use doctors::Doctors;
pub use ledger::Ledger;
pub use overview::Overview;
pub use patients::Patients;
