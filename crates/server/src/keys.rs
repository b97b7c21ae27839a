//! Master-key rotation by re-wrap (`medvault keys status | rotate | retire`) and the start-up
//! check that the key ring holds every master key something is wrapped under.
//!
//! Two tables hold data keys wrapped under a master key (KEK) of the ring:
//!
//! * `records` (`kek_id`, `wrapped_dek`; both NULL once the record is crypto-shredded), bound
//!   to the record id (its 16 UUID bytes, as the engine's `put`/`get` use it);
//! * `patient_keys` (`kek_id`, `wrapped_dek`), bound to `patient:<id>` ([`crate::patient_key`]).
//!
//! [`rotate`] re-wraps them under the ring's current KEK ([`KeyRing::rewrap`]): the data keys
//! themselves do not change, so no shard and no sealed field is read or rewritten. It works in
//! batches, one write transaction each, and every row is replaced by compare-and-set (`WHERE id
//! = ? AND kek_id = <old> AND wrapped_dek = <old bytes>`), so a run killed half-way, a rerun or
//! two concurrent runs lose nothing and re-wrap nothing twice. Each batch that re-wrapped
//! something is ledgered (`keys.rotate`, counts and key ids, never key material) in its own
//! transaction. [`retire`] removes a KEK from the ring once nothing is wrapped under it, and
//! [`check_ring`] refuses a ring that lacks a KEK still in use.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use anyhow::Context;
use diesel::prelude::*;
use medvault_engine::{KeyRing, WrappedDek};
use serde::Serialize;
use serde_json::json;

use crate::config::Config;
use crate::db::schema::{patient_keys, records};
use crate::db::{self, Db, DbConn};
use crate::error::ApiError;
use crate::ledger::{self, Action, NewEntry};

/// File (in the data dir) holding the generated development key ring.
pub const GENERATED_RING_FILE: &str = "master-keys";

/// At most this many failures are listed in a [`RotateReport`] (all are counted).
const MAX_LISTED_FAILURES: usize = 100;

/// Where the key ring of a configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RingSource {
    /// Inline in the configuration (`MEDVAULT_MASTER_KEYS`): the operator edits it.
    Inline,
    /// A key file: `keys.file` / `MEDVAULT_MASTER_KEYS_FILE`, or the development ring generated
    /// into the data dir ([`GENERATED_RING_FILE`]) when neither is configured.
    File(PathBuf),
}

impl RingSource {
    /// The source `config` names.
    pub fn of(config: &Config) -> Self {
        if config.keys.ring.is_some() {
            Self::Inline
        } else {
            Self::File(ring_file(config))
        }
    }
}

/// The key file of a configuration without an inline ring.
fn ring_file(config: &Config) -> PathBuf {
    config
        .keys
        .file
        .clone()
        .unwrap_or_else(|| config.data_dir.join(GENERATED_RING_FILE))
}

/// The key ring: inline from config/env, from a key file, or the development ring in the data
/// dir. With `generate` (the server) a missing development ring is generated once, mode 0600;
/// without it (the `keys` commands) a missing ring is an error.
pub fn load_ring(config: &Config, generate: bool) -> anyhow::Result<KeyRing> {
    use secrecy::ExposeSecret;
    if let Some(ring) = &config.keys.ring {
        return KeyRing::parse(ring.expose_secret()).context("MEDVAULT_MASTER_KEYS");
    }
    let path = ring_file(config);
    if config.keys.file.is_some() || path.exists() || !generate {
        return KeyRing::from_file(&path)
            .with_context(|| format!("reading the key ring {}", path.display()));
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    tracing::warn!(path = %path.display(), "generated a development key ring; configure MEDVAULT_MASTER_KEYS_FILE in production");
    KeyRing::generate_file(&path)
        .with_context(|| format!("creating the key ring {}", path.display()))
}

/// How many record keys and per-patient keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Record data keys (`records`).
    pub record_keys: u64,
    /// Per-patient data keys (`patient_keys`).
    pub patient_keys: u64,
}

impl Counts {
    /// Both together.
    pub fn total(&self) -> u64 {
        self.record_keys + self.patient_keys
    }

