//! Streaming download: per stripe fetch the data shards (hedged: parity for a shard that fails
//! or is slow, see [`gather`]), verify each shard's hash, rebuild and open on a blocking
//! thread, and yield plaintext chunks in order. Stripes are read ahead in tasks of their own,
//! as many as [`crate::ahead`]'s window allows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aes_gcm::Aes256Gcm;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{Stream, StreamExt, future, stream};
use tokio::sync::OwnedSemaphorePermit;
use uuid::Uuid;

use crate::engine::{Engine, Inner};
use crate::error::{EngineError, Erasure, StoreError};
use crate::keyring::WrappedDek;
use crate::manifest::{Manifest, ShardEntry, ShardHash};
use crate::store::BlobStore;
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
        let cfg = &self.inner.cfg;
        let window = crate::ahead::Window::new(cfg.stripes_in_flight(), cfg.stripes_held());
        let read = move |s| {
            read_stripe(
                Arc::clone(&inner),
                Arc::clone(&manifest),
                Arc::clone(&cipher),
                record_id,
                s,
                r.clone(),
            )
        };
        let s = crate::ahead::in_order(layout.stripe_count(), window, read)
            .flat_map(|item| match item {
                Ok(chunks) => stream::iter(chunks.into_iter().map(Ok)).left_stream(),
                Err(e) => stream::once(future::ready(Err(e))).right_stream(),
            })
            .boxed();
        Ok((s, report))
    }
}

/// Reads stripe `s` within `stripe_timeout_secs`, then rebuilds and opens it; its chunks, and
/// whether every shard read of it answered in time at the first try (see [`crate::ahead`]).
async fn read_stripe(
    inner: Arc<Inner>,
    manifest: Arc<Manifest>,
    cipher: Arc<Aes256Gcm>,
    record_id: Uuid,
    s: u64,
    report: GetReport,
) -> crate::ahead::Read<Vec<Bytes>> {
    let layout = manifest.layout();
    let secs = inner.cfg.faults.stripe_timeout_secs;
    let (slots, clean) = tokio::time::timeout(
        Duration::from_secs(secs),
        gather(&inner, &manifest, s, &report),
    )
    .await
    .map_err(|_| EngineError::StripeTimeout { stripe: s, secs })??;
    let chunks =
        tokio::task::spawn_blocking(move || stripe::decode(&cipher, &record_id, &layout, s, slots))
            .await
            .map_err(|_| EngineError::Worker)??;
    Ok((chunks, clean))
}

/// One step of a stripe's reads.
enum Event {
    /// Shard read `pos` got its I/O permit and starts now.
    Started(usize, Option<OwnedSemaphorePermit>),
    /// Shard read `pos` has not answered within the hedge delay.
    Slow(usize),
    /// Shard read `pos` ended after `took`.
    Done(usize, Result<Bytes, Fault>, Duration),
}

/// Where a shard read of a stripe stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    /// Not started.
    Idle,
    /// Waiting for an I/O permit (the engine's concurrency bound, not the provider).
    Queued,
    /// In flight; `slow` once past the hedge delay.
    Reading { slow: bool },
    /// Ended, verified or not.
    Ended,
}

