//! `multipart/form-data` upload: text fields read with small limits, the `file` part streamed
//! through type detection, a size/quota limit and SHA-256 into the engine, never buffered
//! whole and never written to disk in plaintext.

use actix_multipart::{Field, Multipart};
use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use medvault_engine::{Engine, PutError};
use medvault_types::RecordCategory;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use medvault_types::{RecordId, RecordMeta, UserId};

use crate::db;
use crate::db::ids::FreshId;
use crate::error::ApiError;
use crate::records::service::{self, NewRecord, Stored};
use crate::records::{filename, sniff};
use crate::state::SharedState;
use crate::validate::{self, Fields};
use medvault_types::input;

/// Most bytes of a text field.
const MAX_TEXT_FIELD: usize = 4 * 1024;
/// Most parts in one upload (the four text fields, the file, and some slack).
const MAX_PARTS: usize = 8;
/// Chunks buffered between the multipart reader and the engine.
const CHANNEL_DEPTH: usize = 4;

/// Why the input side of an upload stopped.
#[derive(Debug)]
enum InputError {
    /// Over the size limit (or the remaining quota).
    TooLarge,
    /// The multipart body broke off or was malformed.
    Malformed(String),
}

/// Limits for one upload.
#[derive(Debug, Clone)]
struct Limits {
    /// Largest file.
    max_file: u64,
    /// Quota left for this patient.
    quota_left: u64,
    /// Allowed content types.
    allowed: Vec<String>,
}

async fn read_text(field: &mut Field) -> Result<String, ApiError> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = field.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("malformed multipart body: {e}")))?;
        if buf.len() + chunk.len() > MAX_TEXT_FIELD {
            return Err(ApiError::field(field.name().unwrap_or("field"), "too long"));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf.to_vec())
        .map_err(|_| ApiError::field(field.name().unwrap_or("field"), "must be UTF-8 text"))
}

/// Reads the first bytes for type detection (fewer only at end of file). Returns them and
/// whether the field already ended (a finished field must not be polled again).
async fn read_head(field: &mut Field) -> Result<(BytesMut, bool), ApiError> {
    let mut head = BytesMut::with_capacity(sniff::SNIFF_LEN);
    while head.len() < sniff::SNIFF_LEN {
        match field.next().await {
            Some(chunk) => head.extend_from_slice(
                &chunk
                    .map_err(|e| ApiError::BadRequest(format!("malformed multipart body: {e}")))?,
            ),
            None => return Ok((head, true)),
        }
    }
    Ok((head, false))
}

/// Feeds `head` and (unless `ended`) the rest of `field` into `tx`, counting and hashing;
/// stops with `TooLarge` past `limit`. Returns the size and SHA-256 of what was sent.
async fn pump(
    head: Bytes,
    ended: bool,
    field: &mut Field,
    tx: mpsc::Sender<Result<Bytes, InputError>>,
    limit: u64,
) -> Option<(u64, [u8; 32])> {
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut next = Some(Ok(head));
    let mut ended = ended;
    loop {
        let item = match next.take() {
            Some(item) => item,
            None if ended => break,
            None => {
                let Some(r) = field.next().await else {
                    ended = true;
                    continue;
                };
                r.map_err(|e| InputError::Malformed(e.to_string()))
            }
        };
        let chunk = match item {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return None;
            }
        };
        size += chunk.len() as u64;
        if size > limit {
            let _ = tx.send(Err(InputError::TooLarge)).await;
            return None;
        }
        hasher.update(&chunk);
        if tx.send(Ok(chunk)).await.is_err() {
            // The engine stopped (its error is reported by `put`).
            return None;
        }
    }
    Some((size, hasher.finalize().into()))
}

