//! The admin's view of the ledger: pages of entries (newest first, optionally one action) and
//! the whole-chain verification.

use medvault_types::{LedgerPage, LedgerQuery, LedgerVerification};

use crate::db;
use crate::error::ApiError;
use crate::ledger::{self, Action};
use crate::state::SharedState;
use crate::validate::Fields;

/// Default page size.
const DEFAULT_LIMIT: u32 = 50;
/// Largest page.
const MAX_LIMIT: u32 = 500;
/// Longest action filter accepted, in characters.
const MAX_ACTION_LEN: usize = 64;

/// One page of entries with `seq < before` (or from the newest), newest first.
pub async fn page(state: &SharedState, query: LedgerQuery) -> Result<LedgerPage, ApiError> {
    let mut f = Fields::default();
    let limit = f.take(
        "limit",
        match query.limit.unwrap_or(DEFAULT_LIMIT) {
            n @ 1..=MAX_LIMIT => Ok(n),
            _ => Err(format!("must be 1 to {MAX_LIMIT}")),
        },
    );
    let before = f.take(
        "before",
        match query.before {
            Some(b) if b < 1 => Err("must be a positive sequence number".to_owned()),
            other => Ok(other),
        },
    );
    let action = f.take(
        "action",
        match query.action {
            Some(a) if a.chars().count() > MAX_ACTION_LEN => Err("too long".to_owned()),
            other => Ok(other),
        },
    );
    f.finish()?;
    // An action name medvault never writes matches nothing.
    let filter = match action.as_deref().map(Action::parse) {
        Some(None) => {
            return Ok(LedgerPage {
                items: Vec::new(),
                total: db::run(&state.pool, ledger::length).await?,
                next_before: None,
            });
        }
        Some(Some(a)) => Some(a),
        None => None,
    };
    let (items, total) = db::run(&state.pool, move |conn| {
        ledger::page(conn, before, i64::from(limit), filter)
    })
    .await?;
    let full = items.len() >= limit as usize;
    let next_before = items.last().map(|e| e.seq).filter(|s| full && *s > 1);
    Ok(LedgerPage {
        items,
        total: u64::try_from(total).unwrap_or(0),
        next_before,
    })
}

/// Recomputes the whole chain and names the first broken link.
pub async fn verify(state: &SharedState) -> Result<LedgerVerification, ApiError> {
    db::run(&state.pool, ledger::verify).await
}