    fn add(&mut self, kind: KeyKind, n: u64) {
        match kind {
            KeyKind::Record => self.record_keys += n,
            KeyKind::Patient => self.patient_keys += n,
        }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} record key{} and {} patient key{}",
            self.record_keys,
            if self.record_keys == 1 { "" } else { "s" },
            self.patient_keys,
            if self.patient_keys == 1 { "" } else { "s" },
        )
    }
}

/// For each KEK id in the database, how many keys it wraps (shredded records count nowhere).
pub fn counts(conn: &mut DbConn) -> Result<BTreeMap<String, Counts>, ApiError> {
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    let rows: Vec<(Option<String>, i64)> = records::table
        .filter(records::kek_id.is_not_null())
        .group_by(records::kek_id)
        .select((records::kek_id, diesel::dsl::count_star()))
        .load(conn)?;
    for (kek, n) in rows {
        if let Some(kek) = kek {
            out.entry(kek).or_default().record_keys = u64::try_from(n).unwrap_or(0);
        }
    }
    let rows: Vec<(String, i64)> = patient_keys::table
        .group_by(patient_keys::kek_id)
        .select((patient_keys::kek_id, diesel::dsl::count_star()))
        .load(conn)?;
    for (kek, n) in rows {
        out.entry(kek).or_default().patient_keys = u64::try_from(n).unwrap_or(0);
    }
    Ok(out)
}

/// One master key in [`KeyStatus`].
#[derive(Debug, Clone, Serialize)]
pub struct KeyLine {
    /// The KEK id.
    pub kek_id: String,
    /// The keys wrapped under it.
    #[serde(flatten)]
    pub counts: Counts,
    /// Whether the ring holds it (`None`: no ring was given).
    pub in_ring: Option<bool>,
    /// Whether it is the ring's current key (new wraps, target of a rotation).
    pub current: bool,
}

/// What `medvault keys status` shows: every KEK of the ring and every KEK something is
/// wrapped under, with how many keys each wraps.
#[derive(Debug, Clone, Serialize)]
pub struct KeyStatus {
    /// The ring's current KEK.
    pub current: Option<String>,
    /// One line per KEK, by id.
    pub keys: Vec<KeyLine>,
}

/// The counts of [`counts`], with the ring's keys (also those wrapping nothing) when given.
pub fn status(conn: &mut DbConn, ring: Option<&KeyRing>) -> Result<KeyStatus, ApiError> {
    let mut by_id: BTreeMap<String, Counts> = counts(conn)?;
    for id in ring.iter().flat_map(|r| r.ids()) {
        by_id.entry(id.to_owned()).or_default();
    }
    let current = ring.map(|r| r.current_id().to_owned());
    let keys = by_id
        .into_iter()
        .map(|(kek_id, counts)| KeyLine {
            in_ring: ring.map(|r| r.ids().any(|id| id == kek_id)),
            current: current.as_deref() == Some(kek_id.as_str()),
            kek_id,
            counts,
        })
        .collect();
    Ok(KeyStatus { current, keys })
}

impl fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<34} {:>12} {:>12}  ring",
            "master key", "record keys", "patient keys"
        )?;
        for line in &self.keys {
            let ring = match (line.in_ring, line.current) {
                (_, true) => "current",
                (Some(true), false) => "in ring",
                (Some(false), false) => "MISSING from the ring",
                (None, false) => "-",
            };
            writeln!(
                f,
                "{:<34} {:>12} {:>12}  {ring}",
                line.kek_id, line.counts.record_keys, line.counts.patient_keys
            )?;
        }
        Ok(())
    }
}

/// Refuses a ring that lacks a KEK something is still wrapped under (the server calls it at
/// start): the error names each missing id and how many keys it wraps.
pub fn check_ring(conn: &mut DbConn, ring: &KeyRing) -> anyhow::Result<()> {
    let missing: Vec<String> = counts(conn)
        .context("counting the wrapped keys")?
        .into_iter()
        .filter(|(id, _)| !ring.ids().any(|r| r == id))
        .map(|(id, n)| format!("the key ring lacks master key '{id}', which wraps {n}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "{}; add it back to the ring (MEDVAULT_MASTER_KEYS / keys.file) or restore the ring \
         from backup",
        missing.join("; ")
    )
}

/// Which table a wrapped key lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// A record's data key (`records`).
    Record,
    /// A patient's data key (`patient_keys`).
    Patient,
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Record => "record key",
            Self::Patient => "patient key",
        })
    }
}

