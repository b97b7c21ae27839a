//! Healing one record: the engine checks and moves its shards (ciphertext only); a manifest
//! that changed is committed atomically against the root it replaced, ledgered as
//! `record.repair` with the old and the new root, and only then are the superseded objects
//! deleted. The record's class lands in `record_storage`.

use diesel::prelude::*;
use medvault_engine::{HealOptions, Manifest, RecordClass, ScrubReport};
use medvault_types::{RecordId, UserId};
use serde_json::json;

use crate::db::ids::StoredId;
use crate::db::schema::records;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::ledger::{self, Action, NewEntry};
use crate::state::AppState;
use crate::storage::health;

/// Why a record is healed (the `reason` of its `record.repair` entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// A scrub (background or `medvault storage scrub --repair`).
    Scrub,
    /// `medvault storage drain`.
    Drain,
}

impl Why {
    fn as_str(self) -> &'static str {
        match self {
            Self::Scrub => "scrub",
            Self::Drain => "drain",
        }
    }
}

/// What healing one record did.
#[derive(Debug)]
pub struct Healed {
    /// The engine's report (erasures, rebuilt and moved shards, the class left).
    pub report: ScrubReport,
    /// A new manifest was committed.
    pub committed: bool,
}

impl Healed {
    /// The class the record was left in.
    pub fn class(&self) -> RecordClass {
        self.report.class()
    }
}

/// The live record's manifest, checked against its row and the ledger's chain of roots.
fn load(conn: &mut DbConn, id: RecordId) -> Result<Option<(Manifest, UserId)>, ApiError> {
    let row: Option<(String, String, Option<String>)> = records::table
        .find(id.to_string())
        .filter(records::deleted_at.is_null())
        .select((records::patient_id, records::root_hash, records::manifest))
        .first(conn)
        .optional()?;
    let Some((patient, root, Some(text))) = row else {
        return Ok(None);
    };
    let manifest: Manifest = serde_json::from_str(&text).map_err(ApiError::internal)?;
    if manifest.root_hash != root
        || ledger::recorded_manifest_root(conn, id)?.as_deref() != Some(&root)
    {
        return Err(ApiError::internal(format!(
            "record {id}: manifest root differs from the ledger; not healed"
        )));
    }
    Ok(Some((manifest, UserId::from_stored(&patient)?)))
}

/// Checks (and in repair mode heals) record `id`; `None` when it is not a live record.
pub async fn heal_record(
    state: &AppState,
    id: RecordId,
    opts: &HealOptions,
    why: Why,
) -> Result<Option<Healed>, ApiError> {
    let Some((manifest, patient)) = db::run(&state.pool, move |c| load(c, id)).await? else {
        return Ok(None);
    };
    let report = state
        .engine
        .heal(&manifest, opts)
        .await
        .map_err(ApiError::storage)?;
    let class = report.class();
    let now = state.clock.now();
    let Some(new) = report.manifest.clone() else {
        db::write(&state.pool, move |c| {
            health::record_scrub(c, id, class, now)
        })
        .await?;
        return Ok(Some(Healed {
            report,
            committed: false,
        }));
    };
    let payload = json!({
        "record_id": id,
        "old_root": manifest.root_hash,
        "manifest_root": new.root_hash,
        "rebuilt": report.repaired.len(),
        "moved": report.moved.len(),
        "reason": why.as_str(),
    });
    let old_root = manifest.root_hash.clone();
    let committed = db::write(&state.pool, move |c| {
        let n = diesel::update(
            records::table
                .find(id.to_string())
                .filter(records::root_hash.eq(&old_root))
                .filter(records::deleted_at.is_null()),
        )
        .set((
            records::manifest.eq(serde_json::to_string(&new).map_err(ApiError::internal)?),
            records::root_hash.eq(&new.root_hash),
        ))
        .execute(c)?;
        if n == 0 {
            return Ok(false);
        }
        ledger::append(
            c,
            &NewEntry::new(None, Action::RecordRepair, format!("record:{id}"))
                .patient(patient)
                .payload(payload),
        )?;
        health::record_scrub(c, id, class, now)?;
        Ok(true)
    })
    .await;
    let (doomed, committed) = match committed {
        Ok(true) => (&report.superseded, true),
        // Deleted or repaired by someone else meanwhile: the new objects are not needed.
        Ok(false) => (&report.written, false),
        Err(e) => {
            discard(state, &report.written).await;
            return Err(e);
        }
    };
    discard(state, doomed).await;
    Ok(Some(Healed { report, committed }))
}

/// Deletes objects, logging (not failing on) what could not be deleted: the collector's sweep
/// removes unreferenced leftovers later.
async fn discard(state: &AppState, objects: &[(String, String)]) {
    for (bucket, key, error) in state.engine.discard(objects).await {
        tracing::warn!(%bucket, %key, %error, "could not delete a superseded shard; the collector will");
    }
}
