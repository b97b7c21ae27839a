//! Storage that heals itself (see `docs/operations.md`): scrubbing every shard of every live
//! record, repairing what is damaged, re-spreading what is misplaced, draining a bucket or a
//! provider, and the checks at start that every bucket a manifest names is configured.
//!
//! The engine does the shard work ([`medvault_engine::Engine::heal`]) on ciphertext only; this
//! module decides what to heal and when, commits the new manifests (ledgered as
//! `record.repair`), and keeps each record's class and pending repair in `record_storage`.

pub mod check;
pub mod drain;
pub mod heal;
pub mod health;
pub mod outages;
pub mod scrubber;

use serde::{Deserialize, Serialize};

/// The background scrubber (the `[scrub]` table of the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScrubConfig {
    /// Seconds between passes of the background scrubber; 0 turns it off (default 600).
    pub interval_secs: u64,
    /// Records checked per pass, queued repairs first (default 200).
    pub records_per_pass: u32,
    /// Shard bytes the scrubber reads per second at most, in MiB (default 32; 0 = no limit).
    pub max_mib_per_sec: u32,
    /// A provider unreachable for less than this many seconds is only "unavailable": its
    /// shards are left alone and their repair waits. Past it, they are rebuilt elsewhere
    /// (default 21600 = 6 hours). An operator can drain it sooner (`medvault storage drain`).
    pub outage_grace_secs: u64,
}

impl Default for ScrubConfig {
    fn default() -> Self {
        Self {
            interval_secs: 600,
            records_per_pass: 200,
            max_mib_per_sec: 32,
            outage_grace_secs: 6 * 3600,
        }
    }
}
