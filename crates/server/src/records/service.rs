//! Record rows: reading metadata under object-level authorisation, committing an upload,
//! authorising a download, and crypto-shredding.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use medvault_engine::{Dek, KeyRing, Manifest, WrappedDek};
use medvault_types::{
    Page, RecordCategory, RecordId, RecordListQuery, RecordMeta, Role, StorageUsage, UserId,
};
use serde_json::json;

use crate::access::{self, Access, Basis, Read, RecordScope};
use crate::accounts::care;
use crate::auth::AuthUser;
use crate::consent::grants;
use crate::db::ids::StoredId;
use crate::db::paging::Paging;
use crate::db::schema::records;
use crate::db::{self, Db, DbConn};
use crate::emergency::lifecycle as emergency;
use crate::error::ApiError;
use crate::ledger::Action;
use crate::ledger::{self, NewEntry};
use crate::state::SharedState;
use crate::{patient_key, time};

const NOTES_FIELD: &str = "record_notes";

/// A stored record.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = records)]
pub struct RecordRow {
    /// Record id.
    pub id: String,
    /// Owner.
    pub patient_id: String,
    /// Uploader.
    pub uploaded_by: String,
    /// Title.
    pub title: String,
    /// Category wire name.
    pub category: String,
    /// Report date.
    pub report_date: NaiveDate,
    /// Sealed notes.
    pub notes_enc: Option<Vec<u8>>,
    /// Sanitised file name.
    pub file_name: String,
    /// Detected content type.
    pub content_type: String,
    /// Plaintext size.
    pub size_bytes: i64,
    /// Plaintext SHA-256 (hex).
    pub sha256: String,
    /// Manifest root hash.
    pub root_hash: String,
    /// Manifest JSON.
    pub manifest: Option<String>,
    /// KEK id.
    pub kek_id: Option<String>,
    /// Wrapped DEK.
    pub wrapped_dek: Option<Vec<u8>>,
    /// Created.
    pub created_at: chrono::NaiveDateTime,
    /// Deleted.
    pub deleted_at: Option<chrono::NaiveDateTime>,
    /// Shards purged.
    pub purged_at: Option<chrono::NaiveDateTime>,
}

impl RecordRow {
    /// The manifest and wrapped DEK needed to read it; `None` once shredded.
    pub fn sealed(&self) -> Result<Option<(Manifest, WrappedDek)>, ApiError> {
        match (&self.manifest, &self.kek_id, &self.wrapped_dek) {
            (Some(m), Some(kek_id), Some(bytes)) if self.deleted_at.is_none() => {
                let manifest: Manifest = serde_json::from_str(m).map_err(ApiError::internal)?;
                // The engine's `get_with_report` recomputes the root from the shard entries
                // (`Manifest::validate`); here the stored manifest must name the row's root.
                if manifest.root_hash != self.root_hash {
                    return Err(ApiError::internal(format!(
                        "record {}: manifest does not match its root hash",
                        self.id
                    )));
                }
                Ok(Some((
                    manifest,
                    WrappedDek {
                        kek_id: kek_id.clone(),
                        bytes: bytes.clone(),
                    },
                )))
            }
            _ => Ok(None),
        }
    }
}

/// Metadata given with an upload, validated.
#[derive(Debug, Clone)]
pub struct NewRecord {
    /// Title (1 to 200 characters).
    pub title: String,
    /// Category.
    pub category: RecordCategory,
    /// Date of the report.
    pub report_date: NaiveDate,
    /// Optional notes (up to 2,000 characters).
    pub notes: Option<String>,
}

/// What the engine produced for an upload.
#[derive(Clone)]
pub struct Stored {
    /// Record id used for the engine's AAD.
    pub id: RecordId,
    /// Shard manifest.
    pub manifest: Manifest,
    /// Wrapped DEK.
    pub wrapped: WrappedDek,
    /// Sanitised file name.
    pub file_name: String,
    /// Detected content type.
    pub content_type: &'static str,
    /// Plaintext size.
    pub size: u64,
    /// Plaintext SHA-256 (hex).
    pub sha256: String,
    /// Some stripe breaks the placement rule (written while a provider was failing): the
    /// record is queued for repair, which re-spreads it once the provider is back.
    pub misplaced: bool,
}

