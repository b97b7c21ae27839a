//! Streaming download: per stripe fetch the data shards (then parity for any erasure), verify
//! each shard's hash, rebuild and open on a blocking thread, and yield plaintext chunks in order.

use std::sync::{Arc, Mutex};

use aes_gcm::Aes256Gcm;
use bytes::Bytes;
use futures_util::{Stream, StreamExt, future, stream};
use uuid::Uuid;

use crate::engine::{Engine, Inner};
use crate::error::{EngineError, Erasure, StoreError};
use crate::keyring::WrappedDek;
use crate::manifest::{Manifest, ShardEntry, ShardHash};
use crate::stripe;

/// Erasures met while reading a record, for repair. Readable while and after the stream runs.
#[derive(Debug, Clone, Default)]
pub struct GetReport {
    found: Arc<Mutex<Vec<Erasure>>>,
}

impl GetReport {
    /// Missing or corrupt shards found so far.
    pub fn erasures(&self) -> Vec<Erasure> {
        self.found
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn push(&self, e: Erasure) {
        tracing::warn!(erasure = %e, "shard erasure; record needs repair");
        self.found
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(e);
    }
}

/// Plaintext stream of a record.
pub type RecordStream = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, EngineError>> + Send>>;

impl Engine {
    /// Reads a record back. Errors (invalid manifest, wrong key, too many erasures, failed tag)
    /// arrive as a stream item and end the stream; every yielded chunk was authenticated.
    /// The stream ends with `Ok` items only if the whole record, up to its final chunk, was read.
    pub fn get(
        &self,
        manifest: &Manifest,
        wrapped: &WrappedDek,
        record_id: Uuid,
    ) -> impl Stream<Item = Result<Bytes, EngineError>> + Send + 'static {
        match self.get_with_report(manifest, wrapped, record_id) {
            Ok((s, _)) => s,
            Err(e) => stream::once(future::ready(Err(e))).boxed(),
        }
    }

    /// Like [`Engine::get`], but checks the manifest and unwraps the DEK before returning (so a
    /// server can answer with an error status before it starts a body), and returns a report
    /// of the erasures met.
    pub fn get_with_report(
        &self,
        manifest: &Manifest,
        wrapped: &WrappedDek,
        record_id: Uuid,
    ) -> Result<(RecordStream, GetReport), EngineError> {
        manifest.validate()?;
        for s in &manifest.shards {
            self.inner.store_index(&s.bucket)?;
        }
        let dek = self.inner.keys.unwrap_dek(record_id.as_bytes(), wrapped)?;
        let cipher = Arc::new(dek.cipher());
        drop(dek);
        let report = GetReport::default();
        let manifest = Arc::new(manifest.clone());
        let inner = Arc::clone(&self.inner);
        let layout = manifest.layout();
        let r = report.clone();
        let mut failed = false;
        let s = stream::iter(0..layout.stripe_count())
            .map(move |s| {
                let (inner, manifest, cipher, r) = (
                    Arc::clone(&inner),
                    Arc::clone(&manifest),
                    Arc::clone(&cipher),
                    r.clone(),
                );
                async move { read_stripe(inner, manifest, cipher, record_id, s, r).await }
            })
            .buffered(
                self.inner
                    .cfg
                    .parallelism
                    .max(self.inner.cfg.stripes_in_flight()),
            )
            .take_while(move |item| {
                let go = !failed;
                failed |= item.is_err();
                future::ready(go)
            })
            .flat_map(|item| match item {
                Ok(chunks) => stream::iter(chunks.into_iter().map(Ok)).left_stream(),
                Err(e) => stream::once(future::ready(Err(e))).right_stream(),
            })
            .boxed();
        Ok((s, report))
    }
}

async fn read_stripe(
    inner: Arc<Inner>,
    manifest: Arc<Manifest>,
    cipher: Arc<Aes256Gcm>,
    record_id: Uuid,
    s: u64,
    report: GetReport,
) -> Result<Vec<Bytes>, EngineError> {
    let layout = manifest.layout();
    let entries = manifest.stripe_shards(s);
    let alg = manifest.shard_hash;
    let d = usize::try_from(layout.data_shards(s)).map_err(|_| EngineError::Worker)?;
    let mut slots: Vec<Option<Bytes>> = vec![None; entries.len()];
    let mut have = 0;
    let mut next = 0;
    // Data shards first; on erasures, as many parity shards as are still missing, until k good
    // shards are in hand or none are left.
    while have < d && next < entries.len() {
        let want = (d - have).min(entries.len() - next);
        let batch: Vec<usize> = (next..next + want).collect();
        next += want;
        let fetched = future::join_all(
            batch
                .iter()
                .map(|&i| fetch_verified(&inner, &entries[i], alg)),
        )
        .await;
        for (i, res) in batch.into_iter().zip(fetched) {
            match res {
                Ok(b) => {
                    slots[i] = Some(b);
                    have += 1;
                }
                Err(reason) => report.push(Erasure {
                    stripe: s,
                    index: entries[i].index,
                    bucket: entries[i].bucket.clone(),
                    key: entries[i].key.clone(),
                    reason,
                }),
            }
        }
    }
    if have < d {
        return Err(EngineError::TooManyErasures {
            stripe: s,
            erasures: entries.len() - have,
            m: entries.len() - d,
        });
    }
    tokio::task::spawn_blocking(move || stripe::decode(&cipher, &record_id, &layout, s, slots))
        .await
        .map_err(|_| EngineError::Worker)?
}

/// Fetches a shard and checks its length and `alg` digest (off the executor) against the
/// manifest; any failure is an erasure, so only verified shards ever reach the decoder.
pub(crate) async fn fetch_verified(
    inner: &Inner,
    e: &ShardEntry,
    alg: ShardHash,
) -> Result<Bytes, String> {
    let idx = inner.store_index(&e.bucket).map_err(|x| x.to_string())?;
    let data = {
        let _permit = inner.io.acquire().await.map_err(|x| x.to_string())?;
        inner.stores[idx].1.get(&e.key, e.len).await
    };
    let data = data.map_err(|x| match x {
        StoreError::NotFound => "missing".to_owned(),
        other => other.to_string(),
    })?;
    if data.len() as u64 != e.len {
        return Err("wrong length".to_owned());
    }
    let expected = e.digest();
    tokio::task::spawn_blocking(move || {
        (expected == Some(alg.digest(&data)))
            .then_some(data)
            .ok_or_else(|| format!("{} mismatch", alg.name()))
    })
    .await
    .map_err(|x| x.to_string())?
}
