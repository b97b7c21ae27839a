//! Typed, layered configuration: embedded defaults -> TOML file (`MEDVAULT_CONFIG`) -> env.
//!
//! Secrets are [`SecretString`]s: they never appear in `Debug` output or logs. A secret missing
//! from file and env is generated on first start into the data directory (mode 0600) by
//! [`crate::secrets`], so the embedded default needs no setup.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use secrecy::SecretString;
use serde::Deserialize;

/// Everything the server reads at start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Listen address (`MEDVAULT_BIND`).
    pub bind: SocketAddr,
    /// Directory for the SQLite file, generated secrets and directory buckets
    /// (`MEDVAULT_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `postgres://...` or a SQLite path / `sqlite://path` (`MEDVAULT_DATABASE_URL`); default
    /// `<data_dir>/medvault.db`.
    pub database_url: Option<SecretString>,
    /// Maximum pooled database connections.
    pub db_pool_size: u32,
    /// Seconds a request waits for a pooled database connection before answering 503
    /// (default 10): how long requests hang while the database is down.
    pub db_pool_timeout_secs: u64,
    /// Authentication settings.
    pub auth: AuthConfig,
    /// HTTP limits.
    pub http: HttpConfig,
    /// First-admin bootstrap.
    pub bootstrap: BootstrapConfig,
    /// Object storage: buckets, chunk size, Reed-Solomon `k`/`m`. With no buckets configured,
    /// six directory buckets under `<data_dir>/buckets` (the embedded default).
    pub storage: medvault_engine::StorageConfig,
    /// Key ring (`MEDVAULT_MASTER_KEYS`: `id:base64[,id:base64...]`, first current), or
    /// `keys.file` / `MEDVAULT_MASTER_KEYS_FILE`; generated into the data dir when neither is set.
    pub keys: KeysConfig,
    /// Upload limits and the shard collector.
    pub records: crate::records::RecordsConfig,
    /// The background scrubber (checks and repairs shards).
    pub scrub: crate::storage::ScrubConfig,
    /// Caps on concurrent uploads and downloads (`[limits]`).
    pub limits: crate::transfers::LimitsConfig,
    /// Consent limits.
    pub consent: crate::consent::ConsentConfig,
    /// Emergency (break-glass) access: on or off, how long, how often.
    pub emergency: crate::emergency::EmergencyConfig,
    /// SMTP for consent-code emails; none by default.
    pub smtp: Option<crate::mail::SmtpConfig>,
    /// Directory holding the built SPA (`MEDVAULT_SPA_DIR`); served at `/` when set.
    pub spa_dir: Option<PathBuf>,
    /// Native TLS (certificate and key); without it the server speaks plain HTTP and a
    /// reverse proxy should terminate TLS. With it, responses carry HSTS.
    pub tls: Option<TlsConfig>,
    /// Allows plain-text links to storage, mail and the database (`http://` S3, SMTP without
    /// TLS, PostgreSQL without `sslmode=require`), which are refused otherwise; for test
    /// set-ups on loopback. Each allowed one is named in a warning at start.
    pub allow_insecure_transport: bool,
}

/// Where the key ring comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// The ring inline (`MEDVAULT_MASTER_KEYS`).
    pub ring: Option<SecretString>,
    /// A file holding the ring, readable only by the service user (`MEDVAULT_MASTER_KEYS_FILE`).
    pub file: Option<PathBuf>,
}

