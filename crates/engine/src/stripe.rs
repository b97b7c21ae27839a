//! A stripe: up to `k` sealed chunks as data shards plus `m` Reed-Solomon parity shards.
//! CPU-bound; always called on a blocking thread.

use std::collections::BTreeMap;

use aes_gcm::Aes256Gcm;
use bytes::{Bytes, BytesMut};
use rayon::prelude::*;
use uuid::Uuid;

use crate::chunk::{Layout, open_chunk, seal_chunk};
use crate::error::EngineError;
use crate::manifest::ShardHash;
use crate::pool::Pools;

/// Plaintext chunks of one stripe, as cut by the reader.
pub(crate) struct PlainStripe {
    pub stripe: u64,
    /// Index of the stripe's first chunk in the record.
    pub first_chunk: u64,
    /// Plaintext, in pooled buffers with room for the tag and padding.
    pub chunks: Vec<Vec<u8>>,
    /// The last chunk of this stripe is the record's last chunk.
    pub is_last: bool,
}

/// Shard objects of one stripe with their hashes.
pub(crate) struct EncodedStripe {
    pub stripe: u64,
    pub shards: Vec<(Bytes, [u8; 32])>,
}

/// Seals each chunk, pads to a common even length, adds parity, hashes every shard with `alg`.
///
/// The data chunks are sealed and hashed in parallel on the rayon pool (one pass per chunk while
/// it is still in cache); the parity shards are hashed in parallel too. Only the Reed-Solomon
/// encode is serial within a stripe. Parity buffers and the encoder come from `pools`.
pub(crate) fn encode(
    cipher: &Aes256Gcm,
    record_id: &Uuid,
    m: usize,
    alg: ShardHash,
    plain: PlainStripe,
    pools: &Pools,
) -> Result<EncodedStripe, EngineError> {
    let PlainStripe {
        stripe,
        first_chunk,
        mut chunks,
        is_last,
    } = plain;
    let count = chunks.len();
    // Every chunk but the last of the record is full, so the first chunk is the longest.
    let shard_len =
        (chunks.first().map_or(0, Vec::len) + crate::keyring::TAG_LEN).next_multiple_of(2);
    let data_hashes: Vec<[u8; 32]> = chunks
        .par_iter_mut()
        .enumerate()
        .map(|(i, buf)| {
            seal_chunk(
                cipher,
                record_id,
                first_chunk + i as u64,
                is_last && i + 1 == count,
                buf,
            );
            buf.resize(shard_len, 0);
            alg.digest(buf)
        })
        .collect();
    let parity = if m == 0 {
        Vec::new()
    } else {
        parity(&chunks, m, shard_len, pools).map_err(|e| EngineError::Codec(e.to_string()))?
    };
    let parity_hashes: Vec<[u8; 32]> = parity.par_iter().map(|s| alg.digest(s)).collect();
    let shards = chunks
        .into_iter()
        .chain(parity)
        .map(Bytes::from)
        .zip(data_hashes.into_iter().chain(parity_hashes))
        .collect();
    Ok(EncodedStripe { stripe, shards })
}

/// The `m` recovery shards of `data` (equal-length shards), in pooled buffers.
fn parity(
    data: &[Vec<u8>],
    m: usize,
    shard_len: usize,
    pools: &Pools,
) -> Result<Vec<Vec<u8>>, reed_solomon_simd::Error> {
    let mut encoder = pools.encoders.encoder(data.len(), m, shard_len)?;
    for shard in data {
        encoder.add_original_shard(shard)?;
    }
    let parity = encoder
        .encode()?
        .recovery_iter()
        .map(|r| {
            let mut buf = pools.shard_buffer();
            buf.extend_from_slice(r);
            buf
        })
        .collect();
    pools.encoders.give(encoder);
    Ok(parity)
}

