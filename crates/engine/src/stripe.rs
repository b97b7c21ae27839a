//! A stripe: up to `k` sealed chunks as data shards plus `m` Reed-Solomon parity shards.
//! CPU-bound; always called on a blocking thread.

use aes_gcm::Aes256Gcm;
use bytes::Bytes;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::chunk::{Layout, open_chunk, seal_chunk};
use crate::error::EngineError;

/// Plaintext chunks of one stripe, as cut by the reader.
pub(crate) struct PlainStripe {
    pub stripe: u64,
    pub chunks: Vec<Vec<u8>>,
    /// The last chunk of this stripe is the record's last chunk.
    pub is_last: bool,
}

/// Shard objects of one stripe with their SHA-256.
pub(crate) struct EncodedStripe {
    pub stripe: u64,
    pub shards: Vec<(Bytes, [u8; 32])>,
}

/// Seals each chunk, pads to a common even length, adds parity, hashes every shard.
///
/// The data chunks are sealed and hashed in parallel on the rayon pool (one pass per chunk while
/// it is still in cache); the parity shards are hashed in parallel too. Only the Reed-Solomon
/// encode is serial within a stripe.
pub(crate) fn encode(
    cipher: &Aes256Gcm,
    record_id: &Uuid,
    k: usize,
    m: usize,
    plain: PlainStripe,
) -> Result<EncodedStripe, EngineError> {
    let PlainStripe {
        stripe,
        mut chunks,
        is_last,
    } = plain;
    let first = stripe * k as u64;
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
                first + i as u64,
                is_last && i + 1 == count,
                buf,
            );
            buf.resize(shard_len, 0);
            Sha256::digest(buf.as_slice()).into()
        })
        .collect();
    let parity = if m == 0 {
        Vec::new()
    } else {
        reed_solomon_simd::encode(count, m, &chunks)
            .map_err(|e| EngineError::Codec(e.to_string()))?
    };
    let parity_hashes: Vec<[u8; 32]> = parity
        .par_iter()
        .map(|s| Sha256::digest(s.as_slice()).into())
        .collect();
    let shards = chunks
        .into_iter()
        .chain(parity)
        .map(Bytes::from)
        .zip(data_hashes.into_iter().chain(parity_hashes))
        .collect();
    Ok(EncodedStripe { stripe, shards })
}

/// Rebuilds missing data shards from any `d` of the `d + m` shards and opens every chunk.
/// `shards[i]` is `Some` for a shard that was fetched and matched its SHA-256.
/// Returns the stripe's plaintext chunks, in order; nothing if any chunk fails to open.
pub(crate) fn decode(
    cipher: &Aes256Gcm,
    record_id: &Uuid,
    layout: &Layout,
    stripe: u64,
    shards: &[Option<Bytes>],
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
    let mut restored = if shards[..d].iter().all(Option::is_some) {
        std::collections::BTreeMap::new()
    } else {
        reed_solomon_simd::decode(
            d,
            m,
            shards[..d]
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.as_ref().map(|s| (i, s))),
            shards[d..]
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.as_ref().map(|s| (i, s))),
        )
        .map_err(|e| EngineError::Codec(e.to_string()))?
    };
    let last_chunk = layout.chunk_count() - 1;
    let mut out = Vec::with_capacity(d);
    for (i, shard) in shards[..d].iter().enumerate() {
        let chunk = stripe * layout.k + i as u64;
        let sealed_len = usize::try_from(layout.chunk_len(chunk))
            .map_err(|_| EngineError::InvalidManifest("chunk too large"))?
            + crate::keyring::TAG_LEN;
        let mut buf = match (shard, restored.remove(&i)) {
            (Some(s), _) => s.get(..sealed_len).map(<[u8]>::to_vec),
            (None, Some(r)) => {
                let mut r = r;
                (r.len() >= sealed_len).then(|| {
                    r.truncate(sealed_len);
                    r
                })
            }
            (None, None) => None,
        }
        .ok_or(EngineError::InvalidManifest("shard shorter than its chunk"))?;
        open_chunk(cipher, record_id, chunk, chunk == last_chunk, &mut buf)
            .map_err(|()| EngineError::ChunkAuthentication { chunk })?;
        out.push(Bytes::from(buf));
    }
    Ok(out)
}
