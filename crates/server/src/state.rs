//! Shared application state, built once at start and cloned (cheaply) into every worker.

use anyhow::Context;

use crate::auth::{JwtKeys, PasswordHasher};
use crate::config::Config;
use crate::db::{self, Pool};
use crate::secrets;

/// File (in the data dir) holding the generated JWT signing key.
const JWT_SECRET_FILE: &str = "jwt-secret";

/// The state as use cases receive it: shared, so they can hand it to blocking database work.
pub type SharedState = std::sync::Arc<AppState>;

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
    /// The storage engine (with the key ring).
    pub engine: medvault_engine::Engine,
    /// SMTP, when configured.
    pub mailer: Option<crate::mail::Mailer>,
    /// The clock every expiry decision reads (tests move a clone of it).
    pub clock: crate::clock::Clock,
    /// The global sign-in failure rate of this instance (`auth::throttle`).
    pub pace: crate::auth::throttle::Pace,
    /// Uploads and downloads in flight, under the `[limits]` caps.
    pub transfers: std::sync::Arc<crate::transfers::Transfers>,
}

impl AppState {
    /// Ready to serve: the database answers a query now.
    pub async fn is_ready(&self) -> bool {
        db::is_ready(&self.pool).await
    }

    /// Connects and migrates the database, loads or generates secrets, prepares hashing.
    pub fn from_config(config: Config) -> anyhow::Result<Self> {
        crate::transport::check(&config)?;
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
        let pool = db::connect(
            &config.effective_database_url(),
            config.db_pool_size,
            std::time::Duration::from_secs(config.db_pool_timeout_secs),
        )?;
        crate::startup::run_pending(&pool).context("start-up data migrations")?;
        let keys = crate::keys::load_ring(&config, true)?;
        crate::keys::check_ring(
            &mut *pool.get().context("connecting to the database")?,
            &keys,
        )?;
        let engine = medvault_engine::Engine::new(config.effective_storage(), keys)
            .context("configuring storage")?;
        crate::storage::check::buckets_configured(
            &mut *pool.get().context("connecting to the database")?,
            &engine,
        )?;
        let mailer = config
            .smtp
            .as_ref()
            .map(crate::mail::Mailer::new)
            .transpose()
            .context("configuring smtp")?;
        let transfers = crate::transfers::Transfers::new(config.limits.clone());
        Ok(Self {
            config,
            pool,
            jwt,
            hasher,
            engine,
            mailer,
            clock: crate::clock::Clock::system(),
            pace: crate::auth::throttle::Pace::default(),
            transfers,
        })
    }
}