/// Fetches `d` verified shards of stripe `s` (hedged reads). Data shards first, shards on
/// providers whose breaker is open last; whenever a read fails, or has not answered within the
/// hedge delay, the next shard is started, so a dead, black-holed or slow provider costs at
/// most one hedge delay per stripe. A slow read keeps running and is used if it answers
/// first; reads still running when `d` shards are in hand are dropped (cancelled), and those
/// that were slow count as failures of their provider. Healthy stripes read exactly `d` shards.
/// Also says whether the stripe was clean: no read failed or went past the hedge delay.
async fn gather(
    inner: &Inner,
    manifest: &Manifest,
    s: u64,
    report: &GetReport,
) -> Result<(Vec<Option<Bytes>>, bool), EngineError> {
    let entries = manifest.stripe_shards(s);
    let alg = manifest.shard_hash;
    let d = usize::try_from(manifest.layout().data_shards(s)).map_err(|_| EngineError::Worker)?;
    let n = entries.len();
    let stores = entries
        .iter()
        .map(|e| inner.store_index(&e.bucket))
        .collect::<Result<Vec<usize>, _>>()?;
    let provider = |pos: usize| inner.providers[stores[pos]].as_str();
    let mut order: Vec<usize> = (0..n).collect();
    // Each provider's breaker is asked once (a half-open breaker lets one caller through
    // as its probe, so asking again would get another answer).
    let mut allowed: HashMap<&str, bool> = HashMap::new();
    for pos in 0..n {
        let p = provider(pos);
        if !allowed.contains_key(p) {
            allowed.insert(p, inner.breakers.allows(p));
        }
    }
    order.sort_by_key(|&p| (!allowed[provider(p)], p));
    let hedge = inner.breakers.hedge_delay();
    let mut slots: Vec<Option<Bytes>> = vec![None; n];
    let mut state = vec![Read::Idle; n];
    let mut pending: FuturesUnordered<BoxFuture<'_, Event>> = FuturesUnordered::new();
    let (mut next, mut good, mut hopeful, mut in_flight) = (0, 0, 0, 0);
    let mut clean = true;
    while good < d {
        while good + hopeful < d && next < n {
            let pos = order[next];
            next += 1;
            state[pos] = Read::Queued;
            hopeful += 1;
            in_flight += 1;
            let io = Arc::clone(&inner.io);
            pending.push(Box::pin(async move {
                Event::Started(pos, io.acquire_owned().await.ok())
            }));
        }
        if in_flight == 0 {
            break;
        }
        let Some(event) = pending.next().await else {
            break;
        };
        match event {
            Event::Started(pos, permit) => {
                state[pos] = Read::Reading { slow: false };
                let store = Arc::clone(&inner.stores[stores[pos]].1);
                let entry = &entries[pos];
                pending.push(Box::pin(async move {
                    let t0 = Instant::now();
                    let r = fetch_shard(store.as_ref(), entry, alg).await;
                    drop(permit);
                    Event::Done(pos, r, t0.elapsed())
                }));
                pending.push(Box::pin(async move {
                    tokio::time::sleep(hedge).await;
                    Event::Slow(pos)
                }));
            }
            Event::Slow(pos) => {
                if state[pos] == (Read::Reading { slow: false }) {
                    state[pos] = Read::Reading { slow: true };
                    hopeful -= 1;
                    clean = false;
                }
            }
            Event::Done(pos, result, took) => {
                if state[pos] == (Read::Reading { slow: false }) {
                    hopeful -= 1;
                }
                state[pos] = Read::Ended;
                in_flight -= 1;
                if let Some(b) = settle(inner, &entries[pos], provider(pos), result, took, report) {
                    slots[pos] = Some(b);
                    good += 1;
                } else {
                    clean = false;
                }
            }
        }
    }
    for pos in 0..n {
        if state[pos] == (Read::Reading { slow: true }) {
            tracing::debug!(stripe = s, index = entries[pos].index, bucket = %entries[pos].bucket, "slow shard read abandoned");
            inner.breakers.failure(provider(pos));
        }
    }
    if good < d {
        return Err(EngineError::TooManyErasures {
            stripe: s,
            erasures: n - good,
            m: n - d,
        });
    }
    Ok((slots, clean))
}

/// Feeds the outcome of a shard read to the provider's breaker (and the read-time average),
/// reports a failed one as an erasure; the shard when it is good.
fn settle(
    inner: &Inner,
    e: &ShardEntry,
    provider: &str,
    result: Result<Bytes, Fault>,
    took: Duration,
    report: &GetReport,
) -> Option<Bytes> {
    match result {
        Ok(b) => {
            inner.breakers.success(provider);
            inner.breakers.observe_read(took);
            Some(b)
        }
        Err(fault) => {
            if fault.provider {
                inner.breakers.failure(provider);
            }
            report.push(Erasure {
                stripe: e.stripe,
                index: e.index,
                bucket: e.bucket.clone(),
                key: e.key.clone(),
                reason: fault.reason,
            });
            None
        }
    }
}

/// Why a shard could not be used.
pub(crate) struct Fault {
    /// For the erasure report.
    reason: String,
    /// The provider failed (unreachable, timed out, errored), as opposed to the object being
    /// missing or damaged: counts towards its circuit breaker.
    provider: bool,
}

/// Fetches a shard and checks its length and `alg` digest (off the executor) against the
/// manifest; any failure is an erasure, so only verified shards ever reach the decoder.
async fn fetch_shard(
    store: &dyn BlobStore,
    e: &ShardEntry,
    alg: ShardHash,
) -> Result<Bytes, Fault> {
    let data = store.get(&e.key, e.len).await.map_err(|x| match x {
        StoreError::NotFound => Fault {
            reason: "missing".to_owned(),
            provider: false,
        },
        StoreError::TooLarge(_) => Fault {
            reason: x.to_string(),
            provider: false,
        },
        other => Fault {
            reason: other.to_string(),
            provider: true,
        },
    })?;
    let damaged = |reason: String| Fault {
        reason,
        provider: false,
    };
    if data.len() as u64 != e.len {
        return Err(damaged("wrong length".to_owned()));
    }
    let expected = e.digest();
    tokio::task::spawn_blocking(move || {
        (expected == Some(alg.digest(&data)))
            .then_some(data)
            .ok_or_else(|| format!("{} mismatch", alg.name()))
    })
    .await
    .map_err(|x| damaged(x.to_string()))?
    .map_err(damaged)
}

/// [`fetch_shard`] under the engine's I/O bound, for scrub and repair (which read every shard
/// of a stripe, without hedging); the reason as text.
pub(crate) async fn fetch_verified(
    inner: &Inner,
    e: &ShardEntry,
    alg: ShardHash,
) -> Result<Bytes, String> {
    let idx = inner.store_index(&e.bucket).map_err(|x| x.to_string())?;
    let _permit = inner.io.acquire().await.map_err(|x| x.to_string())?;
    fetch_shard(inner.stores[idx].1.as_ref(), e, alg)
        .await
        .map_err(|f| f.reason)
}
