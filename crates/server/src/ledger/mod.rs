//! The tamper-evident ledger: append an entry inside the caller's transaction, page through
//! it, and verify the whole chain.
//!
//! Appends are serialised so concurrent writers never fork the chain: on PostgreSQL by a
//! transaction-scoped advisory lock taken before the head is read (and `seq` is the primary
//! key, so a fork could not commit anyway); on SQLite, where one writer holds the database at
//! a time, by the write lock that [`crate::db::write`] takes before the transaction starts.

pub mod action;
pub mod browse;
pub mod chain;

pub use action::Action;

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::DbConn;
use crate::db::paging::Paging;
use crate::db::schema::ledger;
use crate::error::ApiError;
use chain::{EntryContent, Format, GENESIS_HASH, StoredEntry, Verifier, entry_hash, ledger_time};
use medvault_types::{LedgerEntry, LedgerVerification, UserId};

/// Rows read per round trip while verifying (memory stays bounded by this).
const VERIFY_BATCH: i64 = 1_000;

/// Payload values are ids and hashes; this caps a payload's encoded size.
const MAX_PAYLOAD_BYTES: usize = 4_096;

/// What to append. `payload` holds ids and hashes only, never health data.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// Acting user, or `None` for the system.
    pub actor: Option<UserId>,
    /// What happened.
    pub action: Action,
    /// Subject reference, e.g. `record:<uuid>`.
    pub subject: String,
    /// The patient concerned, for the patient's access log.
    pub patient: Option<UserId>,
    /// Ids and hashes.
    pub payload: Value,
}

impl NewEntry {
    /// An entry with an empty payload.
    pub fn new(actor: Option<UserId>, action: Action, subject: impl Into<String>) -> Self {
        Self {
            actor,
            action,
            subject: subject.into(),
            patient: None,
            payload: Value::Object(serde_json::Map::new()),
        }
    }

    /// Names the patient concerned (shown in their access log).
    #[must_use]
    pub fn patient(mut self, patient: UserId) -> Self {
        self.patient = Some(patient);
        self
    }

    /// Sets the payload (ids and hashes only).
    #[must_use]
    pub fn payload(mut self, payload: Value) -> Self {
        self.payload = payload;
        self
    }
}

#[derive(Insertable)]
#[diesel(table_name = ledger)]
struct Row<'a> {
    seq: i64,
    at: NaiveDateTime,
    actor: Option<&'a str>,
    action: &'a str,
    subject: &'a str,
    payload: &'a str,
    prev_hash: &'a str,
    hash: &'a str,
    patient_id: Option<&'a str>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = ledger)]
struct StoredRow {
    seq: i64,
    at: NaiveDateTime,
    actor: Option<String>,
    action: String,
    subject: String,
    payload: String,
    prev_hash: String,
    hash: String,
    patient_id: Option<String>,
}

