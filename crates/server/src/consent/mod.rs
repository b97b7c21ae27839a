//! Consent: a doctor's access request, the patient's one-time code (per-request code or TOTP)
//! or in-app approval, and the grant it becomes. Every step is a ledger entry written in the
//! same transaction as the step.

pub mod codes;
pub mod grants;
pub mod rate;
pub mod requests;
pub mod totp;
pub mod totp_lock;

use serde::{Deserialize, Serialize};

/// Limits of the consent flow (the `[consent]` table of the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsentConfig {
    /// Minutes a per-request code stays valid.
    pub code_ttl_minutes: u32,
    /// Wrong codes that lock a request.
    pub max_attempts: u32,
    /// Hours a request stays open for a code or the patient's decision.
    pub request_ttl_hours: u32,
    /// Longest grant a doctor may ask for, in hours.
    pub max_grant_hours: u32,
    /// Downloads a grant allows.
    pub downloads_per_grant: u32,
    /// Failed redemptions one doctor may make across all requests within the window...
    pub doctor_failures_per_window: u32,
    /// ...of this many minutes, before further redemptions are refused with 429.
    pub doctor_failure_window_minutes: u32,
    /// Open (pending) requests a doctor may have for one patient at once.
    pub max_pending_per_patient: u32,
}

impl Default for ConsentConfig {
    fn default() -> Self {
        Self {
            code_ttl_minutes: 10,
            max_attempts: 5,
            request_ttl_hours: 24,
            max_grant_hours: 168,
            downloads_per_grant: 10,
            doctor_failures_per_window: 10,
            doctor_failure_window_minutes: 15,
            max_pending_per_patient: 5,
        }
    }
}