/// Token lifetimes, password hashing and lockout policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// HS256 signing key (`MEDVAULT_JWT_SECRET`), at least 32 bytes; generated when absent.
    pub jwt_secret: Option<SecretString>,
    /// `iss` and `aud` of access tokens.
    pub jwt_issuer: String,
    /// Access token lifetime in seconds.
    pub access_ttl_secs: u64,
    /// Refresh session lifetime in seconds (a session ends this long after sign-in).
    pub refresh_ttl_secs: u64,
    /// Argon2id memory cost in KiB (OWASP: 19456).
    pub argon2_memory_kib: u32,
    /// Argon2id iterations (OWASP: 2).
    pub argon2_iterations: u32,
    /// Password hashes computed at once; further requests wait (bounds CPU and memory).
    pub max_concurrent_hashes: usize,
    /// Failed sign-ins on one account from one address before each further failure imposes a
    /// wait.
    pub slowdown_after: u32,
    /// Failed sign-ins on one account from one address before that pair is locked for
    /// `lock_secs` (the owner signing in from elsewhere is not affected).
    pub lock_after: u32,
    /// Lock duration in seconds.
    pub lock_secs: u64,
    /// Failed sign-ins from one address, across all accounts, before that address is locked
    /// for `address_lock_secs` (stops password spraying). Forgotten after an hour without one.
    pub address_lock_after: u32,
    /// Address lock duration in seconds.
    pub address_lock_secs: u64,
    /// Failed sign-ins in one minute across the whole server above which every attempt waits
    /// a moment first: a global limit only slows down, it never locks anyone out.
    pub global_slowdown_per_minute: u32,
    /// How long a password confirmation counts as recent for sensitive actions (emergency
    /// access), in seconds.
    pub recent_auth_secs: u64,
    /// A staff (admin, doctor) session ends after this many seconds without a request.
    pub staff_idle_secs: u64,
    /// A patient's session ends after this many seconds without a request.
    pub patient_idle_secs: u64,
    /// A staff session ends this long after sign-in whatever the activity (patients:
    /// `refresh_ttl_secs`).
    pub staff_session_secs: u64,
    /// Admins and doctors must set up a sign-in second factor (an authenticator app) before
    /// they can use anything but their own account page. Off only for a staged roll-out; a
    /// warning is logged at start when off.
    pub staff_mfa_required: bool,
}

impl AuthConfig {
    /// Seconds without a request after which a session of `role` ends.
    pub fn idle_secs(&self, role: medvault_types::Role) -> u64 {
        match role {
            medvault_types::Role::Patient => self.patient_idle_secs,
            medvault_types::Role::Admin | medvault_types::Role::Doctor => self.staff_idle_secs,
        }
    }

    /// Seconds after sign-in at which a session of `role` ends whatever the activity.
    pub fn session_secs(&self, role: medvault_types::Role) -> u64 {
        match role {
            medvault_types::Role::Patient => self.refresh_ttl_secs,
            medvault_types::Role::Admin | medvault_types::Role::Doctor => {
                self.staff_session_secs.min(self.refresh_ttl_secs)
            }
        }
    }
}

/// Native TLS: the server terminates HTTPS itself (otherwise a reverse proxy should); see
/// `crate::transport`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain, PEM (leaf first).
    pub cert_path: PathBuf,
    /// Private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key_path: PathBuf,
}

/// Request limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Largest JSON body accepted, in bytes.
    pub json_limit_bytes: usize,
    /// Server workers (default: available cores).
    pub workers: Option<usize>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for sign-in throttling);
    /// from any other peer the header is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The address people open the app at (`https://medvault.hospital.example`), for links
    /// in e-mails; without it e-mails give codes to type in.
    pub public_url: Option<String>,
}

/// Who the first admin is when the database has none.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BootstrapConfig {
    /// `MEDVAULT_BOOTSTRAP_ADMIN_EMAIL`.
    pub admin_email: Option<String>,
    /// `MEDVAULT_BOOTSTRAP_ADMIN_PASSWORD`.
    pub admin_password: Option<SecretString>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            db_pool_size: 8,
            db_pool_timeout_secs: 10,
            auth: AuthConfig::default(),
            http: HttpConfig::default(),
            bootstrap: BootstrapConfig::default(),
            storage: medvault_engine::StorageConfig::default(),
            keys: KeysConfig::default(),
            records: crate::records::RecordsConfig::default(),
            scrub: crate::storage::ScrubConfig::default(),
            limits: crate::transfers::LimitsConfig::default(),
            consent: crate::consent::ConsentConfig::default(),
            emergency: crate::emergency::EmergencyConfig::default(),
            smtp: None,
            spa_dir: None,
            tls: None,
            allow_insecure_transport: false,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_issuer: "medvault".into(),
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 7 * 24 * 3600,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, usize::from),
            slowdown_after: 3,
            lock_after: 8,
            lock_secs: 15 * 60,
            address_lock_after: 30,
            address_lock_secs: 15 * 60,
            global_slowdown_per_minute: 600,
            recent_auth_secs: 5 * 60,
            staff_idle_secs: 15 * 60,
            patient_idle_secs: 30 * 60,
            staff_session_secs: 12 * 3600,
            staff_mfa_required: true,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            json_limit_bytes: 64 * 1024,
            workers: None,
            trusted_proxies: Vec::new(),
            public_url: None,
        }
    }
}

