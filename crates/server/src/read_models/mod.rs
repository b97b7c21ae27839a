//! Read models: views assembled from several tables for display (display names for ids, the
//! patient's access log). They read only; every domain that shows names or the access log
//! uses them instead of joining on its own.

pub mod access_log;
pub mod names;