impl KeyKind {
    /// Plural name for messages.
    pub fn plural(self) -> &'static str {
        match self {
            Self::Record => "record keys",
            Self::Patient => "patient keys",
        }
    }
}

/// How far [`rotate`] got, after each batch.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Progress {
    /// The table being worked on.
    pub kind: KeyKind,
    /// Rows of it handled so far (re-wrapped, checked, failed or changed meanwhile).
    pub done: u64,
    /// Rows of it to handle, counted when it started.
    pub total: u64,
    /// Batches finished so far in this run, both tables (committed ones when not a dry run).
    pub batches: u64,
}

/// A wrapped key that did not unwrap.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// Its table.
    pub kind: KeyKind,
    /// The row: record id or patient id.
    pub id: String,
    /// The KEK it claims to be wrapped under.
    pub kek_id: String,
    /// Why (unknown KEK, or authentication failed: wrong key or damaged bytes).
    pub error: String,
}

/// The outcome of [`rotate`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct RotateReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// The current KEK: the one everything is re-wrapped under.
    pub to: String,
    /// Per other KEK, the keys re-wrapped away from it (dry run: that unwrapped and would be).
    pub from: BTreeMap<String, Counts>,
    /// Total of `from`.
    pub rewrapped: Counts,
    /// Dry run: keys already under the current KEK that unwrapped (nothing to do for them).
    pub already_current: Counts,
    /// Keys another writer changed between read and write (shredded, or re-wrapped by a
    /// concurrent run); left as that writer left them.
    pub changed_meanwhile: Counts,
    /// How many keys did not unwrap (left untouched).
    pub failed: u64,
    /// The first of them.
    pub failures: Vec<Failure>,
}

impl RotateReport {
    fn fail(&mut self, failure: Failure) {
        self.failed += 1;
        if self.failures.len() < MAX_LISTED_FAILURES {
            self.failures.push(failure);
        }
    }
}

/// What [`rotate`] does.
#[derive(Debug, Clone, Copy)]
pub struct RotateOptions {
    /// Rows per batch (one write transaction each); at least 1.
    pub batch: usize,
    /// Only unwrap every wrapped key (under every KEK) and report; write nothing.
    pub dry_run: bool,
}

/// A wrapped key as read.
struct Row {
    id: String,
    wrapped: WrappedDek,
}

/// The subject a key of `kind` in row `id` is bound to.
fn subject(kind: KeyKind, id: &str) -> Result<Vec<u8>, String> {
    match kind {
        KeyKind::Record => uuid::Uuid::parse_str(id)
            .map(|u| u.as_bytes().to_vec())
            .map_err(|_| "malformed record id".to_owned()),
        KeyKind::Patient => Ok(format!("patient:{id}").into_bytes()),
    }
}

/// Up to `limit` wrapped keys of `kind` with an id after `after`, by id; only those not under
/// `not_under` when given.
fn page(
    conn: &mut DbConn,
    kind: KeyKind,
    after: &str,
    not_under: Option<&str>,
    limit: i64,
) -> Result<Vec<Row>, ApiError> {
    let rows: Vec<(String, String, Vec<u8>)> = match kind {
        KeyKind::Record => {
            let mut q = records::table
                .filter(records::kek_id.is_not_null())
                .filter(records::wrapped_dek.is_not_null())
                .filter(records::id.gt(after))
                .into_boxed::<Db>();
            if let Some(current) = not_under {
                q = q.filter(records::kek_id.ne(current));
            }
            let rows: Vec<(String, Option<String>, Option<Vec<u8>>)> = q
                .order(records::id.asc())
                .limit(limit)
                .select((records::id, records::kek_id, records::wrapped_dek))
                .load(conn)?;
            rows.into_iter()
                .filter_map(|(id, kek, bytes)| Some((id, kek?, bytes?)))
                .collect()
        }
        KeyKind::Patient => {
            let mut q = patient_keys::table
                .filter(patient_keys::patient_id.gt(after))
                .into_boxed::<Db>();
            if let Some(current) = not_under {
                q = q.filter(patient_keys::kek_id.ne(current));
            }
            q.order(patient_keys::patient_id.asc())
                .limit(limit)
                .select((
                    patient_keys::patient_id,
                    patient_keys::kek_id,
                    patient_keys::wrapped_dek,
                ))
                .load(conn)?
        }
    };
    Ok(rows
        .into_iter()
        .map(|(id, kek_id, bytes)| Row {
            id,
            wrapped: WrappedDek { kek_id, bytes },
        })
        .collect())
}