/// The patient's key for opening notes, loaded (and unwrapped under the master key) on first
/// use only: a listing opens every record's notes with one load, not one per record.
struct NotesKey<'a> {
    keyring: &'a KeyRing,
    patient: UserId,
    dek: Option<Dek>,
}

impl<'a> NotesKey<'a> {
    fn new(keyring: &'a KeyRing, patient: UserId) -> Self {
        Self {
            keyring,
            patient,
            dek: None,
        }
    }

    fn get(&mut self, conn: &mut DbConn) -> Result<&Dek, ApiError> {
        if self.dek.is_none() {
            self.dek = Some(
                patient_key::load(conn, self.keyring, self.patient)?
                    .ok_or_else(|| ApiError::internal("record notes without patient key"))?,
            );
        }
        self.dek
            .as_ref()
            .ok_or_else(|| ApiError::internal("patient key just loaded"))
    }
}

/// The API shape of a row; its notes are decrypted only `with_notes`.
fn to_dto(
    conn: &mut DbConn,
    keyring: &KeyRing,
    r: RecordRow,
    with_notes: bool,
) -> Result<RecordMeta, ApiError> {
    let patient = UserId::from_stored(&r.patient_id)?;
    to_dto_with(conn, &mut NotesKey::new(keyring, patient), r, with_notes)
}

/// [`to_dto`] with a key shared across the records of one patient.
fn to_dto_with(
    conn: &mut DbConn,
    key: &mut NotesKey<'_>,
    r: RecordRow,
    with_notes: bool,
) -> Result<RecordMeta, ApiError> {
    let id = RecordId::from_stored(&r.id)?;
    let patient = UserId::from_stored(&r.patient_id)?;
    if patient != key.patient {
        return Err(ApiError::internal("record listed under another patient"));
    }
    let notes_withheld = !with_notes && r.notes_enc.is_some();
    let notes = match r.notes_enc.as_ref().filter(|_| with_notes) {
        Some(sealed) => Some(patient_key::open_text(
            key.get(conn)?,
            NOTES_FIELD,
            id.as_uuid(),
            sealed,
        )?),
        None => None,
    };
    Ok(RecordMeta {
        id,
        patient_id: patient,
        title: r.title,
        category: RecordCategory::parse(&r.category).unwrap_or(RecordCategory::Other),
        report_date: r.report_date,
        notes,
        notes_withheld,
        file_name: r.file_name,
        content_type: r.content_type,
        size_bytes: u64::try_from(r.size_bytes).unwrap_or(0),
        sha256: r.sha256,
        created_at: time::utc(r.created_at),
    })
}

/// Live records and their plaintext bytes, across all patients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveTotals {
    /// Records not deleted.
    pub records: u64,
    /// Their plaintext bytes.
    pub bytes: u64,
}

/// Counts every live record and its bytes (the admin overview).
pub fn live_totals(conn: &mut DbConn) -> Result<LiveTotals, ApiError> {
    let sizes: Vec<i64> = records::table
        .filter(records::deleted_at.is_null())
        .select(records::size_bytes)
        .load(conn)?;
    Ok(LiveTotals {
        records: sizes.len() as u64,
        bytes: sizes.iter().map(|s| u64::try_from(*s).unwrap_or(0)).sum(),
    })
}

/// Bytes a patient stores in live records.
pub fn used_bytes(conn: &mut DbConn, patient: UserId) -> Result<u64, ApiError> {
    let sizes: Vec<i64> = records::table
        .filter(records::patient_id.eq(patient.to_string()))
        .filter(records::deleted_at.is_null())
        .select(records::size_bytes)
        .load(conn)?;
    Ok(sizes
        .into_iter()
        .map(|s| u64::try_from(s).unwrap_or(0))
        .sum())
}

