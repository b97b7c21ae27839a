//! Typed errors of the engine. `Display` never carries key material or plaintext.

use std::fmt;

/// A configuration that cannot be served safely; refused before any I/O happens.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// `k` must be at least 1 and `k + m` at most the shard-count limit of the RS codec.
    #[error("invalid erasure coding parameters: k={k}, m={m}")]
    InvalidCoding {
        /// Data shards per stripe.
        k: usize,
        /// Parity shards per stripe.
        m: usize,
    },
    /// Each shard of a stripe needs its own bucket.
    #[error("{buckets} buckets configured, but k + m = {needed} are needed")]
    TooFewBuckets {
        /// Buckets configured.
        buckets: usize,
        /// Buckets needed (`k + m`).
        needed: usize,
    },
    /// Bucket names identify buckets in manifests, so they must be unique.
    #[error("bucket name {0:?} is used twice")]
    DuplicateBucket(String),
    /// Bucket names end up in manifests; keep them short and printable.
    #[error("bucket name {0:?} is empty, too long or not printable ASCII")]
    BadBucketName(String),
    /// Chunks must be big enough to amortise the tag and small enough to bound memory.
    #[error("chunk_size {0} is outside {min}..={max}", min = crate::config::MIN_CHUNK_SIZE, max = crate::config::MAX_CHUNK_SIZE)]
    ChunkSize(usize),
    /// Concurrency 0 would deadlock; very large values defeat the memory bound.
    #[error("concurrency {0} is outside 1..=1024")]
    Concurrency(usize),
    /// A time limit of `[storage.faults]` is zero, the hedge delays are reversed, or
    /// `max_attempts` is outside 1..=10.
    #[error(
        "storage.faults: time limits must be positive, hedge_min_ms <= hedge_max_ms, max_attempts in 1..=10"
    )]
    Faults,
    /// A store could not be built from its bucket configuration.
    #[error("bucket {bucket}: {reason}")]
    Store {
        /// Bucket name.
        bucket: String,
        /// What went wrong (no secrets).
        reason: String,
    },
}

/// Errors of the key ring and of small-blob sealing.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key ring text is not `id:base64[,id:base64...]` with 32-byte keys and unique ids.
    #[error("malformed key ring: {0}")]
    Malformed(&'static str),
    /// The key file is readable by group or others; refuse to use it.
    #[error("key file {0} must not be readable by group or others (chmod 600)")]
    Permissions(String),
    /// Reading or writing the key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The wrapped key names a KEK id this ring does not hold.
    #[error("unknown key-encryption key id {0:?}")]
    UnknownKek(String),
    /// Authentication failed: wrong key, wrong subject, or tampered bytes.
    #[error("authentication failed")]
    Authentication,
}

/// Errors of a single blob store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist.
    #[error("object not found")]
    NotFound,
    /// The object is larger than the caller allows.
    #[error("object larger than {0} bytes")]
    TooLarge(u64),
    /// Local file system error.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Remote store error (message from the SDK, no credentials).
    #[error("s3: {0}")]
    S3(String),
    /// The operation had not answered a hedge delay after the other shards of its stripe had,
    /// and was given up (the shard was placed or read elsewhere).
    #[error("no answer within the hedge delay ({0:?}); given up")]
    Abandoned(std::time::Duration),
}

/// A shard that could not be used: missing, corrupt, or failing to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// Stripe number.
    pub stripe: u64,
    /// Shard index within the stripe (`0..k` data, `k..k+m` parity).
    pub index: u32,
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Why it counts as an erasure.
    pub reason: String,
}

impl fmt::Display for Erasure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stripe {} shard {} ({}/{}): {}",
            self.stripe, self.index, self.bucket, self.key, self.reason
        )
    }
}

/// Errors of the engine's put, get, delete, gc and health operations.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Key ring or wrapped-key failure.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A shard could not be written; the upload was rolled back.
    #[error("writing shard to bucket {bucket} failed: {source}")]
    Write {
        /// Bucket name.
        bucket: String,
        /// Cause.
        #[source]
        source: StoreError,
    },
    /// A stripe lost more shards than it has parity.
    #[error("stripe {stripe}: {erasures} shards unusable, at most {m} can be repaired")]
    TooManyErasures {
        /// Stripe number.
        stripe: u64,
        /// Unusable shards found.
        erasures: usize,
        /// Parity shards per stripe.
        m: usize,
    },
    /// Fewer usable buckets than data shards per stripe (the others' providers failed or have
    /// an open circuit breaker): the upload was refused and rolled back.
    #[error("only {usable} buckets usable, {needed} needed for a stripe")]
    TooFewUsableBuckets {
        /// Buckets usable now.
        usable: usize,
        /// Data shards per stripe.
        needed: usize,
    },
    /// Reading a stripe took longer than `storage.faults.stripe_timeout_secs`.
    #[error("stripe {stripe}: not read within {secs} s")]
    StripeTimeout {
        /// Stripe number.
        stripe: u64,
        /// The limit.
        secs: u64,
    },
    /// A chunk failed to authenticate; nothing of it was released.
    #[error("chunk {chunk} failed authentication")]
    ChunkAuthentication {
        /// Chunk number.
        chunk: u64,
    },
    /// The manifest is inconsistent with itself (truncated, edited, or not ours).
    #[error("invalid manifest: {0}")]
    InvalidManifest(&'static str),
    /// The manifest names a bucket that is not configured.
    #[error("manifest names unknown bucket {0:?}")]
    UnknownBucket(String),
    /// Reed-Solomon codec failure (should not happen with a valid manifest).
    #[error("erasure codec: {0}")]
    Codec(String),
    /// A blocking worker task panicked or was cancelled.
    #[error("worker task failed")]
    Worker,
    /// Listing or deleting objects failed.
    #[error("bucket {bucket}: {source}")]
    Store {
        /// Bucket name.
        bucket: String,
        /// Cause.
        #[source]
        source: StoreError,
    },
}

/// Error of [`crate::Engine::put`]: either the caller's own input error, passed back intact,
/// or an engine failure. In both cases every shard written so far has been deleted.
#[derive(Debug, thiserror::Error)]
pub enum PutError<E> {
    /// The input stream yielded this error (size limit, quota, broken multipart, ...).
    #[error("input stream failed")]
    Input(E),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}