/// How many keys of `kind` there are (only those not under `not_under` when given).
fn count(conn: &mut DbConn, kind: KeyKind, not_under: Option<&str>) -> Result<u64, ApiError> {
    let by_kek = counts(conn)?;
    Ok(by_kek
        .iter()
        .filter(|(id, _)| not_under != Some(id.as_str()))
        .map(|(_, c)| match kind {
            KeyKind::Record => c.record_keys,
            KeyKind::Patient => c.patient_keys,
        })
        .sum())
}

/// Replaces `old` by `new` in row `id` if the row still holds `old`; whether it did.
fn compare_and_set(
    conn: &mut DbConn,
    kind: KeyKind,
    id: &str,
    old: &WrappedDek,
    new: &WrappedDek,
) -> Result<bool, ApiError> {
    let n = match kind {
        KeyKind::Record => diesel::update(
            records::table
                .filter(records::id.eq(id))
                .filter(records::kek_id.eq(&old.kek_id))
                .filter(records::wrapped_dek.eq(&old.bytes)),
        )
        .set((
            records::kek_id.eq(Some(&new.kek_id)),
            records::wrapped_dek.eq(Some(&new.bytes)),
        ))
        .execute(conn)?,
        KeyKind::Patient => diesel::update(
            patient_keys::table
                .filter(patient_keys::patient_id.eq(id))
                .filter(patient_keys::kek_id.eq(&old.kek_id))
                .filter(patient_keys::wrapped_dek.eq(&old.bytes)),
        )
        .set((
            patient_keys::kek_id.eq(&new.kek_id),
            patient_keys::wrapped_dek.eq(&new.bytes),
        ))
        .execute(conn)?,
    };
    Ok(n == 1)
}

/// What one batch did.
#[derive(Default)]
struct Batch {
    /// Rows read.
    seen: u64,
    /// Id of the last row read (the next batch starts after it).
    last: String,
    /// Re-wrapped (or, dry run, unwrapped) per KEK.
    opened: BTreeMap<String, u64>,
    /// Lost a compare-and-set.
    changed: u64,
    /// Did not unwrap.
    failures: Vec<Failure>,
}

/// Unwraps (`rewrap` false) or re-wraps and writes back (`rewrap` true) every row of `rows`.
fn process(
    conn: &mut DbConn,
    ring: &KeyRing,
    kind: KeyKind,
    rows: Vec<Row>,
    rewrap: bool,
) -> Result<Batch, ApiError> {
    let mut batch = Batch::default();
    for row in rows {
        batch.seen += 1;
        batch.last.clone_from(&row.id);
        let opened = subject(kind, &row.id).and_then(|s| {
            if rewrap {
                ring.rewrap(&s, &row.wrapped)
                    .map(Some)
                    .map_err(|e| e.to_string())
            } else {
                ring.unwrap_dek(&s, &row.wrapped)
                    .map(|_| None)
                    .map_err(|e| e.to_string())
            }
        });
        match opened {
            Err(error) => batch.failures.push(Failure {
                kind,
                id: row.id,
                kek_id: row.wrapped.kek_id,
                error,
            }),
            Ok(Some(new)) if !compare_and_set(conn, kind, &row.id, &row.wrapped, &new)? => {
                batch.changed += 1;
            }
            Ok(_) => *batch.opened.entry(row.wrapped.kek_id).or_default() += 1,
        }
    }
    Ok(batch)
}