/// Commits an upload: quota re-checked inside the transaction (concurrent uploads cannot
/// overshoot), the row, and the ledger entry carrying the manifest's root hash.
pub fn commit(
    conn: &mut DbConn,
    keyring: &KeyRing,
    patient: UserId,
    quota: u64,
    meta: &NewRecord,
    stored: &Stored,
) -> Result<RecordMeta, ApiError> {
    if used_bytes(conn, patient)?.saturating_add(stored.size) > quota {
        return Err(ApiError::QuotaExceeded);
    }
    let notes_enc = match &meta.notes {
        Some(n) => {
            let dek = patient_key::get_or_create(conn, keyring, patient)?;
            Some(patient_key::seal(
                &dek,
                NOTES_FIELD,
                stored.id.as_uuid(),
                n.as_bytes(),
            ))
        }
        None => None,
    };
    let row = RecordRow {
        id: stored.id.to_string(),
        patient_id: patient.to_string(),
        uploaded_by: patient.to_string(),
        title: meta.title.clone(),
        category: meta.category.as_str().to_owned(),
        report_date: meta.report_date,
        notes_enc,
        file_name: stored.file_name.clone(),
        content_type: stored.content_type.to_owned(),
        size_bytes: i64::try_from(stored.size).map_err(ApiError::internal)?,
        sha256: stored.sha256.clone(),
        root_hash: stored.manifest.root_hash.clone(),
        manifest: Some(serde_json::to_string(&stored.manifest).map_err(ApiError::internal)?),
        kek_id: Some(stored.wrapped.kek_id.clone()),
        wrapped_dek: Some(stored.wrapped.bytes.clone()),
        created_at: time::now(),
        deleted_at: None,
        purged_at: None,
    };
    diesel::insert_into(records::table)
        .values(&row)
        .execute(conn)?;
    ledger::append(
        conn,
        &NewEntry::new(
            Some(patient),
            Action::RecordUpload,
            format!("record:{}", stored.id),
        )
        .patient(patient)
        .payload(json!({
            "record_id": stored.id,
            "manifest_root": stored.manifest.root_hash,
            "shards": stored.manifest.shards.len(),
            "size": stored.size,
        })),
    )?;
    if stored.misplaced {
        crate::storage::health::queue_misplaced(conn, stored.id, time::now())?;
    }
    to_dto(conn, keyring, row, true)
}

fn live(conn: &mut DbConn, id: RecordId) -> Result<Option<RecordRow>, ApiError> {
    Ok(records::table
        .find(id.to_string())
        .filter(records::deleted_at.is_null())
        .select(RecordRow::as_select())
        .first(conn)
        .optional()?)
}

/// One record's metadata as `user` may see it at `now` ([`Access`]: the owner, a doctor in
/// care, or a doctor with a grant covering it; notes only for the owner or under a covering
/// grant), with its `record.read` ledger entry. Admins: 403; anyone else: 404.
pub fn read_one(
    conn: &mut DbConn,
    keyring: &KeyRing,
    user: &AuthUser,
    id: RecordId,
    now: NaiveDateTime,
) -> Result<RecordMeta, ApiError> {
    if user.role == Role::Admin {
        return Err(ApiError::Forbidden);
    }
    let row = live(conn, id)?.ok_or(ApiError::NotFound)?;
    let patient = UserId::from_stored(&row.patient_id)?;
    let access = Access::resolve(conn, user, patient, now)?;
    let meta_basis = access.record_meta(id)?;
    let notes_basis = access.record_notes(id);
    let basis = notes_basis.unwrap_or(meta_basis);
    access::record_read(
        conn,
        user.id,
        patient,
        Read::Record {
            id,
            notes: notes_basis.is_some(),
        },
        basis,
    )?;
    to_dto(conn, keyring, row, notes_basis.is_some())
}