/// Streams the file part into the engine. Once the engine has stored it, it goes into `slot`
/// (before anything else can fail), so [`upload`] can discard it.
async fn store_file(
    engine: &Engine,
    field: &mut Field,
    limits: &Limits,
    slot: &mut Option<Stored>,
) -> Result<(), ApiError> {
    let declared = field
        .content_type()
        .map(ToString::to_string)
        .unwrap_or_default();
    let raw_name = field
        .content_disposition()
        .and_then(|cd| cd.get_filename())
        .unwrap_or("")
        .to_owned();
    let (head, ended) = read_head(field).await?;
    if head.is_empty() {
        return Err(ApiError::field("file", "the file is empty"));
    }
    let content_type = sniff::resolve(&head, &declared, &limits.allowed).map_err(|e| match e {
        sniff::TypeError::Unrecognised => {
            ApiError::UnsupportedType("the file is not of a supported type".into())
        }
        sniff::TypeError::Mismatch { detected } => {
            ApiError::UnsupportedType(format!("the file is {detected}, not {declared}"))
        }
        sniff::TypeError::NotAllowed(t) => {
            ApiError::UnsupportedType(format!("{t} files are not accepted"))
        }
    })?;
    let limit = limits.max_file.min(limits.quota_left);
    let id = RecordId::fresh();
    let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
    let (pumped, put) = futures_util::join!(
        pump(head.freeze(), ended, field, tx, limit),
        engine.put(id.as_uuid(), ReceiverStream::new(rx))
    );
    let (manifest, wrapped) = match put {
        Ok(ok) => ok,
        Err(PutError::Input(InputError::TooLarge)) => {
            return Err(if limits.quota_left < limits.max_file {
                ApiError::QuotaExceeded
            } else {
                ApiError::PayloadTooLarge
            });
        }
        Err(PutError::Input(InputError::Malformed(e))) => {
            return Err(ApiError::BadRequest(format!(
                "malformed multipart body: {e}"
            )));
        }
        Err(PutError::Engine(e)) => return Err(ApiError::storage(e)),
    };
    let (size, sha) = pumped.unwrap_or((0, [0; 32]));
    let misplaced = engine.is_misplaced(&manifest);
    *slot = Some(Stored {
        id,
        manifest,
        wrapped,
        file_name: filename::sanitise(&raw_name, content_type),
        content_type,
        size,
        sha256: hex::encode(sha),
        misplaced,
    });
    if pumped.is_none() {
        // put succeeded but the pump did not finish: cannot happen (put reads to the end).
        return Err(ApiError::internal("upload input ended unexpectedly"));
    }
    Ok(())
}

fn parse_report_date(value: Option<&str>) -> Result<chrono::NaiveDate, String> {
    let value = value.ok_or("is required")?;
    let date = chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| "must be a date YYYY-MM-DD".to_owned())?;
    validate::past_date(date, chrono::Utc::now().date_naive())
}

fn validate_meta(
    title: Option<String>,
    report_date: Option<&str>,
    category: Option<&str>,
    notes: Option<String>,
) -> Result<NewRecord, ApiError> {
    let mut f = Fields::default();
    let title = f.take(
        "title",
        validate::text(&title.unwrap_or_default(), &input::TITLE),
    );
    let report_date = f.take("report_date", parse_report_date(report_date));
    let category = f.take(
        "category",
        category
            .map(str::trim)
            .and_then(RecordCategory::parse)
            .map(Some)
            .ok_or_else(|| "must be one of the known categories".to_owned()),
    );
    let notes = f.take("notes", validate::opt_text(notes, &input::RECORD_NOTES));
    f.finish()?;
    Ok(NewRecord {
        title,
        category: category.unwrap_or(RecordCategory::Other),
        report_date,
        notes,
    })
}

