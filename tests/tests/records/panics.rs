//! A panic while a download is being served (issue 14, part 7), end to end through the real
//! server: the engine reads through stores that panic on command. Before the response head
//! the client gets a 500 with the error envelope; after it, the transfer is cut off (never
//! "complete"), and either way the ledger gets `record.download_failed` and the server keeps
//! serving.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use medvault_engine::{BlobStore, Engine, ObjectInfo, StoreError};
use medvault_server::state::AppState;
use medvault_tests::records::{
    TEST_STRIPE, Upload, download_identical, expect_code, ledger_all, pdf_bytes, small_chunks,
    upload_ok,
};
use medvault_tests::{Backend, TestApp};
use medvault_types::RecordId;
use reqwest::StatusCode;

/// Shard reads left before the stores panic; `usize::MAX` means never.
type Fuse = Arc<AtomicUsize>;

/// A store that panics on the shard read that burns its shared fuse down to zero.
struct Panicky {
    inner: Arc<dyn BlobStore>,
    fuse: Fuse,
}

impl BlobStore for Panicky {
    fn put(&self, key: &str, data: Bytes) -> BoxFuture<'_, Result<(), StoreError>> {
        self.inner.put(key, data)
    }

    fn get(&self, key: &str, max_len: u64) -> BoxFuture<'_, Result<Bytes, StoreError>> {
        let left = self
            .fuse
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n != usize::MAX).then(|| n.saturating_sub(1))
            });
        assert!(left != Ok(1), "test store: panic on a shard read");
        self.inner.get(key, max_len)
    }

    fn delete(&self, key: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        self.inner.delete(key)
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<ObjectInfo>, StoreError>> {
        self.inner.list()
    }

    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        self.inner.health()
    }
}

/// An app on SQLite and directory buckets whose engine reads through [`Panicky`] stores
/// sharing one fuse (not lit).
async fn spawn_panicky() -> (TestApp, Fuse) {
    let fuse: Fuse = Arc::new(AtomicUsize::new(usize::MAX));
    let shared = Arc::clone(&fuse);
    let app = TestApp::spawn_adjusted(
        Backend::Sqlite,
        small_chunks,
        move |state: &mut AppState| {
            let storage = state.config.effective_storage();
            let keys = medvault_server::keys::load_ring(&state.config, false).expect("key ring");
            let stores = storage
                .buckets
                .iter()
                .map(|b| {
                    let inner = b.open().expect("open bucket");
                    let store: Arc<dyn BlobStore> = Arc::new(Panicky {
                        inner,
                        fuse: Arc::clone(&shared),
                    });
                    (b.name().to_owned(), store)
                })
                .collect();
            state.engine = Engine::with_stores(storage, keys, stores).expect("engine");
        },
    )
    .await;
    (app, fuse)
}

/// Waits (up to 10 s) for the record's `record.download_failed` entries to number `want`.
async fn await_failed_downloads(app: &TestApp, admin: &str, id: RecordId, want: usize) {
    let wanted = id.to_string();
    let mut seen = 0;
    for _ in 0..100 {
        seen = ledger_all(app, admin)
            .await
            .iter()
            .filter(|e| {
                e.action == "record.download_failed"
                    && e.payload["record_id"].as_str() == Some(wanted.as_str())
            })
            .count();
        if seen >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, want, "record.download_failed entries of {id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_while_serving_a_download_is_contained_and_ledgered() {
    let (app, fuse) = spawn_panicky().await;
    let cast = app.cast().await;
    let patient = &cast.patient.token;
    // Sixteen stripes of four data shards: the first is read before the head goes out, the
    // last long after (read-ahead is bounded).
    let bytes = pdf_bytes(16 * TEST_STRIPE);
    let meta = upload_ok(&app, patient, &Upload::pdf(bytes.clone())).await;
    let id = meta.id;
    let path = format!("/api/v1/records/{id}/content");

    // Before the head: the very first shard read panics.
    fuse.store(1, Ordering::SeqCst);
    let resp = app.get(&path, Some(patient)).await;
    expect_code(resp, StatusCode::INTERNAL_SERVER_ERROR, "internal").await;
    await_failed_downloads(&app, &cast.admin.token, id, 1).await;

    // After the head: a read of the last stripe panics. The status is already 200; the body
    // must not end as if it were complete.
    fuse.store(15 * 4 + 2, Ordering::SeqCst);
    let mut resp = app.get(&path, Some(patient)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut got = 0usize;
    let ended = loop {
        match resp.chunk().await {
            Ok(Some(c)) => got += c.len(),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    assert!(
        ended.is_err() && got < bytes.len(),
        "a body cut by a panic must fail, not end: {ended:?} after {got} of {} bytes",
        bytes.len()
    );
    await_failed_downloads(&app, &cast.admin.token, id, 2).await;

    // The server keeps serving, and the record is intact.
    fuse.store(usize::MAX, Ordering::SeqCst);
    download_identical(&app, patient, &meta, &bytes).await;
}
