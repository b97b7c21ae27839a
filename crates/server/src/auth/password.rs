//! Argon2id password hashing off the async executor, with a bound on concurrent hashes, and
//! one-time temporary passwords.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use rand::rngs::OsRng;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::config::AuthConfig;
use crate::error::ApiError;

/// Characters of generated passwords: no look-alikes (0/O, 1/l/I).
const TEMP_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
/// Length of generated passwords (about 116 bits).
const TEMP_LEN: usize = 20;

/// Hashes and verifies passwords with argon2id; at most `max_concurrent_hashes` at once.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
    permits: Arc<Semaphore>,
    /// Hash of a random password: unknown emails are verified against it so they cost the
    /// same time as a wrong password.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Builds the hasher from the configured cost.
    pub fn new(config: &AuthConfig) -> anyhow::Result<Self> {
        let params = Params::new(config.argon2_memory_kib, config.argon2_iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy = temporary_password();
        let dummy_hash = hash_with(&argon, &dummy)?;
        Ok(Self {
            argon,
            permits: Arc::new(Semaphore::new(config.max_concurrent_hashes)),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Hashes `password` into a PHC string on the blocking pool.
    pub async fn hash(&self, password: Zeroizing<String>) -> Result<String, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let argon = self.argon.clone();
        actix_web::web::block(move || hash_with(&argon, &password))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)
    }

    /// Checks `password` against `hash`, or against the dummy hash when `hash` is `None`
    /// (then the answer is always `false`, after the same work).
    pub async fn verify(
        &self,
        password: Zeroizing<String>,
        hash: Option<String>,
    ) -> Result<bool, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let argon = self.argon.clone();
        let real = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let ok = actix_web::web::block(move || verify_with(&argon, &password, &hash))
            .await
            .map_err(ApiError::internal)?;
        Ok(real && ok)
    }

    /// Synchronous hashing for the CLI and start-up bootstrap (no executor involved).
    pub fn hash_blocking(&self, password: &str) -> anyhow::Result<String> {
        hash_with(&self.argon, password)
    }

    /// Synchronous verification, outside the permits: the load bench times one verify at the
    /// server's settings with it (the unit of sign-in capacity, `cores / verify time`).
    pub fn verify_blocking(&self, password: &str, hash: &str) -> bool {
        verify_with(&self.argon, password, hash)
    }
}

fn hash_with(argon: &Argon2<'_>, password: &str) -> anyhow::Result<String> {
    use argon2::PasswordHasher as _;
    let salt = SaltString::generate(&mut OsRng);
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

fn verify_with(argon: &Argon2<'_>, password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|parsed| argon.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A fresh random password for a new or reset account, shown once.
pub fn temporary_password() -> Zeroizing<String> {
    let mut rng = OsRng;
    Zeroizing::new(
        (0..TEMP_LEN)
            .map(|_| char::from(TEMP_ALPHABET[rng.gen_range(0..TEMP_ALPHABET.len())]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(&AuthConfig::default()).unwrap()
    }

    #[actix_web::test]
    async fn hash_verifies_and_rejects_wrong_password() {
        let h = hasher();
        let hash = h
            .hash(Zeroizing::new("correct horse battery".into()))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            h.verify(
                Zeroizing::new("correct horse battery".into()),
                Some(hash.clone())
            )
            .await
            .unwrap()
        );
        assert!(
            !h.verify(Zeroizing::new("correct horse batterY".into()), Some(hash))
                .await
                .unwrap()
        );
    }

    #[actix_web::test]
    async fn unknown_user_never_verifies_and_garbage_hash_is_false() {
        let h = hasher();
        assert!(!h.verify(Zeroizing::new(String::new()), None).await.unwrap());
        assert!(
            !h.verify(Zeroizing::new("x".into()), Some("not a phc".into()))
                .await
                .unwrap()
        );
    }

    #[test]
    fn temporary_passwords_are_long_and_distinct() {
        let a = temporary_password();
        let b = temporary_password();
        assert_eq!(a.len(), TEMP_LEN);
        assert_ne!(*a, *b);
        assert!(a.bytes().all(|c| TEMP_ALPHABET.contains(&c)));
    }
}
