//! The engine: configured buckets, key ring and I/O bound; delete, garbage collection, health.
//! Put and get live in `put.rs` and `get.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use futures_util::stream;
use tokio::sync::Semaphore;

use crate::config::{BucketConfig, StorageConfig};
use crate::error::{ConfigError, EngineError, StoreError};
use crate::keyring::KeyRing;
use crate::manifest::Manifest;
use crate::store::BlobStore;

/// Default GC grace period: objects younger than this are never collected, so shards of an
/// upload whose manifest is not committed yet survive. Must exceed the longest upload.
pub const DEFAULT_GC_GRACE: Duration = Duration::from_secs(24 * 3600);

/// Health of one bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketHealth {
    /// Bucket name.
    pub name: String,
    /// Reachable and usable.
    pub ok: bool,
    /// Why not (no secrets).
    pub error: Option<String>,
}

/// Outcome of [`Engine::gc`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Shard-named objects found in all buckets.
    pub listed: usize,
    /// Of those, referenced by a manifest.
    pub referenced: usize,
    /// Unreferenced but younger than the grace period, kept.
    pub kept_young: usize,
    /// Deleted `(bucket, key)`.
    pub deleted: Vec<(String, String)>,
    /// Buckets or objects that could not be listed/deleted: `(bucket, error)`.
    pub errors: Vec<(String, String)>,
    /// Temporary files older than the grace period removed (crash leftovers of directory
    /// buckets).
    pub temporary: usize,
}

pub(crate) struct Inner {
    pub cfg: StorageConfig,
    pub keys: KeyRing,
    pub stores: Vec<(String, Arc<dyn BlobStore>)>,
    pub by_name: HashMap<String, usize>,
    /// Physical location of each store (same order as `stores`), from the bucket configuration
    /// when it names the store, else the name itself.
    pub locations: Vec<String>,
    /// Provider (failure domain) of each store, same order, from the bucket configuration
    /// when it names the store, else the store's name.
    pub providers: Vec<String>,
    /// At most this many shards of a stripe go to one provider ([`crate::placement`]).
    pub provider_cap: usize,
    /// Bounds in-flight shard I/O across every put and get of this engine.
    pub io: Arc<Semaphore>,
    /// Circuit breakers per provider and the hedge delay ([`crate::breaker`]).
    pub breakers: crate::breaker::Breakers,
}

