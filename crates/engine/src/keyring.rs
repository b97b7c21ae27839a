//! Key-encryption keys (KEKs), data keys (DEKs) and small sealed blobs.
//!
//! ## Key ring text format
//! `id:base64key[,id:base64key...]` (commas or whitespace/newlines separate entries). Each key is
//! 32 bytes of standard base64. Ids are 1..=32 characters of `[A-Za-z0-9_.-]` and unique. The
//! current KEK (used for new wraps) is the entry prefixed with `*` (`*k2:...`), or the first entry
//! when none is marked. Old KEKs stay in the ring so existing records still unwrap (rotation:
//! add a new key, mark it current, optionally [`KeyRing::rewrap`] old records, then drop the old key).
//! [`KeyRing::to_text`] writes this format back (one entry a line, the current one marked `*`),
//! [`KeyRing::without`] drops a retired key and [`KeyRing::write_file`] replaces a key file
//! atomically (temporary file, fsync, rename; mode 0600).
//!
//! ## Wrapped DEK layout (`WrappedDek::bytes`, 60 bytes)
//! `nonce (12, random) || AES-256-GCM(KEK, dek) (32) || tag (16)`, with
//! AAD = `"medvault-dek-v1" || len(kek_id) as u8 || kek_id || subject`. The subject is the record
//! id (or any id the caller binds the key to), so a wrapped key moved to another row fails.
//!
//! ## Sealed blob layout (`Dek::seal_blob`)
//! `nonce (12, random from the OS CSPRNG) || ciphertext || tag (16)`, AAD =
//! `"medvault-blob-v1" || caller aad`. Random nonces are safe for up to 2^32 blobs per DEK; use a
//! DEK for blobs only, never one that also seals record chunks (those use counter nonces).

use std::fmt;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::error::KeyError;

/// Nonce length of AES-GCM.
pub(crate) const NONCE_LEN: usize = 12;
/// Tag length of AES-GCM.
pub(crate) const TAG_LEN: usize = 16;
const DEK_AAD_PREFIX: &[u8] = b"medvault-dek-v1";
const BLOB_AAD_PREFIX: &[u8] = b"medvault-blob-v1";

/// A 256-bit data key, drawn from the OS CSPRNG, zeroized on drop, never printed.
pub struct Dek(Zeroizing<[u8; 32]>);

impl fmt::Debug for Dek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Dek([redacted])")
    }
}

impl Dek {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(k.as_mut());
        Self(k)
    }

    /// The AES-256-GCM cipher for this key (the cipher zeroizes its key schedule on drop).
    pub(crate) fn cipher(&self) -> Aes256Gcm {
        cipher_from(&self.0)
    }

    /// Seals a small blob (visit note, OTP code, ...) with a random nonce; layout in the module doc.
    pub fn seal_blob(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        seal_with(
            &self.cipher(),
            nonce,
            &prefixed(BLOB_AAD_PREFIX, aad),
            plaintext,
        )
    }

    /// Opens a blob from [`Dek::seal_blob`]; any tampering, wrong key or wrong `aad` fails.
    pub fn open_blob(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        open_with(&self.cipher(), &prefixed(BLOB_AAD_PREFIX, aad), sealed)
    }
}

/// A DEK wrapped under a KEK of the ring; what the database stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedDek {
    /// Id of the KEK that wrapped it.
    pub kek_id: String,
    /// `nonce || ciphertext || tag` (base64 in JSON).
    #[serde(with = "b64")]
    pub bytes: Vec<u8>,
}

/// base64 (standard, padded) for byte fields in JSON.
mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}

struct Kek {
    id: String,
    key: Zeroizing<[u8; 32]>,
}