/// Re-wraps every key under the ring's current KEK, in batches of `options.batch` rows (one
/// write transaction and, when it re-wrapped something, one `keys.rotate` ledger entry each),
/// calling `progress` after each batch. With `options.dry_run`, unwraps every wrapped key
/// instead (under every KEK, the current one too) and writes nothing. Keys that do not unwrap
/// are left as they are and listed in the report; the run goes on.
pub fn rotate(
    conn: &mut DbConn,
    ring: &KeyRing,
    options: RotateOptions,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<RotateReport> {
    anyhow::ensure!(options.batch > 0, "the batch size must be at least 1");
    let limit = i64::try_from(options.batch).unwrap_or(i64::MAX);
    let current = ring.current_id().to_owned();
    let not_under = (!options.dry_run).then_some(current.as_str());
    let mut report = RotateReport {
        dry_run: options.dry_run,
        to: current.clone(),
        ..RotateReport::default()
    };
    let mut batches = 0;
    for kind in [KeyKind::Record, KeyKind::Patient] {
        let total = count(conn, kind, not_under)?;
        let mut done = 0;
        let mut after = String::new();
        loop {
            let batch = if options.dry_run {
                let rows = page(conn, kind, &after, None, limit)?;
                process(conn, ring, kind, rows, false)?
            } else {
                db::write_transaction(conn, |c| {
                    let rows = page(c, kind, &after, not_under, limit)?;
                    let batch = process(c, ring, kind, rows, true)?;
                    ledger_batch(c, &current, kind, &batch)?;
                    Ok(batch)
                })
                .with_context(|| format!("re-wrapping {}", kind.plural()))?
            };
            if batch.seen == 0 {
                break;
            }
            after = batch.last;
            done += batch.seen;
            batches += 1;
            report.changed_meanwhile.add(kind, batch.changed);
            for (kek, n) in batch.opened {
                if kek == current {
                    report.already_current.add(kind, n);
                } else {
                    report.from.entry(kek).or_default().add(kind, n);
                    report.rewrapped.add(kind, n);
                }
            }
            for failure in batch.failures {
                report.fail(failure);
            }
            progress(Progress {
                kind,
                done,
                total: total.max(done),
                batches,
            });
        }
    }
    Ok(report)
}

/// The `keys.rotate` entry of a batch that re-wrapped something (counts and key ids only).
fn ledger_batch(
    conn: &mut DbConn,
    current: &str,
    kind: KeyKind,
    batch: &Batch,
) -> Result<(), ApiError> {
    let n: u64 = batch.opened.values().sum();
    if n == 0 {
        return Ok(());
    }
    let mut counts = Counts::default();
    counts.add(kind, n);
    ledger::append(
        conn,
        &NewEntry::new(None, Action::KeysRotate, format!("kek:{current}")).payload(json!({
            "to": current,
            "from": batch.opened,
            "record_keys": counts.record_keys,
            "patient_keys": counts.patient_keys,
        })),
    )?;
    Ok(())
}

/// What [`retire`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Retired {
    /// The retired KEK.
    pub kek_id: String,
    /// The key file rewritten without it; `None` for an inline ring, which the operator edits.
    pub file: Option<PathBuf>,
}

/// Retires KEK `id`: refuses while anything is still wrapped under it (naming the counts), the
/// current KEK, and an id the ring does not hold. For a key file, rewrites the file without it
/// (atomically, mode 0600); for an inline ring, the operator removes the entry. Ledgered as
/// `keys.retire` (`{"kek_id": id}`), in the transaction that checked nothing is wrapped under it.
pub fn retire(conn: &mut DbConn, config: &Config, id: &str) -> anyhow::Result<Retired> {
    let ring = load_ring(config, false)?;
    if !ring.ids().any(|k| k == id) {
        anyhow::bail!("master key '{id}' is not in the key ring (already retired?)");
    }
    if ring.current_id() == id {
        anyhow::bail!(
            "master key '{id}' is the current key; mark another key current ('*') first, restart, \
             and run `medvault keys rotate`"
        );
    }
    let smaller = ring.without(id).context("removing the key from the ring")?;
    let source = RingSource::of(config);
    let still = db::write_transaction(conn, |c| {
        let left = counts(c)?.remove(id).unwrap_or_default();
        if left.total() > 0 {
            return Ok(Some(left));
        }
        ledger::append(
            c,
            &NewEntry::new(None, Action::KeysRetire, format!("kek:{id}"))
                .payload(json!({ "kek_id": id })),
        )?;
        if let RingSource::File(path) = &source {
            smaller.write_file(path).map_err(ApiError::internal)?;
        }
        Ok(None)
    })
    .context("retiring the key")?;
    if let Some(left) = still {
        anyhow::bail!(
            "master key '{id}' still wraps {left}; run `medvault keys rotate` first \
             (`medvault keys status` shows what is left)"
        );
    }
    Ok(Retired {
        kek_id: id.to_owned(),
        file: match source {
            RingSource::File(path) => Some(path),
            RingSource::Inline => None,
        },
    })
}
