//! Accounts: users, doctor and patient profiles, care relations and account state. The
//! `async` functions are the use cases handlers call; the rest are steps that run inside a
//! use case's transaction.

pub mod care;
pub mod doctors;
pub mod patients;
pub mod status;
pub mod users;
