//! Streaming upload: cut the input into chunks, seal and code stripes on blocking threads (up to
//! `parallelism` at once), upload shards concurrently (bounded), roll back on any failure.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use aes_gcm::Aes256Gcm;
use bytes::{Buf, Bytes};
use futures_util::future::{FutureExt, abortable};
use futures_util::stream::FuturesUnordered;
use futures_util::{Stream, StreamExt, stream};
use rand::RngCore;
use rand::rngs::OsRng;
use uuid::Uuid;

use crate::engine::{Engine, Inner};
use crate::error::{EngineError, PutError, StoreError};
use crate::keyring::{Dek, WrappedDek};
use crate::manifest::{MANIFEST_VERSION, Manifest, ShardEntry, ShardHash};
use crate::placement::Spread;
use crate::pool::Pools;
use crate::stripe::{self, EncodedStripe, PlainStripe};

/// Objects an upload may have written; deleted if the upload fails.
type Attempted = Arc<Mutex<Vec<(usize, String)>>>;

impl Engine {
    /// Stores a record read from `input` and returns its manifest and wrapped DEK.
    ///
    /// Memory is bounded by the configuration, not the input size. If `input` yields `Err(e)`,
    /// or any shard cannot be written, every shard written so far is deleted and the error is
    /// returned (`PutError::Input(e)` intact, or `PutError::Engine`). Writes already in flight
    /// at that moment are awaited before the rollback. If the `put` future itself is dropped, a
    /// write in flight may still land; [`Engine::gc`] collects it.
    pub async fn put<S, E>(
        &self,
        record_id: Uuid,
        input: S,
    ) -> Result<(Manifest, WrappedDek), PutError<E>>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Send,
    {
        let dek = Dek::generate();
        let wrapped = self.inner.keys.wrap_dek(record_id.as_bytes(), &dek);
        let cipher = Arc::new(dek.cipher());
        drop(dek);
        let attempted: Attempted = Arc::default();
        match self.put_stripes(record_id, cipher, input, &attempted).await {
            Ok(manifest) => Ok((manifest, wrapped)),
            Err(e) => {
                let targets = std::mem::take(&mut *lock(&attempted));
                for (bucket, _, err) in self.inner.delete_all(targets).await {
                    tracing::warn!(%bucket, error = %err, "rollback of a failed upload could not delete a shard; gc will");
                }
                Err(e)
            }
        }
    }

