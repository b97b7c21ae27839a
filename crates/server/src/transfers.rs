//! Caps on concurrent transfers (uploads and downloads), per process and per user.
//!
//! Each transfer holds a bounded amount of memory (the README's per-transfer bound), so the
//! process-wide cap bounds the memory of all transfers together: `max_transfers` times that.
//! A transfer past the process cap answers 503, past the user's own cap 429, both with
//! `Retry-After`; nothing is read, authorised or ledgered for a refused transfer (a grant
//! loses no download). A permit is taken without waiting and released when the transfer ends
//! (for a download, when its body is dropped: finished, failed or cut off).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use medvault_types::UserId;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The `[limits]` table of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Concurrent uploads and downloads in this process (default 32).
    pub max_transfers: u32,
    /// Concurrent uploads and downloads of one user (default 4).
    pub max_transfers_per_user: u32,
    /// The `Retry-After` sent with a refusal, in seconds (default 2).
    pub retry_after_secs: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_transfers: 32,
            max_transfers_per_user: 4,
            retry_after_secs: 2,
        }
    }
}

/// The transfers in flight.
#[derive(Debug)]
pub struct Transfers {
    cfg: LimitsConfig,
    inner: Mutex<InFlight>,
}

#[derive(Debug, Default)]
struct InFlight {
    total: u32,
    by_user: HashMap<UserId, u32>,
}

/// One transfer's place under the caps; released on drop.
#[derive(Debug)]
pub struct TransferPermit {
    transfers: Arc<Transfers>,
    user: UserId,
}

impl Transfers {
    /// No transfer in flight yet.
    pub fn new(cfg: LimitsConfig) -> Arc<Self> {
        Arc::new(Self {
            cfg,
            inner: Mutex::new(InFlight::default()),
        })
    }

    /// Takes a place for a transfer by `user`, or refuses at once: 429 past the user's cap
    /// (checked first: one user's burst is theirs to slow down), 503 past the process cap.
    pub fn try_start(self: &Arc<Self>, user: UserId) -> Result<TransferPermit, ApiError> {
        let retry_after = u64::from(self.cfg.retry_after_secs);
        let mut in_flight = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = in_flight.by_user.get(&user).copied().unwrap_or(0);
        if mine >= self.cfg.max_transfers_per_user {
            return Err(ApiError::TooManyTransfers { retry_after });
        }
        if in_flight.total >= self.cfg.max_transfers {
            return Err(ApiError::Busy { retry_after });
        }
        in_flight.total += 1;
        *in_flight.by_user.entry(user).or_default() += 1;
        Ok(TransferPermit {
            transfers: Arc::clone(self),
            user,
        })
    }

    /// Transfers in flight now.
    pub fn in_flight(&self) -> u32 {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }
}

impl Drop for TransferPermit {
    fn drop(&mut self) {
        let mut in_flight = self
            .transfers
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        in_flight.total = in_flight.total.saturating_sub(1);
        if let Some(n) = in_flight.by_user.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                in_flight.by_user.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError;
    use actix_web::http::StatusCode;

    use super::*;

    fn limits(total: u32, per_user: u32) -> Arc<Transfers> {
        Transfers::new(LimitsConfig {
            max_transfers: total,
            max_transfers_per_user: per_user,
            retry_after_secs: 3,
        })
    }

    #[test]
    fn caps_refuse_with_their_status_and_release_on_drop() {
        let t = limits(3, 2);
        let (a, b) = (
            UserId::from(uuid::Uuid::new_v4()),
            UserId::from(uuid::Uuid::new_v4()),
        );
        let a1 = t.try_start(a).unwrap();
        let a2 = t.try_start(a).unwrap();
        let over = t.try_start(a).unwrap_err();
        assert_eq!(over.status_code(), StatusCode::TOO_MANY_REQUESTS);
        let resp = over.error_response();
        assert_eq!(resp.headers().get("retry-after").unwrap(), "3");
        let b1 = t.try_start(b).unwrap();
        let busy = t.try_start(b).unwrap_err();
        assert_eq!(busy.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(t.in_flight(), 3);
        drop(a1);
        let b2 = t.try_start(b).unwrap();
        drop((a2, b1, b2));
        assert_eq!(t.in_flight(), 0);
        assert!(t.inner.lock().unwrap().by_user.is_empty());
    }
}