/// Splits, seals, erasure-codes and distributes records, and reads them back. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("k", &self.inner.cfg.k)
            .field("m", &self.inner.cfg.m)
            .field("buckets", &self.bucket_names().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Validates the configuration and opens a store per bucket (directories are created; S3
    /// clients are built without network traffic: use [`Engine::health`] to probe).
    pub fn new(cfg: StorageConfig, keys: KeyRing) -> Result<Self, EngineError> {
        cfg.validate()?;
        let stores = cfg
            .buckets
            .iter()
            .map(|b| Ok((b.name().to_owned(), b.open_with(&cfg.faults)?)))
            .collect::<Result<Vec<_>, ConfigError>>()?;
        Self::with_stores(cfg, keys, stores)
    }

    /// Uses the given stores instead of `cfg.buckets` (e.g. a custom [`BlobStore`]).
    pub fn with_stores(
        cfg: StorageConfig,
        keys: KeyRing,
        stores: Vec<(String, Arc<dyn BlobStore>)>,
    ) -> Result<Self, EngineError> {
        let check = StorageConfig {
            buckets: stores
                .iter()
                .map(|(name, _)| BucketConfig::Dir {
                    name: name.clone(),
                    path: std::path::PathBuf::new(),
                    provider: None,
                })
                .collect(),
            ..cfg.clone()
        };
        check.validate()?;
        let by_name = stores
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.clone(), i))
            .collect();
        let locations = stores
            .iter()
            .map(|(name, _)| {
                cfg.buckets
                    .iter()
                    .find(|b| b.name() == name)
                    .map_or_else(|| format!("name:{name}"), BucketConfig::location)
            })
            .collect();
        let providers: Vec<String> = stores
            .iter()
            .map(|(name, _)| {
                cfg.buckets
                    .iter()
                    .find(|b| b.name() == name)
                    .map_or_else(|| format!("name:{name}"), BucketConfig::provider)
            })
            .collect();
        let provider_cap = crate::placement::provider_cap(&providers, cfg.k + cfg.m, cfg.m);
        let io = Arc::new(Semaphore::new(cfg.concurrency));
        let breakers = crate::breaker::Breakers::new(&cfg.faults, &providers);
        Ok(Self {
            inner: Arc::new(Inner {
                cfg,
                keys,
                stores,
                by_name,
                locations,
                providers,
                provider_cap,
                io,
                breakers,
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &StorageConfig {
        &self.inner.cfg
    }

    /// The key ring in use (e.g. for [`KeyRing::rewrap`] during rotation).
    pub fn keys(&self) -> &KeyRing {
        &self.inner.keys
    }

    /// Configured bucket names.
    pub fn bucket_names(&self) -> impl Iterator<Item = &str> {
        self.inner.stores.iter().map(|(n, _)| n.as_str())
    }

    /// Deletes every shard of the record (missing objects are fine). Deleting the wrapped DEK
    /// in the database alone already makes the record unreadable (crypto-shredding).
    pub async fn delete(&self, manifest: &Manifest) -> Result<(), EngineError> {
        let mut targets = Vec::with_capacity(manifest.shards.len());
        for s in &manifest.shards {
            let idx = self.inner.store_index(&s.bucket)?;
            targets.push((idx, s.key.clone()));
        }
        let errors = self.inner.delete_all(targets).await;
        match errors.into_iter().next() {
            Some((bucket, _, source)) => Err(EngineError::Store { bucket, source }),
            None => Ok(()),
        }
    }

    /// Lists every bucket and deletes shard objects that `is_referenced(bucket, key)` says are
    /// not referenced and that are older than `grace`, and the stores' temporary files older
    /// than `grace` (crash leftovers).
    ///
    /// Safe against in-flight uploads as long as `grace` exceeds the longest upload plus the
    /// time between the caller's snapshot of referenced objects and this call; use
    /// [`DEFAULT_GC_GRACE`] unless you know better. Only keys shaped like shard keys are touched.
    pub async fn gc(
        &self,
        is_referenced: impl Fn(&str, &str) -> bool,
        grace: Duration,
    ) -> GcReport {
        let mut report = GcReport::default();
        let now = SystemTime::now();
        let mut doomed = Vec::new();
        for (idx, (name, store)) in self.inner.stores.iter().enumerate() {
            match store.sweep_temporary(grace).await {
                Ok(n) => report.temporary += n,
                Err(e) => report.errors.push((name.clone(), e.to_string())),
            }
            let objects = match store.list().await {
                Ok(o) => o,
                Err(e) => {
                    report.errors.push((name.clone(), e.to_string()));
                    continue;
                }
            };
            for o in objects {
                report.listed += 1;
                if is_referenced(name, &o.key) {
                    report.referenced += 1;
                } else if now.duration_since(o.modified).unwrap_or(Duration::ZERO) < grace {
                    report.kept_young += 1;
                } else {
                    doomed.push((idx, o.key));
                }
            }
        }
        let names: Vec<(String, String)> = doomed
            .iter()
            .map(|(i, k)| (self.inner.stores[*i].0.clone(), k.clone()))
            .collect();
        let failed = self.inner.delete_all(doomed).await;
        report.deleted = names
            .into_iter()
            .filter(|(b, k)| !failed.iter().any(|(fb, fk, _)| fb == b && fk == k))
            .collect();
        for (bucket, _, e) in failed {
            report.errors.push((bucket, e.to_string()));
        }
        report
    }

    /// Every provider's circuit breaker (see `[storage.faults]` in `docs/operations.md`).
    pub fn providers(&self) -> Vec<crate::breaker::ProviderStatus> {
        self.inner.breakers.status()
    }

    /// Whether some stripe of the manifest breaks the placement rule (two shards in one bucket
    /// or location, or more than the cap on one provider), as uploads during an outage leave
    /// it: such a record should be queued for repair, which re-spreads it.
    pub fn is_misplaced(&self, manifest: &Manifest) -> bool {
        let stripes = manifest.shards.last().map_or(0, |e| e.stripe + 1);
        (0..stripes).any(|s| {
            let stores: Option<Vec<usize>> = manifest
                .stripe_shards(s)
                .iter()
                .map(|e| self.inner.by_name.get(&e.bucket).copied())
                .collect();
            stores.is_some_and(|st| !crate::placement::misplaced(&self.inner, &st).is_empty())
        })
    }

    /// Probes every bucket (10 s limit each), concurrently. The results feed the circuit
    /// breakers: a provider with a bucket that fails its probe is opened at once, one whose
    /// buckets all answer is closed.
    pub async fn health(&self) -> Vec<BucketHealth> {
        let probes = self.inner.stores.iter().map(|(name, store)| async move {
            let r = tokio::time::timeout(Duration::from_secs(10), store.health()).await;
            let error = match r {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(_) => Some("timed out".to_owned()),
            };
            BucketHealth {
                name: name.clone(),
                ok: error.is_none(),
                error,
            }
        });
        let out = futures_util::future::join_all(probes).await;
        let mut by_provider: HashMap<&str, bool> = HashMap::new();
        for (h, provider) in out.iter().zip(&self.inner.providers) {
            *by_provider.entry(provider.as_str()).or_insert(true) &= h.ok;
        }
        for (provider, ok) in by_provider {
            if ok {
                self.inner.breakers.success(provider);
            } else {
                self.inner.breakers.trip(provider);
            }
        }
        out
    }
}

impl Inner {
    pub(crate) fn store_index(&self, bucket: &str) -> Result<usize, EngineError> {
        self.by_name
            .get(bucket)
            .copied()
            .ok_or_else(|| EngineError::UnknownBucket(bucket.to_owned()))
    }

    /// Deletes objects with bounded concurrency; returns the failures (objects already gone
    /// are not failures) as `(bucket, key, error)`.
    pub(crate) async fn delete_all(
        &self,
        targets: Vec<(usize, String)>,
    ) -> Vec<(String, String, StoreError)> {
        stream::iter(targets)
            .map(|(idx, key)| async move {
                let _permit = self.io.acquire().await;
                let (name, store) = &self.stores[idx];
                store
                    .delete(&key)
                    .await
                    .err()
                    .map(|e| (name.clone(), key, e))
            })
            .buffer_unordered(self.cfg.concurrency)
            .filter_map(|r| async move { r })
            .collect()
            .await
    }
}

impl Manifest {
    /// `(bucket, key)` of every shard: feed these into the set given to [`Engine::gc`].
    pub fn objects(&self) -> impl Iterator<Item = (&str, &str)> {
        self.shards
            .iter()
            .map(|s| (s.bucket.as_str(), s.key.as_str()))
    }
}
