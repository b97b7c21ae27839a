//! A download: authorised and ledgered in one transaction, then streamed out of the engine.
//! The first piece is read before answering, so the common failures (keys, missing buckets)
//! become an error status rather than a broken body. A body that fails or is cut off after it
//! started leaves one more ledger entry (`record.download_failed`) saying how far it got.

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use medvault_types::{RecordId, UserId};
use serde_json::json;

use crate::auth::AuthUser;
use crate::db;
use crate::db::ids::StoredId;
use crate::error::ApiError;
use crate::ledger::{self, Action, NewEntry};
use crate::records::service::{self, Download};
use crate::state::SharedState;
use crate::storage::health::{self, QueueReason};

/// A record released for download: what the response headers need and the plaintext stream.
pub struct Opened {
    /// Detected content type.
    pub content_type: String,
    /// Sanitised file name.
    pub file_name: String,
    /// Plaintext size in bytes.
    pub size: u64,
    /// Plaintext SHA-256 (hex), for `Repr-Digest`.
    pub sha256: String,
    /// The plaintext, every chunk authenticated before it is yielded.
    pub body: BoxStream<'static, Result<Bytes, std::io::Error>>,
}

/// Authorises `user` to read record `id` (the owner patient, or a doctor under a live grant,
/// which loses one download), records it in the ledger, and opens the stream. Refused at once
/// (429/503) past the transfer caps (`crate::transfers`), before any of that.
pub async fn open(state: &SharedState, user: AuthUser, id: RecordId) -> Result<Opened, ApiError> {
    let actor = user.id;
    // Before anything is authorised or ledgered: a refused transfer costs no grant download.
    let permit = state.transfers.try_start(actor)?;
    let now = state.clock.now();
    let decision = db::write(&state.pool, move |conn| {
        service::authorise_download(conn, &user, id, now)
    })
    .await?;
    let row = match decision {
        Download::Allowed(row) => row,
        Download::Refused => return Err(ApiError::NoGrant),
    };
    let (manifest, wrapped) = row.sealed()?.ok_or(ApiError::NotFound)?;
    let size = u64::try_from(row.size_bytes).unwrap_or(0);
    // Armed before the engine opens the record, so a failure there is ledgered too.
    let mut watch = Watch {
        state: SharedState::clone(state),
        actor,
        patient: UserId::from_stored(&row.patient_id)?,
        record: id,
        size,
        sent: 0,
        armed: true,
        report: medvault_engine::GetReport::default(),
        _permit: permit,
    };
    let (mut stream, report) = state
        .engine
        .get_with_report(&manifest, &wrapped, id.as_uuid())
        .map_err(ApiError::storage)?;
    watch.report = report;
    let first = match stream.next().await {
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => {
            drop(watch.fail("storage error before the first byte"));
            return Err(ApiError::storage(e));
        }
        None => None,
    };
    let mut watch = Some(watch);
    let body = futures_util::stream::iter(first.map(Ok))
        .chain(stream)
        .map(move |r| match r {
            Ok(bytes) => {
                if let Some(w) = watch.as_mut() {
                    w.sent = w.sent.saturating_add(bytes.len() as u64);
                    if w.sent >= w.size {
                        w.armed = false;
                    }
                }
                Ok(bytes)
            }
            Err(e) => {
                tracing::error!(error = %e, "record stream failed mid-body");
                if let Some(w) = watch.take() {
                    drop(w.fail("storage error mid-body"));
                }
                Err(std::io::Error::other("record stream failed"))
            }
        })
        .boxed();
    Ok(Opened {
        content_type: row.content_type.clone(),
        file_name: row.file_name.clone(),
        size,
        sha256: row.sha256.clone(),
        body,
    })
}

/// Watches one download body: dropped before every byte went out (the client went away, or
/// the store failed), it writes the `record.download_failed` entry; dropped after meeting
/// missing or corrupt shards, it queues the record for repair.
struct Watch {
    state: SharedState,
    actor: UserId,
    patient: UserId,
    record: RecordId,
    size: u64,
    sent: u64,
    armed: bool,
    report: medvault_engine::GetReport,
    /// The transfer's place under the caps, released with the body.
    _permit: crate::transfers::TransferPermit,
}

impl Watch {
    /// Records the failure now (in the background) and disarms the drop.
    fn fail(mut self, why: &'static str) -> tokio::task::JoinHandle<()> {
        self.armed = false;
        self.spawn_entry(why)
    }

    fn spawn_entry(&self, why: &'static str) -> tokio::task::JoinHandle<()> {
        let state = SharedState::clone(&self.state);
        let (actor, patient, record, sent, size) =
            (self.actor, self.patient, self.record, self.sent, self.size);
        tokio::spawn(async move {
            let written = db::write(&state.pool, move |conn| {
                ledger::append(
                    conn,
                    &NewEntry::new(
                        Some(actor),
                        Action::RecordDownloadFailed,
                        format!("record:{record}"),
                    )
                    .patient(patient)
                    .payload(json!({
                        "record_id": record,
                        "reason": why,
                        "bytes_sent": sent,
                        "size": size,
                    })),
                )
            })
            .await;
            if let Err(e) = written {
                tracing::error!(error = %e, record = %record, "download failure not recorded");
            }
        })
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if self.armed && self.sent < self.size {
            drop(self.spawn_entry("cut off before the end"));
        }
        let erasures = self.report.erasures().len();
        if erasures > 0 {
            tracing::warn!(record = %self.record, erasures, "record read with erasures; queued for repair");
            let state = SharedState::clone(&self.state);
            let record = self.record;
            drop(tokio::spawn(async move {
                let now = state.clock.now();
                let queued = db::write(&state.pool, move |conn| {
                    health::queue_repair(conn, record, QueueReason::Download, now)
                })
                .await;
                if let Err(e) = queued {
                    tracing::error!(error = %e, record = %record, "repair not queued");
                }
            }));
        }
    }
}
