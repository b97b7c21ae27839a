//! Storage configuration: chunking, erasure coding, concurrency and the bucket list.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::ConfigError;

/// Smallest accepted chunk size (4 KiB): below it the 16-byte tag and per-object overhead dominate.
pub const MIN_CHUNK_SIZE: usize = 4 * 1024;
/// Largest accepted chunk size (64 MiB): memory use is a small multiple of `chunk_size * (k + m)`.
pub const MAX_CHUNK_SIZE: usize = 64 * 1024 * 1024;
/// Upper bound of `k + m` (keeps manifests and stripes small; RS supports far more).
pub const MAX_SHARDS: usize = 64;

/// How records are cut, coded and spread, and where the buckets are.
///
/// Peak memory of one put or get is about
/// `chunk_size * (k + m) * (parallelism + stripes_in_flight + 1)` where
/// `stripes_in_flight = ceil(concurrency / (k + m))`, plus one Reed-Solomon work area of about
/// `chunk_size * (k + m)` per `parallelism`; it never depends on the record size. The engine
/// keeps up to that many shard buffers and `parallelism` encoders for reuse (defaults on two
/// cores: 30 buffers of 1 MiB and 2 encoders). A get reads at most
/// `parallelism + stripes_in_flight + 1` stripes ahead (5 with the defaults on two cores),
/// each of at most `k + m` shards, so it stays within the same bound.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Plaintext bytes per chunk (default 1 MiB).
    pub chunk_size: usize,
    /// Data shards per stripe (default 4).
    pub k: usize,
    /// Parity shards per stripe (default 2; 0 = no parity, one random bucket per chunk).
    pub m: usize,
    /// Bound on concurrent shard uploads/downloads across the whole engine (default 12).
    pub concurrency: usize,
    /// Stripes sealed/coded/verified at once on blocking threads (default: available cores).
    pub parallelism: usize,
    /// The buckets; at least `k + m`.
    pub buckets: Vec<BucketConfig>,
    /// How the engine rides out a provider that fails, hangs or is slow (`[storage.faults]`).
    pub faults: FaultConfig,
}

/// Provider faults: the circuit breaker, hedged reads and the S3 clients' time limits.
///
/// A provider's breaker opens after `breaker_failures` consecutive failed shard operations (a
/// failed read or write, or a read abandoned after the hedge delay because other shards
/// answered first) and stays open for `breaker_cooldown_secs`: meanwhile uploads place no shard
/// there and downloads read other shards of each stripe first. After the cooldown one
/// operation at a time is a probe: a success closes the breaker, a failure opens it again at
/// once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Consecutive failures that open a provider's breaker (default 3; 0 = never open).
    pub breaker_failures: u32,
    /// Seconds a breaker stays open before a probe (default 30).
    pub breaker_cooldown_secs: u64,
    /// A shard read that has not answered after this long makes a download start reading one
    /// more shard of the stripe (parity), at the earliest (default 100 ms).
    pub hedge_min_ms: u64,
    /// ... and at the latest (default 1000 ms). Between the two, the delay is four times the
    /// recent average time of a shard read (an exponentially weighted moving average). An
    /// upload gives up a shard write still running this long after another write of its
    /// stripe succeeded, and places the shard elsewhere (hedged writes).
    pub hedge_max_ms: u64,
    /// The longest one stripe of a download may take, hedges and retries included; past it the
    /// download fails (default 30 s).
    pub stripe_timeout_secs: u64,
    /// S3: time limit to open a connection (default 2000 ms).
    pub connect_timeout_ms: u64,
    /// S3: time limit from sending a request to the first byte of its answer (default 10 s).
    pub first_byte_timeout_secs: u64,
    /// S3: time limit of one attempt of an operation, body included (default 30 s).
    pub attempt_timeout_secs: u64,
    /// S3: attempts per operation, the first included (default 3; the SDK backs off from
    /// 100 ms between them).
    pub max_attempts: u32,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            breaker_failures: 3,
            breaker_cooldown_secs: 30,
            hedge_min_ms: 100,
            hedge_max_ms: 1000,
            stripe_timeout_secs: 30,
            connect_timeout_ms: 2000,
            first_byte_timeout_secs: 10,
            attempt_timeout_secs: 30,
            max_attempts: 3,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            chunk_size: 1024 * 1024,
            k: 4,
            m: 2,
            concurrency: 12,
            parallelism: std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            buckets: Vec::new(),
            faults: FaultConfig::default(),
        }
    }
}

