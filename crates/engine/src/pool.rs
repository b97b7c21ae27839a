//! Reuse of the large per-stripe allocations: shard buffers and Reed-Solomon encoders.
//!
//! A put cuts, seals and codes stripe after stripe into buffers of the same size (a shard), so
//! instead of allocating and freeing `k + m` shard buffers and an encoder's work area per stripe
//! (and leaving the allocator to return the pages, or not), finished buffers go back to a pool
//! and the next stripe takes them. Each pool keeps at most a configured number of idle items, so
//! the memory it holds is bounded by the configuration, never by record size or count. A put
//! owns its pools: when it ends, the memory goes back to the allocator.

use std::sync::Mutex;

use bytes::Bytes;
use reed_solomon_simd::ReedSolomonEncoder;

/// The pools of one put, sized from the configuration.
pub(crate) struct Pools {
    /// Shard buffers (plaintext chunks become sealed shards in place; parity shards).
    pub buffers: Pool<Vec<u8>>,
    /// Reed-Solomon encoders with their work areas.
    pub encoders: Pool<ReedSolomonEncoder>,
    /// Capacity of every shard buffer: a full chunk, its tag and the even-length padding.
    shard_capacity: usize,
}

impl Pools {
    /// Pools holding at most as many idle items as one put can have in use at once:
    /// `k + m` buffers per stripe for `stripes` stripes, and `parallelism` encoders.
    pub fn new(
        chunk_size: usize,
        shards_per_stripe: usize,
        stripes: usize,
        parallelism: usize,
    ) -> Self {
        Self {
            buffers: Pool::new(shards_per_stripe * stripes),
            encoders: Pool::new(parallelism),
            shard_capacity: chunk_size + crate::keyring::TAG_LEN + 1,
        }
    }

    /// An empty buffer that holds any shard of this put without reallocating. Data and parity
    /// shards use the same capacity, so either kind of buffer can be reused for the other.
    pub fn shard_buffer(&self) -> Vec<u8> {
        self.buffers.buffer(self.shard_capacity)
    }
}

/// A bounded stack of idle items.
pub(crate) struct Pool<T> {
    idle: Mutex<Vec<T>>,
    max_idle: usize,
}

impl<T> Pool<T> {
    /// A pool that keeps at most `max_idle` idle items (extra ones are dropped).
    pub fn new(max_idle: usize) -> Self {
        Self {
            idle: Mutex::new(Vec::with_capacity(max_idle)),
            max_idle,
        }
    }

    /// An idle item, if any.
    pub fn take(&self) -> Option<T> {
        self.lock().pop()
    }

    /// Returns an item for reuse; dropped if the pool already holds `max_idle`.
    pub fn give(&self, item: T) {
        let mut idle = self.lock();
        if idle.len() < self.max_idle {
            idle.push(item);
        }
    }

    /// Idle items held now.
    #[cfg(test)]
    pub fn idle(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<T>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Pool<Vec<u8>> {
    /// An empty buffer with room for at least `capacity` bytes (reused when possible).
    pub fn buffer(&self, capacity: usize) -> Vec<u8> {
        match self.take() {
            Some(mut buf) => {
                buf.clear();
                buf.reserve_exact(capacity);
                buf
            }
            None => Vec::with_capacity(capacity),
        }
    }

    /// Returns the allocation behind `bytes` to the pool if nothing else references it (a store
    /// may still hold a clone, e.g. for a retry; then it is simply dropped).
    pub fn recycle(&self, bytes: Bytes) {
        if let Ok(unique) = bytes.try_into_mut() {
            self.give(Vec::from(unique));
        }
    }
}

impl Pool<ReedSolomonEncoder> {
    /// An encoder for `k` data and `m` parity shards of `shard_len` bytes (reused when possible).
    pub fn encoder(
        &self,
        k: usize,
        m: usize,
        shard_len: usize,
    ) -> Result<ReedSolomonEncoder, reed_solomon_simd::Error> {
        match self.take() {
            Some(mut enc) => {
                enc.reset(k, m, shard_len)?;
                Ok(enc)
            }
            None => ReedSolomonEncoder::new(k, m, shard_len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_at_most_max_idle() {
        let pool = Pool::new(2);
        for _ in 0..5 {
            pool.give(vec![1u8; 8]);
        }
        assert_eq!(pool.idle(), 2);
        let buf = pool.buffer(100);
        assert!(buf.is_empty(), "a reused buffer comes back cleared");
        assert!(buf.capacity() >= 100);
        assert_eq!(pool.idle(), 1);
    }

    #[test]
    fn recycles_only_unreferenced_bytes() {
        let pool = Pool::new(4);
        let shared = Bytes::from(vec![7u8; 64]);
        let clone = shared.clone();
        pool.recycle(shared);
        assert_eq!(pool.idle(), 0, "a clone is still alive: not reused");
        let at = clone.as_ptr();
        pool.recycle(clone);
        assert_eq!(pool.idle(), 1);
        let again = pool.buffer(64);
        assert!(again.capacity() >= 64);
        assert_eq!(
            again.as_ptr(),
            at,
            "the same allocation is handed out again"
        );
    }

    #[test]
    fn encoders_are_reset_for_the_new_shape() {
        let pool = Pool::new(1);
        let enc = pool.encoder(4, 2, 64).expect("encoder");
        pool.give(enc);
        let mut enc = pool.encoder(2, 1, 32).expect("reset");
        enc.add_original_shard([1u8; 32]).expect("shard");
        enc.add_original_shard([2u8; 32]).expect("shard");
        let parity = enc
            .encode()
            .expect("encode")
            .recovery(0)
            .map(<[u8]>::to_vec);
        assert_eq!(parity.map(|p| p.len()), Some(32));
    }
}
