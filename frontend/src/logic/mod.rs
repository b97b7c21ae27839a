//! Client logic with no browser in it: validation, error wording, session timing, formatting,
//! dialog focus order, the unlock link's code, the consent, care and emergency-access vocabulary,
//! storage health in words.
//! Everything here is plain Rust so `cargo test --lib` checks it on the host.

pub mod download;
pub mod emergency;
pub mod errors;
pub mod focus;
pub mod format;
pub mod session;
pub mod storage;
pub mod unlock;
pub mod upload;
pub mod validate;
pub mod wording;
