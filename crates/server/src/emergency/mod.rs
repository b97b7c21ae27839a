//! Emergency access (break-glass, HIPAA 164.312(a)(2)(ii)): a doctor opens time-limited read
//! access to a patient who cannot consent.
//!
//! * **Who and how.** Any active doctor, naming the patient by id or MRN, with a reason from a
//!   fixed list ([`medvault_types::EmergencyReason`]) and a written justification, after a
//!   fresh password confirmation (the one "recently authenticated" rule, `auth::recent`).
//! * **What it opens.** For `emergency.default_minutes` (default 4 h, at most
//!   `emergency.max_minutes`, never more than 24 h): the profile, every record's metadata,
//!   notes and content, and every visit note: the rules live in [`crate::access`], with the
//!   basis `emergency` and the session's id on every read's ledger entry.
//! * **Limits.** `emergency.per_doctor_per_day` openings per doctor in any 24 hours (counted
//!   under a row lock, so concurrent openings cannot exceed it); one open session per
//!   (doctor, patient); `emergency.enabled = false` switches it off (403).
//! * **Seen by everyone concerned.** The patient is told at once (their list and home page;
//!   an e-mail when SMTP is configured) and sees each read marked `emergency` in "Who saw my
//!   records". Every administrator sees the review queue; each access is reviewed once
//!   (justified / not justified, with a comment) and the patient sees the outcome.
//! * **On the ledger.** `emergency.start`, every read, `emergency.end` (the doctor ended it,
//!   or the expiry sweep closed it) and `emergency.review`. The justification is sealed with
//!   the patient's key in the database; the ledger holds its SHA-256, not its text.

pub mod lifecycle;
pub mod review;
pub mod views;

use serde::{Deserialize, Serialize};

/// Longest emergency access any configuration may allow, in minutes.
pub const HARD_MAX_MINUTES: u32 = 24 * 60;

/// The `[emergency]` table of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmergencyConfig {
    /// Whether doctors may open emergency access at all.
    pub enabled: bool,
    /// How long an emergency access lasts when the doctor does not say, in minutes.
    pub default_minutes: u32,
    /// The longest a doctor may ask for, in minutes (at most 24 h).
    pub max_minutes: u32,
    /// Emergency accesses one doctor may open in any 24 hours.
    pub per_doctor_per_day: u32,
}

impl Default for EmergencyConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            default_minutes: 4 * 60,
            max_minutes: HARD_MAX_MINUTES,
            per_doctor_per_day: 3,
        }
    }
}

impl EmergencyConfig {
    /// Refuses limits out of range.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (1..=HARD_MAX_MINUTES).contains(&self.max_minutes)
                && (1..=self.max_minutes).contains(&self.default_minutes)
                && self.per_doctor_per_day >= 1,
            "emergency limits out of range: 1 <= default_minutes <= max_minutes <= {HARD_MAX_MINUTES}, per_doctor_per_day >= 1"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bounds_hold() {
        assert!(EmergencyConfig::default().validate().is_ok());
        let too_long = EmergencyConfig {
            max_minutes: HARD_MAX_MINUTES + 1,
            ..EmergencyConfig::default()
        };
        assert!(too_long.validate().is_err());
        let default_above_max = EmergencyConfig {
            default_minutes: 120,
            max_minutes: 60,
            ..EmergencyConfig::default()
        };
        assert!(default_above_max.validate().is_err());
        let no_openings = EmergencyConfig {
            per_doctor_per_day: 0,
            ..EmergencyConfig::default()
        };
        assert!(no_openings.validate().is_err());
    }
}
