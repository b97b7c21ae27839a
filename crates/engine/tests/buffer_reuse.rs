//! Pooled shard buffers: a buffer is reused only once no store holds it, so what a store was
//! handed never changes afterwards, whether the store keeps the bytes it was given (as an
//! in-memory cache or an S3 client retrying would) or copies them and lets go.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::{data, get, put, sha};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use medvault_engine::{BlobStore, Engine, ObjectInfo, StorageConfig, StoreError};
use uuid::Uuid;

/// An in-memory bucket: `keep` stores the very `Bytes` it is handed; otherwise a copy.
struct MemStore {
    keep: bool,
    objects: Mutex<HashMap<String, Bytes>>,
}

impl MemStore {
    fn objects(&self) -> HashMap<String, Bytes> {
        self.objects.lock().expect("lock").clone()
    }
}

impl BlobStore for MemStore {
    fn put(&self, key: &str, data: Bytes) -> BoxFuture<'_, Result<(), StoreError>> {
        let data = if self.keep {
            data
        } else {
            Bytes::copy_from_slice(&data)
        };
        self.objects
            .lock()
            .expect("lock")
            .insert(key.to_owned(), data);
        async { Ok(()) }.boxed()
    }
    fn get(&self, key: &str, _: u64) -> BoxFuture<'_, Result<Bytes, StoreError>> {
        let found = self.objects.lock().expect("lock").get(key).cloned();
        async move { found.ok_or(StoreError::NotFound) }.boxed()
    }
    fn delete(&self, key: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        self.objects.lock().expect("lock").remove(key);
        async { Ok(()) }.boxed()
    }
    fn list(&self) -> BoxFuture<'_, Result<Vec<ObjectInfo>, StoreError>> {
        async { Ok(Vec::new()) }.boxed()
    }
    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        async { Ok(()) }.boxed()
    }
}

async fn stored_objects_match_their_manifest(keep: bool) {
    let stores: Vec<Arc<MemStore>> = (0..6)
        .map(|_| {
            Arc::new(MemStore {
                keep,
                objects: Mutex::default(),
            })
        })
        .collect();
    let cfg = StorageConfig {
        chunk_size: common::SMALL_CHUNK,
        parallelism: 2,
        ..StorageConfig::default()
    };
    let named = stores
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("m{i}"), Arc::clone(s) as Arc<dyn BlobStore>))
        .collect();
    let engine = Engine::with_stores(cfg, common::keyring(), named).expect("engine");
    // Many stripes of distinct pseudo-random bytes, so a reused buffer that was still in use
    // would change some stored shard.
    let original = data(40 * common::SMALL_CHUNK + 123, 11);
    let id = Uuid::new_v4();
    let (manifest, wrapped) = put(&engine, id, &original).await;
    assert!(
        manifest.shards.len() >= 60,
        "{} shards",
        manifest.shards.len()
    );
    for entry in &manifest.shards {
        let idx: usize = entry.bucket[1..].parse().expect("bucket index");
        let object = stores[idx].objects()[&entry.key].clone();
        assert_eq!(object.len() as u64, entry.len);
        assert_eq!(
            hex::encode(manifest.shard_hash.digest(&object)),
            entry.hash,
            "stripe {} shard {} changed after it was stored",
            entry.stripe,
            entry.index
        );
    }
    let back = get(&engine, &manifest, &wrapped, id).await.expect("get");
    assert_eq!(sha(&back), sha(&original));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_keeps_the_bytes_it_was_given_sees_them_unchanged() {
    stored_objects_match_their_manifest(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_copies_lets_buffers_be_reused_without_corruption() {
    stored_objects_match_their_manifest(false).await;
}
