//! The screens, by role.

pub mod account;
pub mod admin;
pub mod doctor;
pub mod emergency_view;
pub mod patient;
pub mod people;
pub mod visit_note;
