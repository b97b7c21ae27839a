//! Chunk sealing (AES-256-GCM, counter nonce, AAD binding record, position and finality) and the
//! arithmetic that maps a plaintext length to chunks and stripes.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::AeadInOut;
use bytes::BytesMut;
use uuid::Uuid;

use crate::keyring::TAG_LEN;

/// AAD of chunk `index`: `record_id (16) || index (u64 BE) || final (u8: 1 last chunk, 0 other)`.
pub(crate) fn chunk_aad(record_id: &Uuid, index: u64, is_final: bool) -> [u8; 25] {
    let mut aad = [0u8; 25];
    aad[..16].copy_from_slice(record_id.as_bytes());
    aad[16..24].copy_from_slice(&index.to_be_bytes());
    aad[24] = u8::from(is_final);
    aad
}

/// Nonce of chunk `index`: 96-bit big-endian counter (4 zero bytes, then `index` as u64 BE).
/// Unique because each DEK seals exactly one record.
pub(crate) fn chunk_nonce(index: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&index.to_be_bytes());
    n
}

/// Seals `buf` (plaintext) in place and appends the tag: `buf` becomes `ciphertext || tag`.
pub(crate) fn seal_chunk(
    cipher: &Aes256Gcm,
    record_id: &Uuid,
    index: u64,
    is_final: bool,
    buf: &mut Vec<u8>,
) {
    let tag = cipher
        .encrypt_inout_detached(
            &chunk_nonce(index).into(),
            &chunk_aad(record_id, index, is_final),
            buf.as_mut_slice().into(),
        )
        .expect("chunks are far below the AES-GCM length limit");
    buf.extend_from_slice(&tag);
}

/// Opens `ciphertext || tag` in place; on success `buf` holds exactly the plaintext.
/// On failure `buf` is cleared, so no unauthenticated bytes survive.
pub(crate) fn open_chunk(
    cipher: &Aes256Gcm,
    record_id: &Uuid,
    index: u64,
    is_final: bool,
    buf: &mut BytesMut,
) -> Result<(), ()> {
    if buf.len() < TAG_LEN {
        buf.clear();
        return Err(());
    }
    let tag_at = buf.len() - TAG_LEN;
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(&buf[tag_at..]);
    buf.truncate(tag_at);
    let ok = cipher.decrypt_inout_detached(
        &chunk_nonce(index).into(),
        &chunk_aad(record_id, index, is_final),
        buf.as_mut().into(),
        &tag.into(),
    );
    if ok.is_err() {
        buf.clear();
        return Err(());
    }
    Ok(())
}

/// How a record of `plaintext_len` bytes is cut: chunks, stripes and sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub plaintext_len: u64,
    pub chunk_size: u64,
    pub k: u64,
    pub m: u64,
}

impl Layout {
    /// Number of chunks; an empty record still has one (empty, final) chunk.
    pub fn chunk_count(&self) -> u64 {
        self.plaintext_len.div_ceil(self.chunk_size).max(1)
    }

    /// Number of stripes.
    pub fn stripe_count(&self) -> u64 {
        self.chunk_count().div_ceil(self.k)
    }

    /// Data shards (chunks) in stripe `s`.
    pub fn data_shards(&self, stripe: u64) -> u64 {
        (self.chunk_count() - stripe * self.k).min(self.k)
    }

    /// Plaintext length of chunk `c`.
    pub fn chunk_len(&self, chunk: u64) -> u64 {
        if chunk + 1 < self.chunk_count() {
            self.chunk_size
        } else {
            self.plaintext_len - chunk * self.chunk_size
        }
    }

    /// Length of every shard object in stripe `s`: the first (largest) sealed chunk of the
    /// stripe, rounded up to even (the RS codec works on 16-bit symbols).
    pub fn shard_len(&self, stripe: u64) -> u64 {
        (self.chunk_len(stripe * self.k) + TAG_LEN as u64).next_multiple_of(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes_gcm::KeyInit;

    fn cipher(byte: u8) -> Aes256Gcm {
        Aes256Gcm::new(&[byte; 32].into())
    }

    #[test]
    fn seal_open_round_trip() {
        let id = Uuid::from_u128(7);
        let mut buf = b"hello chunk".to_vec();
        seal_chunk(&cipher(1), &id, 3, false, &mut buf);
        assert_eq!(buf.len(), 11 + 16);
        assert_ne!(&buf[..11], b"hello chunk");
        let mut buf = BytesMut::from(&buf[..]);
        open_chunk(&cipher(1), &id, 3, false, &mut buf).expect("open");
        assert_eq!(&buf[..], b"hello chunk");
    }

    #[test]
    fn open_refuses_wrong_key_record_position_finality_and_truncation() {
        let id = Uuid::from_u128(7);
        let mut sealed = b"payload bytes".to_vec();
        seal_chunk(&cipher(1), &id, 5, true, &mut sealed);
        let cases: [(&Aes256Gcm, Uuid, u64, bool, usize); 5] = [
            (&cipher(2), id, 5, true, sealed.len()), // wrong key
            (&cipher(1), Uuid::from_u128(8), 5, true, sealed.len()), // moved to another record
            (&cipher(1), id, 4, true, sealed.len()), // reordered
            (&cipher(1), id, 5, false, sealed.len()), // final flag dropped
            (&cipher(1), id, 5, true, sealed.len() - 1), // truncated
        ];
        for (c, rid, idx, fin, len) in cases {
            let mut b = BytesMut::from(&sealed[..len]);
            assert!(open_chunk(c, &rid, idx, fin, &mut b).is_err());
            assert!(b.is_empty(), "no unauthenticated bytes left behind");
        }
        let mut flipped = BytesMut::from(&sealed[..]);
        flipped[0] ^= 1;
        assert!(open_chunk(&cipher(1), &id, 5, true, &mut flipped).is_err());
        let mut tiny = BytesMut::zeroed(15);
        assert!(open_chunk(&cipher(1), &id, 0, true, &mut tiny).is_err());
    }

    #[test]
    fn layout_arithmetic() {
        let l = Layout {
            plaintext_len: 0,
            chunk_size: 10,
            k: 4,
            m: 2,
        };
        assert_eq!(
            (l.chunk_count(), l.stripe_count(), l.data_shards(0)),
            (1, 1, 1)
        );
        assert_eq!((l.chunk_len(0), l.shard_len(0)), (0, 16));
        let l = Layout {
            plaintext_len: 51,
            ..l
        };
        assert_eq!((l.chunk_count(), l.stripe_count()), (6, 2));
        assert_eq!((l.data_shards(0), l.data_shards(1)), (4, 2));
        assert_eq!((l.chunk_len(4), l.chunk_len(5)), (10, 1));
        assert_eq!((l.shard_len(0), l.shard_len(1)), (26, 26));
        let l = Layout {
            plaintext_len: 41,
            ..l
        };
        assert_eq!(
            (l.stripe_count(), l.data_shards(1), l.shard_len(1)),
            (2, 1, 18)
        );
    }
}