/// One bucket: a local directory or an S3 bucket on some endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum BucketConfig {
    /// A directory holding one file per object (the embedded default).
    Dir {
        /// Name used in manifests; must stay stable once data is written.
        name: String,
        /// Directory; created if missing.
        path: PathBuf,
        /// Failure domain (see [`BucketConfig::provider`]); default: the bucket's own name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider: Option<String>,
    },
    /// A bucket on an S3-compatible service.
    S3 {
        /// Name used in manifests; must stay stable once data is written.
        name: String,
        /// The S3 bucket name.
        bucket: String,
        /// Endpoint URL (`http://127.0.0.1:3900`); none = AWS default for the region.
        #[serde(default)]
        endpoint: Option<String>,
        /// Region (`us-east-1`, `garage`, ...).
        region: String,
        /// Path-style addressing (needed by most self-hosted servers).
        #[serde(default)]
        path_style: bool,
        /// Access key id.
        access_key_id: String,
        /// Secret access key; redacted in `Debug`.
        #[serde(serialize_with = "serialize_secret")]
        secret_access_key: SecretString,
        /// Failure domain (see [`BucketConfig::provider`]); default: the endpoint's host and
        /// port (or `aws:<region>` without an endpoint).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider: Option<String>,
    },
}

impl BucketConfig {
    /// The bucket's name as used in manifests.
    pub fn name(&self) -> &str {
        match self {
            Self::Dir { name, .. } | Self::S3 { name, .. } => name,
        }
    }

    /// The provider (failure domain) the bucket belongs to: buckets that one outage takes down
    /// together (one cloud account, one S3 endpoint). Placement puts no more than `m` shards of
    /// a stripe on one provider where the configured providers allow it, so that losing a whole
    /// provider loses no record.
    pub fn provider(&self) -> String {
        match self {
            Self::Dir {
                provider: Some(p), ..
            }
            | Self::S3 {
                provider: Some(p), ..
            } => p.clone(),
            Self::Dir { name, .. } => format!("dir:{name}"),
            Self::S3 {
                endpoint, region, ..
            } => endpoint.as_deref().map_or_else(
                || format!("aws:{region}"),
                |e| {
                    let e = e.trim_end_matches('/').to_ascii_lowercase();
                    e.split_once("://")
                        .map_or(e.clone(), |(_, host)| host.to_owned())
                },
            ),
        }
    }

    /// Opens the bucket's store (a directory is created; an S3 client is built without network
    /// traffic) with the default time limits.
    pub fn open(&self) -> Result<std::sync::Arc<dyn crate::store::BlobStore>, ConfigError> {
        self.open_with(&FaultConfig::default())
    }

    /// Opens the bucket's store; an S3 client gets the time limits and attempts of `faults`.
    pub fn open_with(
        &self,
        faults: &FaultConfig,
    ) -> Result<std::sync::Arc<dyn crate::store::BlobStore>, ConfigError> {
        use crate::store::{DirStore, S3Settings, S3Store};
        Ok(match self {
            Self::Dir { name, path, .. } => {
                std::sync::Arc::new(DirStore::new(path).map_err(|e| ConfigError::Store {
                    bucket: name.clone(),
                    reason: e.to_string(),
                })?)
            }
            Self::S3 {
                bucket,
                endpoint,
                region,
                path_style,
                access_key_id,
                secret_access_key,
                ..
            } => std::sync::Arc::new(S3Store::new(&S3Settings {
                bucket: bucket.clone(),
                endpoint: endpoint.clone(),
                region: region.clone(),
                path_style: *path_style,
                access_key_id: access_key_id.clone(),
                secret_access_key: secret_access_key.clone(),
                limits: crate::store::S3Limits::from(faults),
            })),
        })
    }

    /// Where the objects physically live. Two bucket names with the same location are one
    /// failure domain, so shards of a stripe placed there are misplaced (see
    /// [`crate::RecordClass::Misplaced`]).
    pub(crate) fn location(&self) -> String {
        match self {
            Self::Dir { path, .. } => {
                let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                format!("dir:{}", real.display())
            }
            Self::S3 {
                bucket,
                endpoint,
                region,
                ..
            } => {
                let host = endpoint.as_deref().map_or_else(
                    || format!("aws:{region}"),
                    |e| e.trim_end_matches('/').to_ascii_lowercase(),
                );
                format!("s3:{host}/{bucket}")
            }
        }
    }
}

/// Serialises the secret so a config can be written back to a file. `Debug` stays redacted.
fn serialize_secret<S: Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose_secret())
}

