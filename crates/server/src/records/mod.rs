//! Records: upload (streamed into the engine), metadata, download (streamed out of it) and
//! crypto-shredding deletion, with the ledger entries that go with each.

pub mod collector;
pub mod download;
pub mod filename;
pub mod service;
pub mod sniff;
pub mod upload;

use serde::{Deserialize, Serialize};

/// Limits of record uploads (the `[records]` table of the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordsConfig {
    /// Largest file accepted, in bytes (default 100 MiB).
    pub max_file_bytes: u64,
    /// Bytes one patient may store in all (default 2 GiB).
    pub quota_bytes: u64,
    /// Content types accepted (detected from the bytes).
    pub allowed_types: Vec<String>,
    /// Seconds between runs of the shard collector.
    pub collector_interval_secs: u64,
    /// Unreferenced shards younger than this are left alone (uploads in flight), in seconds.
    pub gc_grace_secs: u64,
}

impl Default for RecordsConfig {
    fn default() -> Self {
        Self {
            max_file_bytes: medvault_types::DEFAULT_MAX_FILE_BYTES,
            quota_bytes: 2 * 1024 * 1024 * 1024,
            allowed_types: sniff::DEFAULT_ALLOWED
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            collector_interval_secs: 60,
            gc_grace_secs: 6 * 3600,
        }
    }
}