/// The key-encryption keys; one of them is current. Never printed.
pub struct KeyRing {
    keks: Vec<Kek>,
    current: usize,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("ids", &self.ids().collect::<Vec<_>>())
            .field("current", &self.current_id())
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Parses the text format described in the module doc.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let mut keks: Vec<Kek> = Vec::new();
        let mut current = None;
        for entry in text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
        {
            let (marked, entry) = match entry.strip_prefix('*') {
                Some(rest) => (true, rest),
                None => (false, entry),
            };
            let (id, b64) = entry
                .split_once(':')
                .ok_or(KeyError::Malformed("entry without ':'"))?;
            if id.is_empty()
                || id.len() > 32
                || !id
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
            {
                return Err(KeyError::Malformed("bad key id"));
            }
            if keks.iter().any(|k| k.id == id) {
                return Err(KeyError::Malformed("duplicate key id"));
            }
            let raw = Zeroizing::new(
                B64.decode(b64)
                    .map_err(|_| KeyError::Malformed("key is not base64"))?,
            );
            let mut key = Zeroizing::new([0u8; 32]);
            if raw.len() != 32 {
                return Err(KeyError::Malformed("key is not 32 bytes"));
            }
            key.copy_from_slice(&raw);
            if marked {
                if current.is_some() {
                    return Err(KeyError::Malformed("more than one key marked current"));
                }
                current = Some(keks.len());
            }
            keks.push(Kek {
                id: id.to_owned(),
                key,
            });
        }
        if keks.is_empty() {
            return Err(KeyError::Malformed("no keys"));
        }
        Ok(Self {
            keks,
            current: current.unwrap_or(0),
        })
    }

    /// Loads a key file; refuses files readable by group or others.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissions(path.display().to_string()));
            }
        }
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io)?);
        Self::parse(&text)
    }

    /// Creates a new key file (mode 0600, fails if it exists) holding one fresh random KEK.
    pub fn generate_file(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(key.as_mut());
        let mut id_bytes = [0u8; 4];
        OsRng.fill_bytes(&mut id_bytes);
        let id = format!("k{}", hex::encode(id_bytes));
        let mut text = Zeroizing::new(format!("{id}:{}\n", B64.encode(key.as_ref())));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(path).map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        text.zeroize();
        Ok(Self {
            keks: vec![Kek { id, key }],
            current: 0,
        })
    }

    /// The ring in the text format of the module doc: one `id:base64key` a line, the current
    /// one marked `*`. Key material: zeroized on drop, never log it.
    pub fn to_text(&self) -> Zeroizing<String> {
        // Reserved up front so no reallocation leaves a copy of a key behind.
        let mut text = Zeroizing::new(String::with_capacity(self.keks.len() * 80));
        for (i, kek) in self.keks.iter().enumerate() {
            if i == self.current {
                text.push('*');
            }
            text.push_str(&kek.id);
            text.push(':');
            let mut b64 = Zeroizing::new(B64.encode(kek.key.as_ref()));
            text.push_str(&b64);
            b64.zeroize();
            text.push('\n');
        }
        text
    }

    /// The same ring without the KEK `id` (retiring it). Refuses an id the ring does not hold
    /// ([`KeyError::UnknownKek`]) and the current KEK ([`KeyError::Malformed`]), so the result
    /// is never empty and keeps its current key.
    pub fn without(&self, id: &str) -> Result<Self, KeyError> {
        let Some(gone) = self.keks.iter().position(|k| k.id == id) else {
            return Err(KeyError::UnknownKek(id.to_owned()));
        };
        if gone == self.current {
            return Err(KeyError::Malformed("the current key cannot be removed"));
        }
        let keks = self
            .keks
            .iter()
            .filter(|k| k.id != id)
            .map(|k| Kek {
                id: k.id.clone(),
                key: k.key.clone(),
            })
            .collect();
        Ok(Self {
            keks,
            current: if self.current > gone {
                self.current - 1
            } else {
                self.current
            },
        })
    }

    /// Replaces (or creates) the key file `path` with this ring, atomically: the text goes to a
    /// new temporary file (mode 0600) in the same directory, is fsynced, renamed over `path`,
    /// and the directory is fsynced. A crash leaves either the old or the new file.
    pub fn write_file(&self, path: &Path) -> Result<(), KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        let name = path
            .file_name()
            .ok_or_else(|| io(std::io::Error::other("not a file path")))?;
        let mut suffix = [0u8; 6];
        OsRng.fill_bytes(&mut suffix);
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            hex::encode(suffix)
        ));
        let written = replace_private(&tmp, path, dir, self.to_text().as_bytes());
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map_err(io)
    }

    /// Id of the KEK used for new wraps.
    pub fn current_id(&self) -> &str {
        &self.keks[self.current].id
    }

    /// All KEK ids in the ring.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keks.iter().map(|k| k.id.as_str())
    }

    /// Wraps `dek` under the current KEK, bound to `subject` (e.g. the record id bytes).
    pub fn wrap_dek(&self, subject: &[u8], dek: &Dek) -> WrappedDek {
        let kek = &self.keks[self.current];
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        WrappedDek {
            kek_id: kek.id.clone(),
            bytes: seal_with(
                &cipher_from(&kek.key),
                nonce,
                &dek_aad(&kek.id, subject),
                dek.0.as_ref(),
            ),
        }
    }

    /// Unwraps with whichever KEK of the ring wrapped it (old KEKs keep working).
    pub fn unwrap_dek(&self, subject: &[u8], wrapped: &WrappedDek) -> Result<Dek, KeyError> {
        let kek = self
            .keks
            .iter()
            .find(|k| k.id == wrapped.kek_id)
            .ok_or_else(|| KeyError::UnknownKek(wrapped.kek_id.clone()))?;
        let plain = open_with(
            &cipher_from(&kek.key),
            &dek_aad(&kek.id, subject),
            &wrapped.bytes,
        )?;
        let mut key = Zeroizing::new([0u8; 32]);
        if plain.len() != 32 {
            return Err(KeyError::Authentication);
        }
        key.copy_from_slice(&plain);
        Ok(Dek(key))
    }

    /// Re-wraps under the current KEK (key rotation without touching the shards).
    pub fn rewrap(&self, subject: &[u8], wrapped: &WrappedDek) -> Result<WrappedDek, KeyError> {
        let dek = self.unwrap_dek(subject, wrapped)?;
        Ok(self.wrap_dek(subject, &dek))
    }
}