/// Environment variables read on top of the file, and where each one lands.
const ENV_VARS: &[&str] = &[
    "MEDVAULT_BIND",
    "MEDVAULT_DATA_DIR",
    "MEDVAULT_DATABASE_URL",
    "MEDVAULT_JWT_SECRET",
    "MEDVAULT_SPA_DIR",
    "MEDVAULT_MASTER_KEYS",
    "MEDVAULT_MASTER_KEYS_FILE",
    "MEDVAULT_BOOTSTRAP_ADMIN_EMAIL",
    "MEDVAULT_BOOTSTRAP_ADMIN_PASSWORD",
];

impl Config {
    /// Defaults, then the TOML file named by `MEDVAULT_CONFIG` (if set), then env vars.
    pub fn load() -> anyhow::Result<Self> {
        let mut config = match std::env::var_os("MEDVAULT_CONFIG") {
            Some(path) => Self::from_file(Path::new(&path))?,
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a TOML file over the defaults.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
    }

    /// Applies the `MEDVAULT_*` overrides, reading each through `get` (testable without env).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        for name in ENV_VARS {
            let Some(value) = get(name).filter(|v| !v.is_empty()) else {
                continue;
            };
            match *name {
                "MEDVAULT_BIND" => {
                    self.bind = value
                        .parse()
                        .with_context(|| format!("MEDVAULT_BIND is not host:port: {value}"))?;
                }
                "MEDVAULT_DATA_DIR" => self.data_dir = PathBuf::from(value),
                "MEDVAULT_DATABASE_URL" => self.database_url = Some(value.into()),
                "MEDVAULT_JWT_SECRET" => self.auth.jwt_secret = Some(value.into()),
                "MEDVAULT_SPA_DIR" => self.spa_dir = Some(PathBuf::from(value)),
                "MEDVAULT_MASTER_KEYS" => self.keys.ring = Some(value.into()),
                "MEDVAULT_MASTER_KEYS_FILE" => self.keys.file = Some(PathBuf::from(value)),
                "MEDVAULT_BOOTSTRAP_ADMIN_EMAIL" => self.bootstrap.admin_email = Some(value),
                "MEDVAULT_BOOTSTRAP_ADMIN_PASSWORD" => {
                    self.bootstrap.admin_password = Some(value.into());
                }
                _ => unreachable!("every name in ENV_VARS is matched"),
            }
        }
        Ok(())
    }

    /// Rejects settings that cannot work, with a message naming the setting.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.db_pool_size >= 1, "db_pool_size must be at least 1");
        anyhow::ensure!(
            (1..=300).contains(&self.db_pool_timeout_secs),
            "db_pool_timeout_secs must be between 1 and 300"
        );
        anyhow::ensure!(
            (60..=3600).contains(&self.auth.access_ttl_secs),
            "auth.access_ttl_secs must be between 60 and 3600"
        );
        anyhow::ensure!(
            self.auth.refresh_ttl_secs >= self.auth.access_ttl_secs,
            "auth.refresh_ttl_secs must be at least auth.access_ttl_secs"
        );
        anyhow::ensure!(
            self.auth.max_concurrent_hashes >= 1,
            "auth.max_concurrent_hashes must be at least 1"
        );
        anyhow::ensure!(
            self.auth.lock_after >= 1 && self.auth.slowdown_after <= self.auth.lock_after,
            "auth.lock_after must be >= 1 and >= auth.slowdown_after"
        );
        anyhow::ensure!(
            self.auth.argon2_memory_kib >= 8 * 1024 && self.auth.argon2_iterations >= 1,
            "argon2 parameters below the safe minimum (8 MiB, 1 iteration)"
        );
        anyhow::ensure!(
            (1024..=16 * 1024 * 1024).contains(&self.http.json_limit_bytes),
            "http.json_limit_bytes must be between 1 KiB and 16 MiB"
        );
        anyhow::ensure!(
            self.records.max_file_bytes >= 1 && self.records.quota_bytes >= 1,
            "records.max_file_bytes and records.quota_bytes must be positive"
        );
        anyhow::ensure!(
            self.limits.max_transfers >= 1 && self.limits.max_transfers_per_user >= 1,
            "limits.max_transfers and limits.max_transfers_per_user must be at least 1"
        );
        anyhow::ensure!(
            !self.records.allowed_types.is_empty(),
            "records.allowed_types must name at least one type"
        );
        anyhow::ensure!(
            self.consent.max_attempts >= 1
                && self.consent.code_ttl_minutes <= 60
                && (1..=24 * 30).contains(&self.consent.max_grant_hours)
                && self.consent.downloads_per_grant >= 1,
            "consent limits out of range"
        );
        self.emergency.validate()?;
        anyhow::ensure!(
            (30..=3600).contains(&self.auth.recent_auth_secs),
            "auth.recent_auth_secs must be between 30 and 3600"
        );
        for (name, value) in [
            ("auth.staff_idle_secs", self.auth.staff_idle_secs),
            ("auth.patient_idle_secs", self.auth.patient_idle_secs),
        ] {
            anyhow::ensure!(
                (10..=24 * 3600).contains(&value),
                "{name} must be between 10 and 86400"
            );
        }
        anyhow::ensure!(
            (60..=30 * 24 * 3600).contains(&self.auth.staff_session_secs),
            "auth.staff_session_secs must be between 60 and 2592000"
        );
        self.effective_storage().validate().context("storage")?;
        Ok(())
    }

    /// The storage configuration in effect: the configured buckets, or the embedded default of
    /// six directory buckets under `<data_dir>/buckets`.
    pub fn effective_storage(&self) -> medvault_engine::StorageConfig {
        let mut storage = self.storage.clone();
        if storage.buckets.is_empty() {
            storage.buckets = (1..=6)
                .map(|i| medvault_engine::BucketConfig::Dir {
                    name: format!("dir-{i}"),
                    path: self.data_dir.join("buckets").join(format!("b{i}")),
                    provider: None,
                })
                .collect();
        }
        storage
    }

    /// The database URL in effect: the configured one, or the SQLite file in the data dir.
    pub fn effective_database_url(&self) -> SecretString {
        self.database_url.clone().unwrap_or_else(|| {
            self.data_dir
                .join("medvault.db")
                .to_string_lossy()
                .into_owned()
                .into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn env_overrides_file_and_defaults() {
        let mut config: Config = toml::from_str(
            r#"
            bind = "0.0.0.0:9000"
            data_dir = "/srv/medvault"
            [auth]
            access_ttl_secs = 600
            "#,
        )
        .unwrap();
        assert_eq!(config.auth.access_ttl_secs, 600);
        assert_eq!(config.auth.lock_after, AuthConfig::default().lock_after);
        config
            .apply_env(|name| match name {
                "MEDVAULT_BIND" => Some("127.0.0.1:9100".into()),
                "MEDVAULT_JWT_SECRET" => Some("x".repeat(40)),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.bind.port(), 9100);
        assert_eq!(config.data_dir, PathBuf::from("/srv/medvault"));
        assert_eq!(
            config.auth.jwt_secret.as_ref().unwrap().expose_secret(),
            "x".repeat(40)
        );
        config.validate().unwrap();
        assert_eq!(
            config.effective_database_url().expose_secret(),
            "/srv/medvault/medvault.db"
        );
    }

    #[test]
    fn the_readme_example_parses() {
        let readme = include_str!("../../../README.md");
        let start = readme.find("```toml\n").expect("a TOML example") + "```toml\n".len();
        let end = start + readme[start..].find("```").expect("its end");
        let config: Config = toml::from_str(&readme[start..end]).expect("the README's example");
        assert!(config.auth.staff_mfa_required);
        assert_eq!(config.auth.address_lock_after, 30);
        assert_eq!(config.http.trusted_proxies.len(), 1);
        assert!(config.tls.is_some());
        assert!(!config.allow_insecure_transport);
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let mut config = Config::default();
        config.auth.jwt_secret = Some("super-secret-signing-key-value-xyz".to_string().into());
        assert!(!format!("{config:?}").contains("super-secret"));
    }

    #[test]
    fn bad_values_are_rejected() {
        let mut config = Config::default();
        assert!(config.apply_env(|_| Some("not an address".into())).is_err());
        let unknown: Result<Config, _> = toml::from_str("colour = 1");
        assert!(unknown.is_err());
        let mut short = Config::default();
        short.auth.access_ttl_secs = 1;
        assert!(short.validate().is_err());
    }
}
