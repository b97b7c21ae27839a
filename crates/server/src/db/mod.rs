//! Database access: one connection enum over PostgreSQL and SQLite, an r2d2 pool, embedded
//! migrations, and [`run`] / [`write`], the only ways request code reaches the database
//! (inside `web::block`, never on the async executor).
//!
//! # Who opens a transaction
//!
//! **Use cases do; nothing else does.** A use case is an `async fn` in a domain module
//! (`accounts`, `auth::credentials`, `records`, `consent`, `history`, `ledger::browse`,
//! `overview`) that a handler calls once. It reaches the database only through [`run`]
//! (reads: one pooled connection, no transaction) or [`write`] (one write transaction: a state
//! change and its ledger entry commit together or not at all). A use case may make several such
//! calls when it must do slow work between them (hashing a password, streaming a file), each
//! one complete in itself.
//!
//! Functions that take `&mut DbConn` are *steps*: they read and write within whatever the
//! calling use case opened and never begin, commit or roll back. Handlers in `routes/` never
//! call this module.

pub mod ids;
pub mod paging;
pub mod schema;

use std::time::Duration;

use actix_web::web;
use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use secrecy::{ExposeSecret, SecretString};

use crate::error::ApiError;

mod conn {
    //! The connection enum, in a private module so the items the derive generates stay
    //! private (and need no docs); only the enum is re-exported.

    use diesel::{PgConnection, SqliteConnection};

    /// A connection to whichever backend the URL names.
    #[derive(diesel::MultiConnection)]
    pub enum DbConn {
        /// Production backend.
        Pg(PgConnection),
        /// Embedded default.
        Sqlite(SqliteConnection),
    }
}

pub use conn::DbConn;

/// The backend type of [`DbConn`] (for boxed queries).
pub type Db = <DbConn as Connection>::Backend;

/// The pool every request borrows from.
pub type Pool = r2d2::Pool<Manager>;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgresql");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// SQLite writers wait this long for a lock before failing.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// Which backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// Anything else: a file path, optionally prefixed `sqlite://`.
    Sqlite,
}

impl Backend {
    /// Picks the backend from the URL scheme; returns the string to hand to the driver.
    pub fn from_url(url: &str) -> (Self, &str) {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Self::Postgres, url)
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            (Self::Sqlite, path)
        } else {
            (Self::Sqlite, url)
        }
    }
}

/// Connects to exactly the backend the URL names (never falls through to another one, so a
/// PostgreSQL outage cannot create a stray SQLite file) and prepares SQLite connections.
pub struct Manager {
    backend: Backend,
    target: SecretString,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        let target = self.target.expose_secret();
        match self.backend {
            Backend::Postgres => PgConnection::establish(target)
                .map(DbConn::Pg)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let mut conn =
                    SqliteConnection::establish(target).map_err(r2d2::Error::ConnectionError)?;
                // `journal_mode = WAL` is set once, in `connect`: it is stored in the file, and
                // pooled connections switching it at once fail with "database is locked".
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                     PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON;"
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// Builds the pool for `url` and runs pending migrations for its backend; a request waits at
/// most `wait` for a connection (then 503).
pub fn connect(url: &SecretString, max_size: u32, wait: Duration) -> anyhow::Result<Pool> {
    let (backend, target) = Backend::from_url(url.expose_secret());
    if backend == Backend::Sqlite
        && let Some(parent) = std::path::Path::new(target).parent()
        && !parent.as_os_str().is_empty()
    {
        crate::secrets::create_private_dir(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    if backend == Backend::Sqlite {
        let mut conn = SqliteConnection::establish(target)
            .with_context(|| format!("opening the SQLite database {target}"))?;
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL;"
        ))
        .context("switching the SQLite database to WAL")?;
    }
    let manager = Manager {
        backend,
        target: target.to_string().into(),
    };
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(wait)
        .build(manager)
        .context("connecting to the database")?;
    let mut conn = pool.get().context("connecting to the database")?;
    migrate(&mut conn)?;
    Ok(pool)
}

/// Applies every embedded migration not yet applied.
pub fn migrate(conn: &mut DbConn) -> anyhow::Result<()> {
    let applied = match conn {
        DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    }
    .map_err(|e| anyhow::anyhow!("running migrations: {e}"))?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(())
}

/// Key of the PostgreSQL transaction-level advisory lock that write transactions take first
/// ("medvault" as digits; it also serialises ledger appends, see [`lock_writers`]).
const PG_WRITER_LOCK: i64 = 0x6d65_6476_6175_6c74;

/// Takes the database-wide writer lock for the rest of the current transaction: on
/// PostgreSQL a transaction-level advisory lock (re-entrant, released at commit or rollback,
/// shared by every process on the database); on SQLite nothing, since `BEGIN IMMEDIATE`
/// already holds the write lock.
///
/// # Why one lock
///
/// Every state change appends to the one hash-chained ledger in its own transaction, so write
/// transactions were serialised at the append anyway. Taking the same lock *first* makes the
/// reads a use case bases its decision on (is the request still pending, how many wrong
/// codes, how much quota is used) part of the serialised section: at READ COMMITTED every
/// statement after the lock sees what earlier holders committed, so a check and the write it
/// allows are atomic, on one server or several on one database. That is SQLite's
/// `BEGIN IMMEDIATE` model, without serialization failures to retry.
pub fn lock_writers(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Pg(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({PG_WRITER_LOCK})"))
                .execute(c)?;
        }
        DbConn::Sqlite(_) => {}
    }
    Ok(())
}

/// Runs `f` in a write transaction on a connection the caller holds: what [`write`] does on
/// the blocking pool, for synchronous callers outside the request path (CLI tools, tests).
/// On SQLite it starts with `BEGIN IMMEDIATE`, taking the
/// write lock up front (waiting up to the busy timeout), so a transaction that reads and then
/// writes cannot fail half-way with `SQLITE_BUSY` when another writer got in between; on
/// PostgreSQL it takes the writer lock ([`lock_writers`]) before `f` runs. Either way the
/// write transactions of every process on the database run one at a time, and what `f` reads
/// is current until it commits. Must not be nested in another transaction.
pub fn write_transaction<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConn as Connection>::TransactionManager;
    match conn {
        DbConn::Pg(_) => conn.transaction(|c| {
            lock_writers(c)?;
            f(c)
        }),
        DbConn::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(value) => {
                    Manager::commit_transaction(conn)?;
                    Ok(value)
                }
                Err(e) => {
                    if let Err(rollback) = Manager::rollback_transaction(conn) {
                        tracing::error!(error = %rollback, "rollback failed");
                    }
                    Err(e)
                }
            }
        }
    }
}

