//! medvault engine: split a record into chunks, seal each with AES-256-GCM, erasure-code the
//! sealed chunks with Reed-Solomon, spread the shards over randomly chosen buckets; and back.
//! No HTTP, no SQL: the server stores the [`Manifest`] and [`WrappedDek`] in its database.
//!
//! # Format (version 1)
//!
//! **Keys.** Each record gets a fresh 256-bit DEK from the OS CSPRNG, wrapped under the current
//! KEK of the [`KeyRing`] (layout in [`keyring`]); the DEK seals that one record only.
//!
//! **Chunks.** The plaintext is cut into `chunk_size` pieces (the last may be shorter; an empty
//! record is one empty chunk). Chunk `i` (from 0) is sealed as
//!
//! ```text
//! sealed_i = AES-256-GCM-Encrypt(key = DEK,
//!                                nonce = 0x00000000 || u64_be(i),            (12 bytes)
//!                                aad   = record_id (16, UUID bytes) || u64_be(i) || final (1),
//!                                plaintext_i)
//!          = ciphertext_i (len(plaintext_i) bytes) || tag_i (16 bytes)
//! ```
//!
//! with `final = 1` for the last chunk and `0` otherwise. Reordering, dropping, truncating or
//! moving chunks to another record therefore fails authentication.
//!
//! **Stripes and shard objects.** Chunks `s*k .. s*k+d` (`d = k`, or fewer in the last stripe)
//! form stripe `s`. Its shard length `L_s` is `len(sealed_{s*k})` rounded up to even. Shard
//! object `j < d` is `sealed_{s*k+j} || zero padding` to `L_s` bytes; shard objects
//! `d .. d+m` are the `m` Reed-Solomon recovery shards (`reed-solomon-simd`, GF(2^16), computed
//! over the `d` padded data shards), also `L_s` bytes each. A shard object holds exactly those
//! bytes, no header: its stripe, index, length and hash are in the manifest. The `d + m`
//! shards of a stripe go to distinct buckets chosen by the placement rule (below), under random
//! 128-bit object keys (32 lowercase hex characters) that reveal nothing about the record.
//!
//! **Shard hashes.** Every shard object, data and parity, is hashed whole with the manifest's
//! [`ShardHash`]: BLAKE3 (`blake3` crate, 32-byte output, unkeyed) for new records, SHA-256 for
//! records written before BLAKE3 (their manifests have no `shard_hash` field and name the
//! per-shard field `sha256`; both still read). The hash is unkeyed so that a shard can be
//! checked by anyone holding the manifest, without the DEK or a KEK; the GCM tags, not the
//! hash, authenticate the plaintext.
//!
//! **Manifest.** Plaintext length, chunk size, `k`, `m`, the shard hash algorithm, every shard
//! entry and a SHA-256 root over all of them ([`Manifest::compute_root`]; a SHA-256 manifest
//! keeps the root it had before BLAKE3 existed, a BLAKE3 one commits to the algorithm's name as
//! well); the server records the root hash in its ledger.
//!
//! **Reading.** Per stripe, any `d` shards whose length and hash match the manifest suffice; a
//! missing, corrupt or swapped shard is an erasure ([`GetReport`]), never decoder input, and is
//! fatal only beyond `m`. Each chunk is opened (tag checked) before any of its bytes are
//! yielded.
//!
//! **Repair.** [`Engine::scrub`] checks every shard, parity included, and can rewrite damaged
//! ones from `d` good shards of their stripe: Reed-Solomon over the sealed bytes reproduces the
//! exact objects written at upload, so repair needs no key and yields no plaintext.
//! [`Engine::heal`] also drains buckets and re-spreads misplaced stripes; a shard that changes
//! bucket or key gives the record a new manifest (new root hash) for the caller to commit.
//! Its report classifies the record by the worst of its stripes ([`RecordClass`]): `Lost`
//! (fewer than `d` good shards), `AtRisk` (`m > 0` and exactly `d` good), `Degraded` (fewer
//! than `d + m` good), `Misplaced` (all good, but the stripe breaks the placement rule: two
//! shards in one location or more than the rule allows on one provider), else `Healthy`.
//!
//! **Placement.** The `d + m` shards of a stripe go to distinct buckets, no more than `m` (or
//! the least the configured providers allow) on one provider ([`BucketConfig::provider`]),
//! chosen at random within that rule; uploads and repairs share the rule.
//!
//! # Performance
//! Sealing and coding run on tokio's blocking pool, `parallelism` stripes at once; shard I/O is
//! bounded by `concurrency` permits shared by all operations. Shard buffers and Reed-Solomon
//! encoders are pooled and reused, so a put allocates nothing per stripe in steady state and
//! the memory it holds is bounded by [`StorageConfig`]. Downloaded shards are opened in place.
//! See `docs/performance.md`.

mod ahead;
mod breaker;
mod chunk;
pub mod config;
mod engine;
pub mod error;
mod get;
pub mod keyring;
pub mod manifest;
mod placement;
mod pool;
mod put;
mod scrub;
pub mod store;
mod stripe;

pub use breaker::ProviderStatus;
pub use config::{BucketConfig, FaultConfig, StorageConfig};
pub use engine::{BucketHealth, DEFAULT_GC_GRACE, Engine, GcReport};
pub use error::{ConfigError, EngineError, Erasure, KeyError, PutError, StoreError};
pub use get::{GetReport, RecordStream};
pub use keyring::{Dek, KeyRing, WrappedDek};
pub use manifest::{Manifest, ShardEntry, ShardHash};
pub use scrub::{
    BucketState, HealOptions, Move, RecordClass, ScrubMode, ScrubReport, StripeHealth,
};
pub use store::{BlobStore, DirStore, ObjectInfo, S3Store};

/// Raw chunk sealing, exposed for the benchmarks only (not a stable API).
#[doc(hidden)]
pub mod bench_support {
    use uuid::Uuid;

    /// Seals `buf` in place as chunk `index` of `record_id` (see the crate doc).
    pub fn seal_chunk(dek: &crate::Dek, record_id: &Uuid, index: u64, buf: &mut Vec<u8>) {
        crate::chunk::seal_chunk(&dek.cipher(), record_id, index, false, buf);
    }
}
