//! The screens, by role.

pub mod account;
pub mod admin;
pub mod people;
pub mod doctor;
pub mod patient;