impl StorageConfig {
    /// Checks every bound; the engine refuses to start on an invalid configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.k == 0 || self.k + self.m > MAX_SHARDS {
            return Err(ConfigError::InvalidCoding {
                k: self.k,
                m: self.m,
            });
        }
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&self.chunk_size) {
            return Err(ConfigError::ChunkSize(self.chunk_size));
        }
        if !(1..=1024).contains(&self.concurrency) || !(1..=1024).contains(&self.parallelism) {
            return Err(ConfigError::Concurrency(
                self.concurrency.min(self.parallelism),
            ));
        }
        if self.buckets.len() < self.k + self.m {
            return Err(ConfigError::TooFewBuckets {
                buckets: self.buckets.len(),
                needed: self.k + self.m,
            });
        }
        let f = &self.faults;
        if f.hedge_min_ms > f.hedge_max_ms
            || f.stripe_timeout_secs == 0
            || f.connect_timeout_ms == 0
            || f.first_byte_timeout_secs == 0
            || f.attempt_timeout_secs == 0
            || !(1..=10).contains(&f.max_attempts)
        {
            return Err(ConfigError::Faults);
        }
        let mut seen = std::collections::HashSet::new();
        for b in &self.buckets {
            let name = b.name();
            if name.is_empty() || name.len() > 64 || !name.bytes().all(|c| c.is_ascii_graphic()) {
                return Err(ConfigError::BadBucketName(name.to_owned()));
            }
            if !seen.insert(name) {
                return Err(ConfigError::DuplicateBucket(name.to_owned()));
            }
        }
        Ok(())
    }

    /// Stripes one put keeps uploading at once; also how shallow a get's read-ahead starts.
    pub(crate) fn stripes_in_flight(&self) -> usize {
        self.concurrency.div_ceil(self.k + self.m).max(1)
    }

    /// Stripes one put can hold in memory at once: being read, being coded, being uploaded;
    /// also the deepest read-ahead of a get ([`crate::ahead`]).
    pub(crate) fn stripes_held(&self) -> usize {
        self.parallelism + self.stripes_in_flight() + 1
    }

    /// Bytes of shards and coding work areas one put or get holds at most, whatever the
    /// record's size: the buffers of [`Self::stripes_held`] stripes plus one Reed-Solomon work
    /// area of a stripe's size per `parallelism` (the per-transfer bound the README states; a
    /// server's transfers together stay within `max_transfers` times it).
    #[must_use]
    pub fn transfer_memory_bound(&self) -> usize {
        self.chunk_size * (self.k + self.m) * (self.stripes_held() + self.parallelism)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(n: usize) -> Vec<BucketConfig> {
        (0..n)
            .map(|i| BucketConfig::Dir {
                name: format!("b{i}"),
                path: format!("/tmp/b{i}").into(),
                provider: None,
            })
            .collect()
    }

    #[test]
    fn validation_refuses_bad_configs() {
        let ok = StorageConfig {
            buckets: dirs(6),
            ..StorageConfig::default()
        };
        assert!(ok.validate().is_ok());
        let few = StorageConfig {
            buckets: dirs(5),
            ..ok.clone()
        };
        assert_eq!(
            few.validate(),
            Err(ConfigError::TooFewBuckets {
                buckets: 5,
                needed: 6
            })
        );
        let k0 = StorageConfig { k: 0, ..ok.clone() };
        assert!(matches!(
            k0.validate(),
            Err(ConfigError::InvalidCoding { .. })
        ));
        let tiny = StorageConfig {
            chunk_size: 10,
            ..ok.clone()
        };
        assert_eq!(tiny.validate(), Err(ConfigError::ChunkSize(10)));
        let mut dup = ok.clone();
        dup.buckets.push(dup.buckets[0].clone());
        assert!(matches!(
            dup.validate(),
            Err(ConfigError::DuplicateBucket(_))
        ));
    }

    #[test]
    fn s3_secret_is_not_debug_printed_and_parses_from_toml() {
        let cfg: StorageConfig = toml::from_str(
            r#"
            k = 1
            m = 0
            [[buckets]]
            kind = "s3"
            name = "a"
            bucket = "bkt"
            endpoint = "http://127.0.0.1:3900"
            region = "garage"
            path_style = true
            access_key_id = "GK1"
            secret_access_key = "very-secret-value"
            "#,
        )
        .expect("parse");
        assert!(cfg.validate().is_ok());
        assert!(!format!("{cfg:?}").contains("very-secret-value"));
        assert!(
            toml::to_string(&cfg)
                .expect("ser")
                .contains("very-secret-value")
        );
    }
}
