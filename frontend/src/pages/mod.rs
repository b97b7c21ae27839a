//! The screens, by role.

pub mod account;
pub mod admin;
pub mod doctor;
pub mod emergency_view;
pub mod mfa;
pub mod patient;
pub mod people;
pub mod sign_in;
pub mod unlock;
pub mod visit_note;
