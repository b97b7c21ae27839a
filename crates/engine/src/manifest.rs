//! The manifest: where every shard of a record lives, how long it is and its hash (BLAKE3; SHA-256
//! in records written before BLAKE3), plus a root hash over all of it (the ledger records the root
//! hash, so an edited manifest is detectable).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::chunk::Layout;
use crate::error::EngineError;

/// Manifest format version.
pub const MANIFEST_VERSION: u32 = 1;

/// The hash of every shard object of a record. Unkeyed, so anyone holding the manifest can check
/// a shard (scrub and repair need no key); it guards integrity, while the chunks' GCM tags guard
/// authenticity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShardHash {
    /// SHA-256: every record written before BLAKE3; still read, scrubbed and repaired.
    Sha256,
    /// BLAKE3 (256-bit output): new records. Several times faster than SHA-256 on one core,
    /// which matters because put and get hash 1.5 bytes per plaintext byte at k=4, m=2.
    Blake3,
}

impl ShardHash {
    /// The algorithm new records are written with.
    pub const CURRENT: Self = Self::Blake3;

    /// Manifests without the field predate it: their shard hashes are SHA-256.
    fn legacy() -> Self {
        Self::Sha256
    }

    /// The name used in manifests and in the root hash.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Blake3 => "blake3",
        }
    }

    /// The 32-byte digest of a shard object.
    pub fn digest(self, bytes: &[u8]) -> [u8; 32] {
        match self {
            Self::Sha256 => Sha256::digest(bytes).into(),
            Self::Blake3 => *blake3::hash(bytes).as_bytes(),
        }
    }
}

/// One shard object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// Stripe number, from 0.
    pub stripe: u64,
    /// Index in the stripe: `0..d` data (sealed chunks), `d..d+m` parity.
    pub index: u32,
    /// Bucket name (from the configuration).
    pub bucket: String,
    /// Random object key (32 hex characters).
    pub key: String,
    /// Object length in bytes.
    pub len: u64,
    /// Digest of the object under [`Manifest::shard_hash`], hex (64 characters). Manifests
    /// written before BLAKE3 name this field `sha256`; both names are read.
    #[serde(alias = "sha256")]
    pub hash: String,
}

impl ShardEntry {
    /// The digest as bytes; `None` if the hex is malformed (`Manifest::validate` refuses that).
    pub(crate) fn digest(&self) -> Option<[u8; 32]> {
        let mut d = [0u8; 32];
        hex::decode_to_slice(&self.hash, &mut d).ok().map(|()| d)
    }
}

/// Everything needed, with the wrapped DEK, to read a record back. Field order is stable JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version ([`MANIFEST_VERSION`]).
    pub version: u32,
    /// Plaintext length in bytes.
    pub plaintext_len: u64,
    /// Plaintext bytes per chunk.
    pub chunk_size: u64,
    /// Data shards per full stripe.
    pub k: u32,
    /// Parity shards per stripe.
    pub m: u32,
    /// Hash algorithm of every [`ShardEntry::hash`]. Absent in manifests written before BLAKE3,
    /// which therefore read as SHA-256.
    #[serde(default = "ShardHash::legacy")]
    pub shard_hash: ShardHash,
    /// SHA-256 over the fields above and every shard entry, hex; see [`Manifest::compute_root`].
    pub root_hash: String,
    /// Shards ordered by stripe, then index.
    pub shards: Vec<ShardEntry>,
}

impl Manifest {
    /// `SHA-256(prefix || version || plaintext_len || chunk_size || k || m ||
    /// for each shard: stripe || index || len || hash (32) || len(bucket) || bucket ||
    /// len(key) || key)`, integers big-endian (u64 except version/k/m/index u32, lengths u32).
    ///
    /// `prefix` is `"medvault-manifest-v1"` for SHA-256 shard hashes, so the root of every
    /// manifest written before BLAKE3 (and recorded in the ledger) is unchanged, and
    /// `"medvault-manifest-v2" || len(name) (u32) || name` otherwise (`name` = `"blake3"`), so
    /// the root commits to the algorithm as well as to every shard's hash: relabelling a
    /// manifest's algorithm changes its root.
    pub fn compute_root(&self) -> String {
        let mut h = Sha256::new();
        match self.shard_hash {
            ShardHash::Sha256 => h.update(b"medvault-manifest-v1"),
            alg @ ShardHash::Blake3 => {
                h.update(b"medvault-manifest-v2");
                let name = alg.name().as_bytes();
                h.update(u32::try_from(name.len()).unwrap_or(u32::MAX).to_be_bytes());
                h.update(name);
            }
        }
        h.update(self.version.to_be_bytes());
        h.update(self.plaintext_len.to_be_bytes());
        h.update(self.chunk_size.to_be_bytes());
        h.update(self.k.to_be_bytes());
        h.update(self.m.to_be_bytes());
        for s in &self.shards {
            h.update(s.stripe.to_be_bytes());
            h.update(s.index.to_be_bytes());
            h.update(s.len.to_be_bytes());
            // A malformed hash hashes as zeros; `validate` refuses it anyway.
            h.update(s.digest().unwrap_or_default());
            for field in [s.bucket.as_bytes(), s.key.as_bytes()] {
                h.update(u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes());
                h.update(field);
            }
        }
        hex::encode(h.finalize())
    }

