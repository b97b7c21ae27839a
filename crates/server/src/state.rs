//! Shared application state, built once at start and cloned (cheaply) into every worker.

use anyhow::Context;

use crate::auth::{JwtKeys, PasswordHasher};
use crate::config::Config;
use crate::db::{self, Pool};
use crate::secrets;

/// File (in the data dir) holding the generated JWT signing key.
const JWT_SECRET_FILE: &str = "jwt-secret";

/// Everything handlers need.
#[derive(Debug)]
pub struct AppState {
    /// The configuration in effect.
    pub config: Config,
    /// Database pool.
    pub pool: Pool,
    /// Access-token keys.
    pub jwt: JwtKeys,
    /// Password hashing with bounded concurrency.
    pub hasher: PasswordHasher,
}

impl AppState {
    /// Connects and migrates the database, loads or generates secrets, prepares hashing.
    pub fn from_config(config: Config) -> anyhow::Result<Self> {
        let jwt_secret = match &config.auth.jwt_secret {
            Some(secret) => secret.clone(),
            None => secrets::load_or_generate(&config.data_dir, JWT_SECRET_FILE, 48)
                .context("loading the JWT signing key")?,
        };
        let jwt = JwtKeys::new(
            &jwt_secret,
            &config.auth.jwt_issuer,
            config.auth.access_ttl_secs,
        )?;
        let hasher = PasswordHasher::new(&config.auth)?;
        let pool = db::connect(&config.effective_database_url(), config.db_pool_size)?;
        Ok(Self {
            config,
            pool,
            jwt,
            hasher,
        })
    }
}