/// A patient's live records in `scope`, newest report first, without notes unless
/// `with_notes`. The caller decided who may see them.
pub fn list(
    conn: &mut DbConn,
    keyring: &KeyRing,
    patient: UserId,
    scope: &RecordScope,
    with_notes: bool,
    paging: &Paging,
) -> Result<Page<RecordMeta>, ApiError> {
    let base = || {
        let q = records::table
            .filter(records::patient_id.eq(patient.to_string()))
            .filter(records::deleted_at.is_null())
            .into_boxed::<Db>();
        match scope {
            RecordScope::All => q,
            RecordScope::Only(ids) => q.filter(
                records::id.eq_any(ids.iter().map(ToString::to_string).collect::<Vec<_>>()),
            ),
        }
    };
    let total: i64 = base().count().get_result(conn)?;
    let mut notes_key = NotesKey::new(keyring, patient);
    let rows: Vec<RecordRow> = base()
        .select(RecordRow::as_select())
        .order((records::report_date.desc(), records::created_at.desc()))
        .offset(paging.offset())
        .limit(paging.limit())
        .load(conn)?;
    Ok(paging.page(
        rows.into_iter()
            .map(|r| to_dto_with(conn, &mut notes_key, r, with_notes))
            .collect::<Result<_, _>>()?,
        total,
    ))
}

/// Decision on a download.
pub enum Download {
    /// Go ahead: the row (with manifest and wrapped key).
    Allowed(Box<RecordRow>),
    /// A doctor with the patient in care but without a live grant (recorded in the ledger).
    Refused,
}

/// Authorises a download and records it. The owner patient downloads freely; a doctor only
/// under a live grant, which loses one download, or a live emergency access. Records the patient cannot see are 404 for
/// doctors outside the patient's care too.
pub fn authorise_download(
    conn: &mut DbConn,
    user: &AuthUser,
    id: RecordId,
    now: NaiveDateTime,
) -> Result<Download, ApiError> {
    let row = live(conn, id)?.ok_or(ApiError::NotFound)?;
    let patient = UserId::from_stored(&row.patient_id)?;
    let basis = match user.role {
        Role::Patient if patient == user.id => Basis::Owner,
        Role::Doctor => {
            if let Some(g) = grants::consume_download(conn, user.id, patient, id, now)? {
                Basis::Grant(g)
            } else if let Some(e) = emergency::live_for(conn, user.id, patient, now)? {
                Basis::Emergency(e)
            } else {
                if !care::in_care(conn, user.id, patient)? {
                    return Err(ApiError::NotFound);
                }
                ledger::append(
                    conn,
                    &NewEntry::new(
                        Some(user.id),
                        Action::RecordDownloadDenied,
                        format!("record:{id}"),
                    )
                    .patient(patient)
                    .payload(json!({ "record_id": id, "reason": "no live grant" })),
                )?;
                return Ok(Download::Refused);
            }
        }
        Role::Admin => return Err(ApiError::Forbidden),
        Role::Patient => return Err(ApiError::NotFound),
    };
    // The manifest must be the one the hash chain recorded at upload (and self-consistent):
    // a manifest edited or swapped in the database is refused, never read.
    let recorded = ledger::recorded_manifest_root(conn, id)?;
    if recorded.as_deref() != Some(row.root_hash.as_str()) {
        return Err(ApiError::internal(format!(
            "record {id}: manifest root differs from the ledger"
        )));
    }
    ledger::append(
        conn,
        &NewEntry::new(
            Some(user.id),
            Action::RecordDownload,
            format!("record:{id}"),
        )
        .patient(patient)
        .payload(download_payload(id, basis, &row.root_hash)),
    )?;
    Ok(Download::Allowed(Box::new(row)))
}

/// The `record.download` payload: the record, the basis that allowed it, the manifest root.
fn download_payload(id: RecordId, basis: Basis, root: &str) -> serde_json::Value {
    let mut payload = basis.payload();
    if let Some(map) = payload.as_object_mut() {
        map.insert("record_id".into(), json!(id));
        map.insert("manifest_root".into(), json!(root));
    }
    payload
}