    async fn put_stripes<S, E>(
        &self,
        record_id: Uuid,
        cipher: Arc<Aes256Gcm>,
        input: S,
        attempted: &Attempted,
    ) -> Result<Manifest, PutError<E>>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Send,
    {
        let cfg = &self.inner.cfg;
        let (k, m) = (cfg.k, cfg.m);
        // Per upload, so the buffers are freed when it ends (not kept while the engine idles).
        let pools = Arc::new(Pools::new(
            cfg.chunk_size,
            k + m,
            cfg.stripes_held(),
            cfg.parallelism,
        ));
        let reader = Reader {
            input: Box::pin(input),
            pending: Bytes::new(),
            chunk_size: cfg.chunk_size,
            k,
            next_stripe: 0,
            done: false,
            pools: Arc::clone(&pools),
        };
        let encoded = stream::unfold(reader, |mut r| async move {
            r.next_stripe().await.map(|item| (item, r))
        })
        .map({
            let pools = Arc::clone(&pools);
            move |item| {
                let cipher = Arc::clone(&cipher);
                let pools = Arc::clone(&pools);
                async move {
                    let plain = item?;
                    let bytes: usize = plain.chunks.iter().map(Vec::len).sum();
                    let enc = tokio::task::spawn_blocking(move || {
                        stripe::encode(&cipher, &record_id, m, ShardHash::CURRENT, plain, &pools)
                    })
                    .await
                    .map_err(|_| EngineError::Worker)??;
                    Ok::<_, PutError<E>>((enc, bytes as u64))
                }
            }
        })
        .buffered(cfg.parallelism);
        // After the first failure no new stripe starts, but the uploads already in flight are
        // driven to completion (not dropped mid-write), so the rollback sees every shard written.
        // Uploads finish in any order: a stripe waiting on a slow shard does not hold back the
        // next one (the entries are put in stripe order below).
        let failed = AtomicBool::new(false);
        let uploads = encoded
            .take_while(|_| std::future::ready(!failed.load(Ordering::Relaxed)))
            .map(|item| {
                let pools = &pools;
                async move {
                    let (enc, bytes) = item?;
                    let entries = self.inner.upload_stripe(enc, attempted, pools).await?;
                    Ok::<_, PutError<E>>((entries, bytes))
                }
            })
            .buffer_unordered(cfg.stripes_in_flight());
        let mut uploads = std::pin::pin!(uploads);
        let mut shards = Vec::new();
        let mut plaintext_len = 0u64;
        let mut first_error = None;
        while let Some(item) = uploads.next().await {
            match item {
                Ok((entries, bytes)) => {
                    shards.extend(entries);
                    plaintext_len += bytes;
                }
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        shards.sort_by_key(|e: &ShardEntry| (e.stripe, e.index));
        let mut manifest = Manifest {
            version: MANIFEST_VERSION,
            plaintext_len,
            chunk_size: cfg.chunk_size as u64,
            k: u32::try_from(k).map_err(|_| EngineError::InvalidManifest("k"))?,
            m: u32::try_from(m).map_err(|_| EngineError::InvalidManifest("m"))?,
            shard_hash: ShardHash::CURRENT,
            root_hash: String::new(),
            shards,
        };
        manifest.root_hash = manifest.compute_root();
        Ok(manifest)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Inner {
    /// Uploads a stripe's shards to buckets chosen by [`crate::placement`] among the usable ones
    /// (provider's circuit breaker not open). A shard whose write fails, or hangs past the
    /// write hedge delay while the stripe's other writes succeed ([`Inner::write_round`]), is
    /// written again on another usable bucket, of another provider where possible; when fewer
    /// usable buckets than shards are left, a bucket takes a second shard of the stripe under
    /// another key (the stripe is then misplaced, see [`Engine::is_misplaced`]). Fails only
    /// when fewer than `k` buckets are usable.
    async fn upload_stripe(
        &self,
        enc: EncodedStripe,
        attempted: &Attempted,
        pools: &Pools,
    ) -> Result<Vec<ShardEntry>, EngineError> {
        let stripe = enc.stripe;
        let mut waiting: Vec<(usize, Bytes, [u8; 32])> = enc
            .shards
            .into_iter()
            .enumerate()
            .map(|(i, (data, hash))| (i, data, hash))
            .collect();
        let mut placed: Vec<Option<ShardEntry>> = vec![None; waiting.len()];
        let mut failed_providers: HashSet<&str> = HashSet::new();
        let mut last_error = None;
        while !waiting.is_empty() {
            // Each provider's breaker is asked once a round: a half-open breaker lets one
            // caller through as its probe, so asking again would get another answer.
            let allowed: HashSet<&str> = self
                .providers
                .iter()
                .map(String::as_str)
                .collect::<HashSet<&str>>()
                .into_iter()
                .filter(|p| !failed_providers.contains(p) && self.breakers.allows(p))
                .collect();
            let usable = |i: usize| allowed.contains(self.providers[i].as_str());
            let count = (0..self.stores.len()).filter(|&i| usable(i)).count();
            if count < self.cfg.k {
                return Err(last_error.unwrap_or(EngineError::TooFewUsableBuckets {
                    usable: count,
                    needed: self.cfg.k,
                }));
            }
            let staying: Vec<usize> = placed
                .iter()
                .flatten()
                .filter_map(|e| self.by_name.get(&e.bucket).copied())
                .collect();
            let targets = crate::placement::choose(
                self,
                &staying,
                usable,
                &vec![None; waiting.len()],
                Spread::MayShare,
            );
            let mut jobs = Vec::with_capacity(waiting.len());
            for ((i, data, hash), store) in waiting.drain(..).zip(targets) {
                // At least one usable bucket, and shared buckets allowed: every shard has one.
                let store = store.ok_or(EngineError::Worker)?;
                let mut raw = [0u8; 16];
                OsRng.fill_bytes(&mut raw);
                let key = hex::encode(raw);
                lock(attempted).push((store, key.clone()));
                jobs.push(Write {
                    shard: i,
                    store,
                    key,
                    data,
                    hash,
                });
            }
            for (write, outcome) in self.write_round(jobs).await {
                let Write {
                    shard: i,
                    store,
                    key,
                    data,
                    hash,
                } = write;
                let (name, _) = &self.stores[store];
                let provider = self.providers[store].as_str();
                match outcome {
                    Ok(()) => {
                        self.breakers.success(provider);
                        let len = data.len() as u64;
                        pools.buffers.recycle(data);
                        placed[i] = Some(ShardEntry {
                            stripe,
                            index: u32::try_from(i).map_err(|_| EngineError::Worker)?,
                            bucket: name.clone(),
                            key,
                            len,
                            hash: hex::encode(hash),
                        });
                    }
                    Err(source) => {
                        tracing::warn!(bucket = %name, %provider, error = %source, "shard write failed; placing it elsewhere");
                        self.breakers.failure(provider);
                        failed_providers.insert(provider);
                        last_error = Some(EngineError::Write {
                            bucket: name.clone(),
                            source,
                        });
                        waiting.push((i, data, hash));
                    }
                }
            }
        }
        placed
            .into_iter()
            .map(|e| e.ok_or(EngineError::Worker))
            .collect()
    }
}

/// One shard write of an upload round: the shard's index in its stripe, the bucket, the new
/// object's key, the sealed bytes and their hash.
struct Write {
    shard: usize,
    store: usize,
    key: String,
    data: Bytes,
    hash: [u8; 32],
}

impl Inner {
    /// Runs one round of shard writes at once (each holding an I/O permit while it writes)
    /// and returns every write with its outcome. Hedged: once a write of the round has
    /// succeeded, a write still running a hedge delay (`hedge_max_ms`) after that success and
    /// after its own start is given up ([`StoreError::Abandoned`]), so a black-holed or
    /// crawling provider costs a stripe one hedge delay instead of the S3 client's time
    /// limits, and the breaker counts it as a failure. A given-up write is dropped
    /// mid-flight: an object it may still land is in the upload's rollback list, or an orphan
    /// that [`Engine::gc`] collects.
    async fn write_round(&self, jobs: Vec<Write>) -> Vec<(Write, Result<(), StoreError>)> {
        let hedge = self.breakers.write_hedge_delay();
        let started: Vec<OnceLock<Instant>> = jobs.iter().map(|_| OnceLock::new()).collect();
        let mut aborts = Vec::with_capacity(jobs.len());
        let mut running: FuturesUnordered<_> = jobs
            .iter()
            .enumerate()
            .map(|(j, w)| {
                let (store, key, data, started) =
                    (w.store, w.key.as_str(), w.data.clone(), &started[j]);
                let (write, abort) = abortable(async move {
                    let permit = self.io.acquire().await;
                    started.get_or_init(Instant::now);
                    let written = self.stores[store].1.put(key, data).await;
                    drop(permit);
                    written
                });
                aborts.push(abort);
                write.map(move |r| (j, r))
            })
            .collect();
        let mut outcomes: Vec<Option<Result<(), StoreError>>> = jobs.iter().map(|_| None).collect();
        let mut given_up = vec![false; jobs.len()];
        let mut first_success: Option<Instant> = None;
        loop {
            // When the next running write is to be given up (none before a success).
            let due = |j: usize, ok: Instant| started[j].get().map(|&t| t.max(ok) + hedge);
            let give_up_at = first_success.and_then(|ok| {
                (0..jobs.len())
                    .filter(|&j| outcomes[j].is_none() && !given_up[j])
                    .filter_map(|j| due(j, ok))
                    .min()
            });
            let next = match (give_up_at, first_success) {
                (Some(at), Some(ok)) => {
                    if let Ok(next) = tokio::time::timeout_at(at.into(), running.next()).await {
                        next
                    } else {
                        let now = Instant::now();
                        for j in 0..jobs.len() {
                            if outcomes[j].is_none() && due(j, ok).is_some_and(|at| at <= now) {
                                given_up[j] = true;
                                aborts[j].abort();
                            }
                        }
                        continue;
                    }
                }
                _ => running.next().await,
            };
            let Some((j, result)) = next else { break };
            let outcome = result.unwrap_or(Err(StoreError::Abandoned(hedge)));
            if outcome.is_ok() {
                first_success.get_or_insert_with(Instant::now);
            }
            outcomes[j] = Some(outcome);
        }
        drop(running);
        jobs.into_iter()
            .zip(outcomes)
            .map(|(w, o)| (w, o.unwrap_or(Err(StoreError::Abandoned(hedge)))))
            .collect()
    }
}

/// Cuts the input stream into stripes of up to `k` chunks of `chunk_size` bytes. A chunk is only
/// marked final once the input has ended, so the final flag is always right.
struct Reader<S> {
    input: Pin<Box<S>>,
    pending: Bytes,
    chunk_size: usize,
    k: usize,
    next_stripe: u64,
    done: bool,
    /// Source of the chunk buffers.
    pools: Arc<Pools>,
}

impl<S, E> Reader<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    async fn next_stripe(&mut self) -> Option<Result<PlainStripe, PutError<E>>> {
        if self.done {
            return None;
        }
        let mut chunks = Vec::with_capacity(self.k);
        let mut is_last = false;
        while chunks.len() < self.k && !is_last {
            // Room for the tag and the even-length padding, so sealing never reallocates.
            let mut buf = self.pools.shard_buffer();
            loop {
                let want = self.chunk_size - buf.len();
                let take = want.min(self.pending.len());
                buf.extend_from_slice(&self.pending[..take]);
                self.pending.advance(take);
                if !self.pending.is_empty() {
                    break; // chunk full and more input follows
                }
                match self.input.next().await {
                    Some(Ok(b)) => self.pending = b,
                    Some(Err(e)) => {
                        self.done = true;
                        return Some(Err(PutError::Input(e)));
                    }
                    None => {
                        is_last = true;
                        break;
                    }
                }
            }
            chunks.push(buf);
        }
        let stripe = self.next_stripe;
        self.next_stripe += 1;
        self.done = is_last;
        Some(Ok(PlainStripe {
            stripe,
            first_chunk: stripe * self.k as u64,
            chunks,
            is_last,
        }))
    }
}
