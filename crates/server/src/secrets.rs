//! Secrets generated on first start for the embedded default: random bytes written once into
//! the data directory with mode 0600, read back on later starts. Never logged.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use rand::rngs::OsRng;
use secrecy::SecretString;

/// Reads the secret stored in `dir/name`, or creates it with `bytes` random bytes (base64).
pub fn load_or_generate(dir: &Path, name: &str, bytes: usize) -> anyhow::Result<SecretString> {
    create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(name);
    match read_secret(&path) {
        Ok(secret) => return Ok(secret),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let mut raw = zeroize::Zeroizing::new(vec![0u8; bytes]);
    OsRng.fill_bytes(&mut raw);
    let encoded = zeroize::Zeroizing::new(STANDARD.encode(&*raw));
    match create_private(&path) {
        Ok(mut file) => {
            file.write_all(encoded.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(SecretString::from(encoded.to_string()))
        }
        // Another instance won the race: use its secret.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_secret(&path).with_context(|| format!("reading {}", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

/// Creates `dir` (and missing parents) readable only by the owner; existing directories keep
/// their permissions.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn read_secret(path: &Path) -> std::io::Result<SecretString> {
    let text = std::fs::read_to_string(path)?;
    Ok(SecretString::from(text.trim().to_string()))
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn generated_once_private_and_stable() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        let dir = dir.as_path();
        let first = load_or_generate(dir, "jwt.key", 48).unwrap();
        let second = load_or_generate(dir, "jwt.key", 48).unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert_eq!(STANDARD.decode(first.expose_secret()).unwrap().len(), 48);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir.join("jwt.key")), 0o600);
            assert_eq!(mode(dir), 0o700);
        }
        let other = load_or_generate(dir, "other.key", 48).unwrap();
        assert_ne!(first.expose_secret(), other.expose_secret());
    }
}