/// Crypto-shreds a record: the wrapped DEK and sealed notes are destroyed now, so the shards
/// are unreadable at once; the collector deletes the shards later. Owner patient or admin.
fn delete(conn: &mut DbConn, user: &AuthUser, id: RecordId) -> Result<(), ApiError> {
    let row = live(conn, id)?.ok_or(ApiError::NotFound)?;
    match user.role {
        Role::Patient if UserId::from_stored(&row.patient_id)? == user.id => {}
        Role::Admin => {}
        Role::Patient | Role::Doctor => return Err(ApiError::NotFound),
    }
    diesel::update(records::table.find(&row.id))
        .set((
            records::kek_id.eq(None::<String>),
            records::wrapped_dek.eq(None::<Vec<u8>>),
            records::notes_enc.eq(None::<Vec<u8>>),
            records::deleted_at.eq(time::now()),
        ))
        .execute(conn)?;
    ledger::append(
        conn,
        &NewEntry::new(Some(user.id), Action::RecordDelete, format!("record:{id}"))
            .patient(UserId::from_stored(&row.patient_id)?)
            .payload(json!({ "record_id": id, "manifest_root": row.root_hash })),
    )?;
    Ok(())
}

/// The records a clinical user may list, with the `record.list` ledger entry: a patient their
/// own; a doctor those of `query.patient_id` that [`Access::record_list`] allows (anyone else:
/// 404). Notes only for the owner.
pub async fn list_visible(
    state: &SharedState,
    user: AuthUser,
    query: RecordListQuery,
) -> Result<Page<RecordMeta>, ApiError> {
    let paging = Paging::from_query(&medvault_types::ListQuery {
        page: query.page,
        per_page: query.per_page,
        q: None,
    })?;
    let st = SharedState::clone(state);
    let now = state.clock.now();
    db::write(&state.pool, move |conn| {
        let patient = match user.role {
            Role::Patient => user.id,
            Role::Doctor => query
                .patient_id
                .ok_or_else(|| ApiError::field("patient_id", "is required for doctors"))?,
            Role::Admin => return Err(ApiError::Forbidden),
        };
        let access = Access::resolve(conn, &user, patient, now)?;
        let (basis, scope) = access.record_list()?;
        let page = list(
            conn,
            st.engine.keys(),
            patient,
            &scope,
            basis == Basis::Owner,
            &paging,
        )?;
        access::record_read(
            conn,
            user.id,
            patient,
            Read::RecordList {
                shown: page.items.len(),
            },
            basis,
        )?;
        Ok(page)
    })
    .await
}

/// One record's metadata, for whoever may see it ([`read_one`]).
pub async fn show(
    state: &SharedState,
    user: AuthUser,
    id: RecordId,
) -> Result<RecordMeta, ApiError> {
    let st = SharedState::clone(state);
    let now = state.clock.now();
    db::write(&state.pool, move |conn| {
        read_one(conn, st.engine.keys(), &user, id, now)
    })
    .await
}

/// Deletes a record (owner patient or admin) by crypto-shredding it now; the collector
/// removes its shards later.
pub async fn remove(state: &SharedState, user: AuthUser, id: RecordId) -> Result<(), ApiError> {
    db::write(&state.pool, move |conn| delete(conn, &user, id)).await
}

/// The patient's storage use, quota and accepted types.
pub async fn storage_usage(state: &SharedState, patient: UserId) -> Result<StorageUsage, ApiError> {
    let used = db::run(&state.pool, move |conn| used_bytes(conn, patient)).await?;
    let cfg = &state.config.records;
    Ok(StorageUsage {
        used_bytes: used,
        quota_bytes: cfg.quota_bytes,
        max_file_bytes: cfg.max_file_bytes,
        allowed_types: cfg.allowed_types.clone(),
    })
}