/// Runs `f` with a pooled connection on the blocking thread pool: the only way request code
/// reaches the database. Pool exhaustion and a cancelled blocking task become 503/500
/// answers; `f`'s own errors pass through.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
{
    let pool = pool.clone();
    web::block(move || {
        let mut conn = pool.get().map_err(ApiError::unavailable)?;
        f(&mut conn)
    })
    .await
    .map_err(ApiError::internal)?
}

/// How long readiness waits for a pooled connection (shorter than the pool's own timeout:
/// a load balancer's probe must not hang while the database is down).
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the database answers a query now (readiness). A failure is logged, not returned.
pub async fn is_ready(pool: &Pool) -> bool {
    let pool = pool.clone();
    let ping = web::block(move || {
        let mut conn = pool
            .get_timeout(READY_TIMEOUT)
            .map_err(ApiError::unavailable)?;
        conn.ping().map_err(ApiError::unavailable)
    })
    .await
    .map_err(ApiError::internal)
    .and_then(|r| r);
    if let Err(e) = &ping {
        tracing::warn!(error = %e, "readiness check failed");
    }
    ping.is_ok()
}

/// Like [`run`], inside a write transaction: the way every state change and its ledger
/// entry are written together (both commit, or neither).
pub async fn write<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
{
    run(pool, move |conn| write_transaction(conn, f)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_scheme() {
        assert_eq!(Backend::from_url("postgres://u@h/db").0, Backend::Postgres);
        assert_eq!(
            Backend::from_url("postgresql://u@h/db").0,
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("sqlite:///tmp/x.db"),
            (Backend::Sqlite, "/tmp/x.db")
        );
        assert_eq!(
            Backend::from_url("data/medvault.db"),
            (Backend::Sqlite, "data/medvault.db")
        );
    }

    #[test]
    fn sqlite_pool_migrates_and_sets_pragmas() {
        #[derive(QueryableByName)]
        struct Val {
            #[diesel(sql_type = diesel::sql_types::Text)]
            v: String,
        }
        let dir = tempfile::tempdir().unwrap();
        let url: SecretString = dir
            .path()
            .join("sub/t.db")
            .to_string_lossy()
            .into_owned()
            .into();
        let pool = connect(&url, 2, Duration::from_secs(10)).unwrap();
        let mut conn = pool.get().unwrap();
        let mode: Val = diesel::sql_query("SELECT journal_mode AS v FROM pragma_journal_mode")
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(mode.v, "wal");
        let fk: Val =
            diesel::sql_query("SELECT CAST(foreign_keys AS TEXT) AS v FROM pragma_foreign_keys")
                .get_result(&mut *conn)
                .unwrap();
        assert_eq!(fk.v, "1");
        // Migrations are idempotent.
        migrate(&mut conn).unwrap();
    }
}