/// Rebuilds missing data shards from any `d` of the `d + m` shards and opens every chunk.
/// `shards[i]` is `Some` for a shard that was fetched and matched its hash in the manifest.
/// Returns the stripe's plaintext chunks, in order; nothing if any chunk fails to open.
/// A fetched data shard nothing else references is opened in place, without a copy.
pub(crate) fn decode(
    cipher: &Aes256Gcm,
    record_id: &Uuid,
    layout: &Layout,
    stripe: u64,
    mut shards: Vec<Option<Bytes>>,
) -> Result<Vec<Bytes>, EngineError> {
    let d = usize::try_from(layout.data_shards(stripe)).map_err(|_| EngineError::Worker)?;
    let m = shards.len() - d;
    let present = shards.iter().filter(|s| s.is_some()).count();
    if present < d {
        return Err(EngineError::TooManyErasures {
            stripe,
            erasures: shards.len() - present,
            m,
        });
    }
    let mut restored = restore_data(&shards, d)?;
    let last_chunk = layout.chunk_count() - 1;
    let mut out = Vec::with_capacity(d);
    shards.truncate(d);
    for (i, shard) in shards.into_iter().enumerate() {
        let chunk = stripe * layout.k + i as u64;
        let sealed_len = usize::try_from(layout.chunk_len(chunk))
            .map_err(|_| EngineError::InvalidManifest("chunk too large"))?
            + crate::keyring::TAG_LEN;
        let mut buf = match shard {
            Some(s) => s.try_into_mut().unwrap_or_else(|s| BytesMut::from(&s[..])),
            None => restored
                .remove(&i)
                .map(|r| BytesMut::from(Bytes::from(r)))
                .unwrap_or_default(),
        };
        if buf.len() < sealed_len {
            return Err(EngineError::InvalidManifest("shard shorter than its chunk"));
        }
        buf.truncate(sealed_len);
        open_chunk(cipher, record_id, chunk, chunk == last_chunk, &mut buf)
            .map_err(|()| EngineError::ChunkAuthentication { chunk })?;
        out.push(buf.freeze());
    }
    Ok(out)
}

/// The missing data shards among the first `d` of `shards`, rebuilt from the present ones
/// (at least `d` must be present), by index. Empty when no data shard is missing.
fn restore_data(
    shards: &[Option<Bytes>],
    d: usize,
) -> Result<BTreeMap<usize, Vec<u8>>, EngineError> {
    fn present(part: &[Option<Bytes>]) -> impl Iterator<Item = (usize, &Bytes)> {
        part.iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
    }
    if shards[..d].iter().all(Option::is_some) {
        return Ok(BTreeMap::new());
    }
    reed_solomon_simd::decode(
        d,
        shards.len() - d,
        present(&shards[..d]),
        present(&shards[d..]),
    )
    .map_err(|e| EngineError::Codec(e.to_string()))
}

/// Rebuilds every missing shard of a stripe, data and parity, as the exact bytes that were
/// written at upload: Reed-Solomon works on the sealed chunks, so no key is needed and no
/// plaintext exists at any point. `shards` holds the `d` data then `m` parity shards, `Some`
/// for each verified one; at least `d` must be present. Returns `(index, bytes)` of each shard
/// that was missing, with its `alg` digest.
pub(crate) fn rebuild(
    stripe: u64,
    d: usize,
    alg: ShardHash,
    shards: &[Option<Bytes>],
) -> Result<Vec<(usize, Bytes, [u8; 32])>, EngineError> {
    let m = shards.len() - d;
    let present = shards.iter().filter(|s| s.is_some()).count();
    if present < d {
        return Err(EngineError::TooManyErasures {
            stripe,
            erasures: shards.len() - present,
            m,
        });
    }
    let mut restored = restore_data(shards, d)?;
    let mut out: Vec<(usize, Bytes)> = Vec::new();
    let data: Vec<Bytes> = (0..d)
        .map(|i| {
            if let Some(s) = &shards[i] {
                s.clone()
            } else {
                let b = Bytes::from(restored.remove(&i).unwrap_or_default());
                out.push((i, b.clone()));
                b
            }
        })
        .collect();
    if shards[d..].iter().any(Option::is_none) {
        let parity = reed_solomon_simd::encode(d, m, &data)
            .map_err(|e| EngineError::Codec(e.to_string()))?;
        for (j, p) in parity.into_iter().enumerate() {
            if shards[d + j].is_none() {
                out.push((d + j, Bytes::from(p)));
            }
        }
    }
    Ok(out
        .into_par_iter()
        .map(|(i, b)| {
            let h = alg.digest(&b);
            (i, b, h)
        })
        .collect())
}