/// Uploads a report for `patient`: reads the multipart body (exactly one `file` part plus
/// `title`, `report_date`, `category` and optional `notes`), streams the file through type
/// detection and the size and quota limits into the engine, then commits the record row and
/// its ledger entry in one transaction.
///
/// Refused at once (429/503) past the transfer caps (`crate::transfers`).
///
/// **Nothing is kept on failure**, and this is the one place that guarantees it: whatever
/// fails after the engine stored the file (a later part, validation, the quota re-check, the
/// commit), its shards are deleted before the error is returned. (A put that fails half-way is
/// rolled back by the engine itself; the collector sweeps anything a crash leaves behind.)
pub async fn upload(
    state: &SharedState,
    patient: UserId,
    mut form: Multipart,
) -> Result<RecordMeta, ApiError> {
    let _permit = state.transfers.try_start(patient)?;
    let used = db::run(&state.pool, move |conn| service::used_bytes(conn, patient)).await?;
    let cfg = &state.config.records;
    let limits = Limits {
        max_file: cfg.max_file_bytes,
        quota_left: cfg.quota_bytes.saturating_sub(used),
        allowed: cfg.allowed_types.clone(),
    };
    let mut stored: Option<Stored> = None;
    let result = receive_and_commit(state, patient, &mut form, &limits, &mut stored).await;
    if result.is_err()
        && let Some(s) = stored
        && let Err(e) = state.engine.delete(&s.manifest).await
    {
        tracing::warn!(error = %e, "could not delete shards of a refused upload; gc will");
    }
    result
}

async fn receive_and_commit(
    state: &SharedState,
    patient: UserId,
    form: &mut Multipart,
    limits: &Limits,
    stored: &mut Option<Stored>,
) -> Result<RecordMeta, ApiError> {
    let meta = parse_fields(&state.engine, form, limits, stored).await?;
    let Some(file) = stored.as_ref() else {
        return Err(ApiError::field("file", "is required"));
    };
    let file = file.clone();
    let st = SharedState::clone(state);
    db::write(&state.pool, move |conn| {
        let quota = st.config.records.quota_bytes;
        service::commit(conn, st.engine.keys(), patient, quota, &meta, &file)
    })
    .await
}

async fn parse_fields(
    engine: &Engine,
    form: &mut Multipart,
    limits: &Limits,
    stored: &mut Option<Stored>,
) -> Result<NewRecord, ApiError> {
    let (mut title, mut date, mut category, mut notes) = (None, None, None, None);
    let mut parts = 0;
    while let Some(field) = form
        .try_next()
        .await
        .map_err(|e| ApiError::BadRequest(format!("malformed multipart body: {e}")))?
    {
        let mut field = field;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::BadRequest("too many parts".into()));
        }
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" if stored.is_none() => store_file(engine, &mut field, limits, stored).await?,
            "file" => return Err(ApiError::field("file", "only one file per upload")),
            "title" => title = Some(read_text(&mut field).await?),
            "report_date" => date = Some(read_text(&mut field).await?),
            "category" => category = Some(read_text(&mut field).await?),
            "notes" => notes = Some(read_text(&mut field).await?),
            _ => return Err(ApiError::BadRequest(format!("unexpected part {name:?}"))),
        }
    }
    validate_meta(title, date.as_deref(), category.as_deref(), notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_validation_names_each_field() {
        let ok = validate_meta(
            Some("Blood test".into()),
            Some("2026-01-02"),
            Some("lab_report"),
            Some("  ".into()),
        )
        .unwrap();
        assert_eq!(ok.category, RecordCategory::LabReport);
        assert_eq!(ok.notes, None);
        let Err(ApiError::Validation(f)) = validate_meta(
            Some(String::new()),
            Some("2026-13-40"),
            Some("selfie"),
            Some("x".repeat(2_001)),
        ) else {
            panic!("invalid metadata accepted");
        };
        for k in ["title", "report_date", "category", "notes"] {
            assert!(f.contains_key(k), "{k} not named");
        }
        let Err(ApiError::Validation(f)) = validate_meta(None, Some("2999-01-01"), None, None)
        else {
            panic!("future date accepted");
        };
        assert!(
            f.contains_key("report_date") && f.contains_key("title") && f.contains_key("category")
        );
    }
}
