//! A bucket as a local directory: `<root>/<first two key chars>/<key>`, written atomically
//! (temp file in `<root>/.tmp`, fsync, rename, fsync of the directory).

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use rand::RngCore;
use rand::rngs::OsRng;

use super::{BlobStore, ObjectInfo, is_shard_key};
use crate::error::StoreError;

/// A directory-backed bucket (the embedded default; real files, not a mock).
#[derive(Debug, Clone)]
pub struct DirStore {
    root: Arc<PathBuf>,
}

impl DirStore {
    /// Opens (creating if needed) the bucket directory.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        fs::create_dir_all(root.join(".tmp"))?;
        Ok(Self {
            root: Arc::new(root),
        })
    }

    fn path_of(root: &Path, key: &str) -> Result<PathBuf, StoreError> {
        if !is_shard_key(key) {
            return Err(StoreError::NotFound);
        }
        Ok(root.join(&key[..2]).join(key))
    }

    /// Runs blocking file I/O off the async executor.
    fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Path) -> Result<T, StoreError> + Send + 'static,
    ) -> BoxFuture<'_, Result<T, StoreError>> {
        let root = Arc::clone(&self.root);
        tokio::task::spawn_blocking(move || f(&root))
            .map(|r| r.unwrap_or_else(|e| Err(StoreError::Io(std::io::Error::other(e)))))
            .boxed()
    }
}

fn write_atomic(root: &Path, key: &str, data: &[u8]) -> Result<(), StoreError> {
    let dest = DirStore::path_of(root, key)?;
    let parent = dest.parent().ok_or(StoreError::NotFound)?;
    fs::create_dir_all(parent)?;
    let mut suffix = [0u8; 8];
    OsRng.fill_bytes(&mut suffix);
    let tmp = root
        .join(".tmp")
        .join(format!("{key}.{}", hex::encode(suffix)));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, &dest)?;
        fs::File::open(parent)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    Ok(result?)
}

fn read_bounded(root: &Path, key: &str, max_len: u64) -> Result<Bytes, StoreError> {
    let path = DirStore::path_of(root, key)?;
    let f = fs::File::open(path).map_err(not_found)?;
    let len = f.metadata()?.len();
    if len > max_len {
        return Err(StoreError::TooLarge(max_len));
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    f.take(max_len.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > max_len {
        return Err(StoreError::TooLarge(max_len));
    }
    Ok(Bytes::from(buf))
}

fn not_found(e: std::io::Error) -> StoreError {
    if e.kind() == ErrorKind::NotFound {
        StoreError::NotFound
    } else {
        StoreError::Io(e)
    }
}

fn list_dir(root: &Path) -> Result<Vec<ObjectInfo>, StoreError> {
    let mut out = Vec::new();
    for sub in fs::read_dir(root)? {
        let sub = sub?;
        let name = sub.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.len() != 2 || !sub.file_type()?.is_dir() {
            continue;
        }
        for obj in fs::read_dir(sub.path())? {
            let obj = obj?;
            let Ok(key) = obj.file_name().into_string() else {
                continue;
            };
            if !is_shard_key(&key) {
                continue;
            }
            let meta = obj.metadata()?;
            out.push(ObjectInfo {
                key,
                size: meta.len(),
                modified: meta.modified()?,
            });
        }
    }
    Ok(out)
}

impl BlobStore for DirStore {
    fn put(&self, key: &str, data: Bytes) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = key.to_owned();
        self.blocking(move |root| write_atomic(root, &key, &data))
    }

    fn get(&self, key: &str, max_len: u64) -> BoxFuture<'_, Result<Bytes, StoreError>> {
        let key = key.to_owned();
        self.blocking(move |root| read_bounded(root, &key, max_len))
    }

    fn delete(&self, key: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = key.to_owned();
        self.blocking(
            move |root| match fs::remove_file(DirStore::path_of(root, &key)?) {
                Err(e) if e.kind() != ErrorKind::NotFound => Err(StoreError::Io(e)),
                _ => Ok(()),
            },
        )
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<ObjectInfo>, StoreError>> {
        self.blocking(list_dir)
    }

    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        self.blocking(|root| {
            // Write and remove a probe in the temp directory: proves the bucket is writable.
            let mut n = [0u8; 8];
            OsRng.fill_bytes(&mut n);
            let probe = root.join(".tmp").join(format!("health-{}", hex::encode(n)));
            fs::write(&probe, b"ok")?;
            fs::remove_file(&probe)?;
            Ok(())
        })
    }

    fn sweep_temporary(&self, grace: Duration) -> BoxFuture<'_, Result<usize, StoreError>> {
        self.blocking(move |root| sweep_tmp(&root.join(".tmp"), grace))
    }
}

/// Deletes the files in `tmp` last modified longer than `grace` ago: a write in progress
/// touches its file continuously and finishes in far less than the collector's grace.
fn sweep_tmp(tmp: &Path, grace: Duration) -> Result<usize, StoreError> {
    let now = SystemTime::now();
    let mut removed = 0;
    let entries = match fs::read_dir(tmp) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
        other => other?,
    };
    for entry in entries {
        let entry = entry?;
        let meta = entry.metadata()?;
        let age = now
            .duration_since(meta.modified()?)
            .unwrap_or(Duration::ZERO);
        if meta.is_file() && age >= grace {
            match fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::Io(e)),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn crash_leftovers_in_tmp_are_swept_after_the_grace_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::new(dir.path()).unwrap();
        let key = "0123456789abcdef0123456789abcdef";
        store.put(key, Bytes::from_static(b"shard")).await.unwrap();
        // What a SIGKILL between create and rename leaves.
        let leftover = dir
            .path()
            .join(".tmp")
            .join(format!("{key}.00ff00ff00ff00ff"));
        fs::write(&leftover, b"half a sha").unwrap();
        assert_eq!(
            store
                .sweep_temporary(Duration::from_secs(3600))
                .await
                .unwrap(),
            0
        );
        assert!(
            leftover.exists(),
            "young temporary files stay (a write may be running)"
        );
        assert_eq!(store.sweep_temporary(Duration::ZERO).await.unwrap(), 1);
        assert!(!leftover.exists());
        assert_eq!(
            &store.get(key, 100).await.unwrap()[..],
            b"shard",
            "stored objects are untouched"
        );
        fs::remove_dir(dir.path().join(".tmp")).unwrap();
        assert_eq!(store.sweep_temporary(Duration::ZERO).await.unwrap(), 0);
    }
}