/// Writes `bytes` to the new file `tmp` (mode 0600), fsyncs it, renames it over `path` and
/// fsyncs the directory `dir` holding both.
fn replace_private(tmp: &Path, path: &Path, dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

fn cipher_from(key: &[u8; 32]) -> Aes256Gcm {
    Aes256Gcm::new(key.into())
}

fn dek_aad(kek_id: &str, subject: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(DEK_AAD_PREFIX.len() + 1 + kek_id.len() + subject.len());
    aad.extend_from_slice(DEK_AAD_PREFIX);
    // Ids are at most 32 bytes (checked by the parser).
    aad.push(u8::try_from(kek_id.len()).unwrap_or(u8::MAX));
    aad.extend_from_slice(kek_id.as_bytes());
    aad.extend_from_slice(subject);
    aad
}

fn prefixed(prefix: &[u8], aad: &[u8]) -> Vec<u8> {
    [prefix, aad].concat()
}

/// `nonce || ciphertext || tag`.
fn seal_with(cipher: &Aes256Gcm, nonce: [u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = cipher
        .encrypt_inout_detached(&nonce.into(), aad, out[NONCE_LEN..].as_mut().into())
        .expect("AES-GCM seal only fails beyond 64 GiB");
    out.extend_from_slice(&tag);
    out
}

fn open_with(
    cipher: &Aes256Gcm,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(KeyError::Authentication);
    }
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
    let mut buf = Zeroizing::new(ct.to_vec());
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| KeyError::Authentication)?;
    let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| KeyError::Authentication)?;
    cipher
        .decrypt_inout_detached(&nonce.into(), aad, buf.as_mut_slice().into(), &tag.into())
        .map_err(|_| KeyError::Authentication)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(text: &str) -> KeyRing {
        KeyRing::parse(text).expect("ring")
    }

    fn key_b64(byte: u8) -> String {
        B64.encode([byte; 32])
    }

    #[test]
    fn wrap_round_trip_and_rotation() {
        let old = ring(&format!("a:{}", key_b64(1)));
        let dek = Dek::generate();
        let w = old.wrap_dek(b"record-1", &dek);
        assert_eq!(w.kek_id, "a");
        assert_eq!(w.bytes.len(), 60);
        // New ring with a new current key still opens the old wrap.
        let new = ring(&format!("a:{},*b:{}", key_b64(1), key_b64(2)));
        assert_eq!(new.current_id(), "b");
        let d2 = new.unwrap_dek(b"record-1", &w).expect("unwrap old");
        assert_eq!(d2.0.as_ref(), dek.0.as_ref());
        let w2 = new.rewrap(b"record-1", &w).expect("rewrap");
        assert_eq!(w2.kek_id, "b");
        assert!(new.unwrap_dek(b"record-1", &w2).is_ok());
    }

    #[test]
    fn wrap_refuses_wrong_subject_key_kek_id_and_tampering() {
        let r = ring(&format!("a:{},b:{}", key_b64(1), key_b64(2)));
        let w = r.wrap_dek(b"record-1", &Dek::generate());
        assert!(matches!(
            r.unwrap_dek(b"record-2", &w),
            Err(KeyError::Authentication)
        ));
        let mut relabelled = w.clone();
        relabelled.kek_id = "b".into();
        assert!(matches!(
            r.unwrap_dek(b"record-1", &relabelled),
            Err(KeyError::Authentication)
        ));
        let mut unknown = w.clone();
        unknown.kek_id = "zz".into();
        assert!(matches!(
            r.unwrap_dek(b"record-1", &unknown),
            Err(KeyError::UnknownKek(_))
        ));
        let other = ring(&format!("a:{}", key_b64(3)));
        assert!(other.unwrap_dek(b"record-1", &w).is_err());
        for i in 0..w.bytes.len() {
            let mut t = w.clone();
            t.bytes[i] ^= 0x80;
            assert!(r.unwrap_dek(b"record-1", &t).is_err(), "bit flip at {i}");
        }
        let mut short = w;
        short.bytes.truncate(59);
        assert!(r.unwrap_dek(b"record-1", &short).is_err());
    }

    #[test]
    fn parser_rejects_bad_rings_and_debug_hides_keys() {
        for bad in [
            "",
            "a",
            "a:notbase64!",
            &format!("a:{}", B64.encode([1u8; 16])),
            &format!("a:{0},a:{0}", key_b64(1)),
            &format!("*a:{0},*b:{0}", key_b64(1)),
            &format!("bad id:{}", key_b64(1)),
        ] {
            assert!(KeyRing::parse(bad).is_err(), "{bad:?}");
        }
        let r = ring(&format!("a:{}\n b:{}", key_b64(7), key_b64(8)));
        assert_eq!(r.current_id(), "a");
        let dbg = format!("{r:?} {:?}", Dek::generate());
        assert!(!dbg.contains(&key_b64(7)) && !dbg.contains("7, 7"));
    }

    #[test]
    fn key_files_are_created_private_and_loaded() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("keys");
        let made = KeyRing::generate_file(&path).expect("gen");
        assert!(KeyRing::generate_file(&path).is_err(), "never overwrites");
        let loaded = KeyRing::from_file(&path).expect("load");
        assert_eq!(loaded.current_id(), made.current_id());
        let w = made.wrap_dek(b"s", &Dek::generate());
        assert!(loaded.unwrap_dek(b"s", &w).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            assert!(matches!(
                KeyRing::from_file(&path),
                Err(KeyError::Permissions(_))
            ));
        }
    }

    #[test]
    fn rings_are_written_back_without_a_retired_key() {
        let r = ring(&format!(
            "a:{},*b:{},c:{}",
            key_b64(1),
            key_b64(2),
            key_b64(3)
        ));
        let w = r.wrap_dek(b"s", &Dek::generate());
        assert_eq!(w.kek_id, "b");
        let again = ring(&r.to_text());
        assert_eq!(again.current_id(), "b");
        assert_eq!(again.ids().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(again.unwrap_dek(b"s", &w).is_ok());
        assert!(matches!(r.without("b"), Err(KeyError::Malformed(_))));
        assert!(matches!(r.without("zz"), Err(KeyError::UnknownKek(_))));
        let smaller = r.without("a").expect("without a");
        assert_eq!(smaller.current_id(), "b");
        assert_eq!(smaller.ids().collect::<Vec<_>>(), ["b", "c"]);
        assert!(smaller.unwrap_dek(b"s", &w).is_ok());
        assert!(!smaller.to_text().contains(&key_b64(1)));

        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("keys");
        r.write_file(&path).expect("write");
        smaller.write_file(&path).expect("replace");
        let loaded = KeyRing::from_file(&path).expect("private and loadable");
        assert_eq!(loaded.ids().collect::<Vec<_>>(), ["b", "c"]);
        assert_eq!(loaded.current_id(), "b");
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn blobs_round_trip_and_refuse_tampering() {
        let dek = Dek::generate();
        let sealed = dek.seal_blob(b"note:1", b"blood pressure fine");
        assert_eq!(
            dek.open_blob(b"note:1", &sealed).expect("open").as_slice(),
            b"blood pressure fine"
        );
        assert!(dek.open_blob(b"note:2", &sealed).is_err());
        assert!(Dek::generate().open_blob(b"note:1", &sealed).is_err());
        let mut t = sealed.clone();
        t[20] ^= 1;
        assert!(dek.open_blob(b"note:1", &t).is_err());
        assert!(
            dek.open_blob(b"note:1", &sealed[..sealed.len() - 1])
                .is_err()
        );
        assert_ne!(
            sealed,
            dek.seal_blob(b"note:1", b"blood pressure fine"),
            "random nonce"
        );
    }
}