impl From<StoredRow> for StoredEntry {
    fn from(r: StoredRow) -> Self {
        Self {
            seq: r.seq,
            at: r.at.and_utc(),
            actor: r.actor,
            action: r.action,
            subject: r.subject,
            payload: r.payload,
            patient: r.patient_id,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// Canonical payload text: compact JSON with object keys sorted at every level, so the same
/// payload always hashes the same whatever map type built it.
pub fn canonical_payload(value: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sort(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    // Serialising a `Value` cannot fail.
    serde_json::to_string(&sort(value)).unwrap_or_default()
}

/// Serialises appends: the writer lock ([`crate::db::lock_writers`]; already held inside
/// [`crate::db::write`], taken here for callers with a transaction of their own).
fn lock_chain(conn: &mut DbConn) -> QueryResult<()> {
    crate::db::lock_writers(conn)
}

/// The form new entries are hashed in: v2 once the switch is on the chain (an index lookup).
fn current_format(conn: &mut DbConn) -> Result<Format, ApiError> {
    let switched: Option<i64> = ledger::table
        .filter(ledger::action.eq(Action::LedgerFormat.as_str()))
        .select(ledger::seq)
        .first(conn)
        .optional()?;
    Ok(if switched.is_some() {
        Format::V2
    } else {
        Format::V1
    })
}

/// Puts the switch to format v2 on the chain unless it is there (the start-up task of issue
/// 11): from the next entry on, the patient id an entry is filed under is inside its hash.
/// Returns whether it appended the switch.
pub fn switch_to_v2(conn: &mut DbConn) -> Result<bool, ApiError> {
    lock_chain(conn)?;
    if current_format(conn)? == Format::V2 {
        return Ok(false);
    }
    append(
        conn,
        &NewEntry::new(None, Action::LedgerFormat, "ledger").payload(serde_json::json!({
            "format": 2,
            "covers": ["seq", "at", "actor", "action", "subject", "patient_id", "payload"],
        })),
    )?;
    Ok(true)
}

/// Appends `entry` to the chain. Call it inside the transaction of the action it records, so
/// both commit or neither does. Returns the new entry's `seq`.
pub fn append(conn: &mut DbConn, entry: &NewEntry) -> Result<i64, ApiError> {
    let payload = canonical_payload(&entry.payload);
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(ApiError::internal("ledger payload too large"));
    }
    lock_chain(conn)?;
    let head: Option<(i64, String)> = ledger::table
        .select((ledger::seq, ledger::hash))
        .order(ledger::seq.desc())
        .first(conn)
        .optional()?;
    let (seq, prev_hash) = head.map_or_else(|| (1, GENESIS_HASH.to_owned()), |(s, h)| (s + 1, h));
    let format = current_format(conn)?;
    let at = ledger_time(Utc::now());
    let actor = entry.actor.map(|a| a.to_string());
    let patient = entry.patient.map(|p| p.to_string());
    let hash = entry_hash(
        &prev_hash,
        &EntryContent {
            seq,
            at,
            actor: actor.as_deref(),
            action: entry.action.as_str(),
            subject: &entry.subject,
            payload: &payload,
            patient: patient.as_deref(),
            format,
        },
    );
    diesel::insert_into(ledger::table)
        .values(Row {
            seq,
            at: at.naive_utc(),
            actor: actor.as_deref(),
            action: entry.action.as_str(),
            subject: &entry.subject,
            payload: &payload,
            prev_hash: &prev_hash,
            hash: &hash,
            patient_id: patient.as_deref(),
        })
        .execute(conn)?;
    Ok(seq)
}

/// Turns a stored row into the API shape.
fn to_dto(r: StoredRow) -> LedgerEntry {
    LedgerEntry {
        seq: r.seq,
        at: r.at.and_utc(),
        actor: r.actor.as_deref().and_then(|a| a.parse().ok()),
        action: r.action,
        subject: r.subject,
        payload: serde_json::from_str(&r.payload).unwrap_or(Value::Null),
        prev_hash: r.prev_hash,
        hash: r.hash,
    }
}

/// Entries with `seq < before` (or the newest), newest first, at most `limit`, optionally of
/// one action. Returns the entries and the ledger's total length.
pub fn page(
    conn: &mut DbConn,
    before: Option<i64>,
    limit: i64,
    action: Option<Action>,
) -> Result<(Vec<LedgerEntry>, i64), ApiError> {
    let mut q = ledger::table
        .select(StoredRow::as_select())
        .order(ledger::seq.desc())
        .limit(limit)
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(ledger::seq.lt(b));
    }
    if let Some(a) = action {
        q = q.filter(ledger::action.eq(a.as_str()));
    }
    let rows: Vec<StoredRow> = q.load(conn)?;
    let total: i64 = ledger::table.count().get_result(conn)?;
    Ok((rows.into_iter().map(to_dto).collect(), total))
}

/// Number of entries in the chain.
pub fn length(conn: &mut DbConn) -> Result<u64, ApiError> {
    let n: i64 = ledger::table.count().get_result(conn)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Recomputes the whole chain in batches and names the first broken link.
pub fn verify(conn: &mut DbConn) -> Result<LedgerVerification, ApiError> {
    let mut verifier = Verifier::new();
    let mut after: i64 = i64::MIN;
    loop {
        let rows: Vec<StoredRow> = ledger::table
            .select(StoredRow::as_select())
            .filter(ledger::seq.gt(after))
            .order(ledger::seq.asc())
            .limit(VERIFY_BATCH)
            .load(conn)?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            break;
        };
        after = last;
        let mut intact = true;
        for r in rows {
            if !verifier.feed(&StoredEntry::from(r)) {
                intact = false;
                break;
            }
        }
        if !intact {
            break;
        }
    }
    let broken = verifier.broken().cloned();
    Ok(LedgerVerification {
        ok: broken.is_none(),
        entries: verifier.checked(),
        first_broken_seq: broken.as_ref().map(|(seq, _)| *seq),
        reason: broken.map(|(_, why)| why.to_string()),
        head_hash: verifier.head_hash().map(str::to_owned),
    })
}

/// Entries about `patient` whose action is one of `actions`, except those the patient did
/// themself with an action in `hide_own`, newest first, one page of them, and how many there
/// are in all.
///
/// Most entries filed under a patient are their own reads (every listing of their records is
/// one), so the query never reads those: it takes the sequence numbers of the entries of other
/// actors (`actor` below or above the patient's id, or none) and of the patient's own entries
/// with a shown action, each an index range of `ledger_patient_actor`, then loads one page.
/// Its cost follows the entries shown, not the patient's own reads.
pub fn entries_for_patient(
    conn: &mut DbConn,
    patient: UserId,
    actions: &[Action],
    hide_own: &[Action],
    paging: &Paging,
) -> Result<(Vec<LedgerEntry>, i64), ApiError> {
    let names: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
    let own_shown: Vec<&str> = actions
        .iter()
        .filter(|a| !hide_own.contains(a))
        .map(|a| a.as_str())
        .collect();
    let me = patient.to_string();
    let of_patient = || {
        ledger::table
            .filter(ledger::patient_id.eq(me.clone()))
            .select(ledger::seq)
    };
    let mut seqs: Vec<i64> = of_patient()
        .filter(ledger::actor.is_null())
        .filter(ledger::action.eq_any(names.clone()))
        .load(conn)?;
    seqs.extend(
        of_patient()
            .filter(ledger::actor.lt(me.clone()))
            .filter(ledger::action.eq_any(names.clone()))
            .load::<i64>(conn)?,
    );
    seqs.extend(
        of_patient()
            .filter(ledger::actor.gt(me.clone()))
            .filter(ledger::action.eq_any(names.clone()))
            .load::<i64>(conn)?,
    );
    seqs.extend(
        of_patient()
            .filter(ledger::actor.eq(me.clone()))
            .filter(ledger::action.eq_any(own_shown))
            .load::<i64>(conn)?,
    );
    seqs.sort_unstable_by(|a, b| b.cmp(a));
    let total = i64::try_from(seqs.len()).unwrap_or(i64::MAX);
    let from = usize::try_from(paging.offset()).unwrap_or(usize::MAX);
    let page: Vec<i64> = seqs
        .into_iter()
        .skip(from)
        .take(usize::try_from(paging.limit()).unwrap_or(0))
        .collect();
    let rows: Vec<StoredRow> = if page.is_empty() {
        Vec::new()
    } else {
        ledger::table
            .select(StoredRow::as_select())
            .filter(ledger::seq.eq_any(page))
            .order(ledger::seq.desc())
            .load(conn)?
    };
    Ok((rows.into_iter().map(to_dto).collect(), total))
}

/// Appends an account event (`user.create`, `user.update`, `auth.login`, ...) about `user`:
/// ids only, never the changed values.
pub fn user_event(
    conn: &mut DbConn,
    actor: Option<UserId>,
    action: Action,
    user: &str,
) -> Result<i64, ApiError> {
    append(
        conn,
        &NewEntry::new(actor, action, format!("user:{user}"))
            .payload(serde_json::json!({ "user_id": user })),
    )
}

/// The manifest root hash the ledger says `record` has now: the root recorded at upload,
/// followed through every `record.repair` entry (each must name the root before it as
/// `old_root`; a repair entry that does not continue the chain of roots ends it with `None`).
/// Downloads compare it with the stored manifest, so a manifest swapped in the database is
/// refused.
pub fn recorded_manifest_root(
    conn: &mut DbConn,
    record: medvault_types::RecordId,
) -> Result<Option<String>, ApiError> {
    let entries: Vec<(String, String)> = ledger::table
        .filter(ledger::subject.eq(format!("record:{record}")))
        .filter(
            ledger::action.eq_any([Action::RecordUpload.as_str(), Action::RecordRepair.as_str()]),
        )
        .select((ledger::action, ledger::payload))
        .order(ledger::seq.asc())
        .load(conn)?;
    let field =
        |payload: &Value, name: &str| payload.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut root: Option<String> = None;
    for (action, payload) in entries {
        let payload: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
        if action == Action::RecordUpload.as_str() {
            if root.is_none() {
                root = field(&payload, "manifest_root");
            }
        } else if root.is_some() && field(&payload, "old_root") == root {
            root = field(&payload, "manifest_root");
        } else {
            return Ok(None);
        }
    }
    Ok(root)
}
