//! A download: authorised and ledgered in one transaction, then streamed out of the engine.
//! The first piece is read before answering, so the common failures (keys, missing buckets)
//! become an error status rather than a broken body.

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use medvault_types::RecordId;

use crate::auth::AuthUser;
use crate::db;
use crate::error::ApiError;
use crate::records::service::{self, Download};
use crate::state::SharedState;

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
/// which loses one download), records it in the ledger, and opens the stream.
pub async fn open(state: &SharedState, user: AuthUser, id: RecordId) -> Result<Opened, ApiError> {
    let decision = db::write(&state.pool, move |conn| {
        service::authorise_download(conn, &user, id)
    })
    .await?;
    let row = match decision {
        Download::Allowed(row) => row,
        Download::Refused => return Err(ApiError::NoGrant),
    };
    let (manifest, wrapped) = row.sealed()?.ok_or(ApiError::NotFound)?;
    let (mut stream, report) = state
        .engine
        .get_with_report(&manifest, &wrapped, id.as_uuid())
        .map_err(ApiError::storage)?;
    let first = match stream.next().await {
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => return Err(ApiError::storage(e)),
        None => None,
    };
    let erasures = report.erasures();
    if !erasures.is_empty() {
        tracing::warn!(record = %id, erasures = erasures.len(), "record read with erasures; needs repair");
    }
    let body = futures_util::stream::iter(first.map(Ok))
        .chain(stream)
        .map(|r| {
            r.map_err(|e| {
                tracing::error!(error = %e, "record stream failed mid-body");
                std::io::Error::other("record stream failed")
            })
        })
        .boxed();
    Ok(Opened {
        content_type: row.content_type.clone(),
        file_name: row.file_name.clone(),
        size: u64::try_from(row.size_bytes).unwrap_or(0),
        sha256: row.sha256.clone(),
        body,
    })
}