    /// The chunk/stripe arithmetic this manifest implies.
    pub(crate) fn layout(&self) -> Layout {
        Layout {
            plaintext_len: self.plaintext_len,
            chunk_size: self.chunk_size,
            k: u64::from(self.k),
            m: u64::from(self.m),
        }
    }

    /// Checks the manifest against itself: root hash, shard count and order per stripe, lengths,
    /// hash format, distinct objects per stripe. A truncated or edited manifest fails here.
    ///
    /// Two shards of a stripe may share a bucket (under different keys): uploads during a
    /// provider outage place them so, and repair re-spreads them later.
    pub fn validate(&self) -> Result<(), EngineError> {
        use EngineError::InvalidManifest as Bad;
        if self.version != MANIFEST_VERSION {
            return Err(Bad("unknown version"));
        }
        if self.k == 0
            || self.k as usize + self.m as usize > crate::config::MAX_SHARDS
            || self.chunk_size < crate::config::MIN_CHUNK_SIZE as u64
            || self.chunk_size > crate::config::MAX_CHUNK_SIZE as u64
        {
            return Err(Bad("bad coding parameters"));
        }
        if self.compute_root() != self.root_hash {
            return Err(Bad("root hash mismatch"));
        }
        let layout = self.layout();
        // Every stripe has at least 1 + m shards: a claimed length that needs more stripes
        // than there are shards is refused before any per-stripe work, so the work done here
        // follows the manifest's actual size, never the size it claims.
        if layout.stripe_count() > self.shards.len() as u64 {
            return Err(Bad("wrong number of shards"));
        }
        let mut expected = 0u64;
        for s in 0..layout.stripe_count() {
            expected += layout.data_shards(s) + layout.m;
        }
        if self.shards.len() as u64 != expected {
            return Err(Bad("wrong number of shards"));
        }
        let mut it = self.shards.iter();
        for s in 0..layout.stripe_count() {
            let n = layout.data_shards(s) + layout.m;
            let mut objects = std::collections::HashSet::new();
            for i in 0..n {
                let e = it.next().ok_or(Bad("wrong number of shards"))?;
                if e.stripe != s || u64::from(e.index) != i {
                    return Err(Bad("shards out of order"));
                }
                if e.len != layout.shard_len(s) {
                    return Err(Bad("wrong shard length"));
                }
                if e.hash.len() != 64 || e.digest().is_none() {
                    return Err(Bad("bad shard hash"));
                }
                if !objects.insert((e.bucket.as_str(), e.key.as_str())) {
                    return Err(Bad("two shards of a stripe in one object"));
                }
            }
        }
        Ok(())
    }

    /// The shards of stripe `s` (the manifest must be valid).
    pub(crate) fn stripe_shards(&self, stripe: u64) -> &[ShardEntry] {
        let start = self.shards.partition_point(|e| e.stripe < stripe);
        let end = self.shards.partition_point(|e| e.stripe <= stripe);
        &self.shards[start..end]
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use proptest::prelude::*;

    use super::*;

    /// A manifest claiming `plaintext_len` with `shards` entries, its root recomputed (anyone
    /// can do that: the root is a hash, not a signature).
    fn claiming(plaintext_len: u64, chunk_size: u64, k: u32, m: u32, shards: usize) -> Manifest {
        let mut manifest = Manifest {
            version: MANIFEST_VERSION,
            plaintext_len,
            chunk_size,
            k,
            m,
            shard_hash: ShardHash::CURRENT,
            root_hash: String::new(),
            shards: (0..shards)
                .map(|i| ShardEntry {
                    stripe: 0,
                    index: u32::try_from(i).unwrap(),
                    bucket: format!("b{i}"),
                    key: format!("{i:032x}"),
                    len: 16,
                    hash: "0".repeat(64),
                })
                .collect(),
        };
        manifest.root_hash = manifest.compute_root();
        manifest
    }

    #[test]
    fn a_claimed_size_costs_nothing_before_it_is_refused() {
        let started = Instant::now();
        let m = claiming(u64::MAX, crate::config::MIN_CHUNK_SIZE as u64, 4, 2, 6);
        assert!(m.validate().is_err());
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any JSON at all: decoding and validating never panic.
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,400}") {
            if let Ok(m) = serde_json::from_str::<Manifest>(&text) {
                let _ = m.validate();
            }
        }

        /// Any claims with a recomputed root: validation ends quickly, whatever the sizes.
        #[test]
        fn arbitrary_claims_validate_in_bounded_time(
            plaintext_len in any::<u64>(),
            chunk_size in any::<u64>(),
            k in 0u32..300,
            m in 0u32..300,
            shards in 0usize..40,
        ) {
            let started = Instant::now();
            let _ = claiming(plaintext_len, chunk_size, k, m, shards).validate();
            prop_assert!(started.elapsed() < Duration::from_millis(500));
        }
    }
}
