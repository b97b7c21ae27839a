//! Clinical history: doctors' visit notes and the patient's timeline of notes and records.

pub mod notes;
pub mod timeline;
