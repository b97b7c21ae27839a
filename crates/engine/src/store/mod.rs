//! Object stores holding shard objects: one [`BlobStore`] per configured bucket.

mod dir;
mod s3;

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::future::BoxFuture;

pub use dir::DirStore;
pub use s3::{S3Limits, S3Settings, S3Store};

use crate::error::StoreError;

/// An object as listed for garbage collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Object key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modification (upload) time.
    pub modified: SystemTime,
}

/// A bucket of immutable objects. Implementations must be safe to call concurrently.
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `data` under `key`, atomically (a reader never sees a partial object).
    fn put(&self, key: &str, data: Bytes) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Reads the object; objects larger than `max_len` are refused without reading them whole.
    fn get(&self, key: &str, max_len: u64) -> BoxFuture<'_, Result<Bytes, StoreError>>;
    /// Deletes the object; deleting a missing object succeeds.
    fn delete(&self, key: &str) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Lists every object in the bucket that has a shard-key name.
    fn list(&self) -> BoxFuture<'_, Result<Vec<ObjectInfo>, StoreError>>;
    /// Checks that the bucket is reachable and usable.
    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Removes the store's own temporary files older than `grace` (what a crash in the middle
    /// of a write leaves behind) and returns how many. Stores whose writes leave nothing
    /// behind (an S3 put is atomic) keep this default.
    fn sweep_temporary(&self, grace: Duration) -> BoxFuture<'_, Result<usize, StoreError>> {
        let _ = grace;
        Box::pin(async { Ok(0) })
    }
}

/// Shard object keys are 32 lowercase hex characters (128 random bits); nothing else is ever
/// touched by GC, so a bucket shared with other data is safe.
pub fn is_shard_key(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}
