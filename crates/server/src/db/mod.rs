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
//! change and its ledger entry commit together or not at all; writes queued at the same moment
//! share one commit, each in a savepoint of its own). A use case may make several such
//! calls when it must do slow work between them (hashing a password, streaming a file), each
//! one complete in itself.
//!
//! Functions that take `&mut DbConn` are *steps*: they read and write within whatever the
//! calling use case opened and never begin, commit or roll back. Handlers in `routes/` never
//! call this module.

pub mod ids;
pub mod paging;
pub mod schema;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
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

/// The pool every request borrows from: an r2d2 pool (which it derefs to), one permit per
/// connection that request code waits for before it takes a blocking thread ([`run`]), and
/// the turn this process's write transactions take one at a time ([`write`]).
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    permits: Arc<tokio::sync::Semaphore>,
    writer: Arc<tokio::sync::Mutex<()>>,
    queue: Arc<Mutex<Vec<(u64, Job)>>>,
    next_job: Arc<AtomicU64>,
    wait: Duration,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("state", &self.inner.state())
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for Pool {
    type Target = r2d2::Pool<Manager>;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

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
    let inner = r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(wait)
        .build(manager)
        .context("connecting to the database")?;
    let mut conn = inner.get().context("connecting to the database")?;
    migrate(&mut conn)?;
    Ok(Pool {
        permits: Arc::new(tokio::sync::Semaphore::new(
            usize::try_from(max_size).unwrap_or(usize::MAX),
        )),
        inner,
        writer: Arc::new(tokio::sync::Mutex::new(())),
        queue: Arc::new(Mutex::new(Vec::new())),
        next_job: Arc::new(AtomicU64::new(0)),
        wait,
    })
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
///
/// A request first waits for one of the pool's permits (one per connection) as a future, and
/// only then takes a blocking thread and a connection: under load, requests beyond the pool's
/// size wait in line instead of each parking a blocking thread on the pool's condition
/// variable (hundreds of threads woken and put back to sleep for every connection returned).
/// Waiting longer than the pool's timeout answers 503, as waiting for a connection did.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
{
    let _permit = actix_web::rt::time::timeout(pool.wait, pool.permits.acquire())
        .await
        .map_err(|_| ApiError::unavailable("no database connection free in time"))?
        .map_err(ApiError::internal)?;
    let pool = pool.clone();
    web::block(move || {
        let mut conn = pool.get().map_err(ApiError::unavailable)?;
        f(&mut conn).map_err(|e| outage_or(&mut conn, e))
    })
    .await
    .map_err(ApiError::internal)?
}

/// `e` as the caller should see it: an internal error met on a connection that no longer
/// answers is the database's outage (a restart, a dropped connection), not a fault of this
/// server, and answers 503 like the outage's other errors. Diesel reports some of those
/// (a failed rollback, a broken transaction manager) without the database's message, so
/// they cannot be told apart by text; the connection's state tells. Costs one round trip,
/// and only on an internal error.
fn outage_or(conn: &mut DbConn, e: ApiError) -> ApiError {
    match e {
        ApiError::Internal(cause) if conn.is_broken() || conn.ping().is_err() => {
            ApiError::Unavailable(cause)
        }
        other => other,
    }
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

/// Write transactions committed together at most (see [`write`]).
const MAX_BATCH: usize = 64;

/// A write waiting in [`Pool`]'s queue: given a connection inside the batch's transaction it
/// runs and says how it went; given an error (no connection, the batch's transaction could
/// not start) it hands that error to its caller.
type Job = Box<dyn FnOnce(Result<&mut DbConn, ApiError>) -> Option<Done> + Send>;

/// A write in the queue, taken out again if its caller stops waiting before a batch took it
/// (the caller gave up or answered 503: the write must then not happen later).
struct Queued<'a> {
    pool: &'a Pool,
    id: u64,
}

impl Queued<'_> {
    /// Takes the write out of the queue; `false` when a batch already took it (its answer
    /// follows).
    fn withdraw(&self) -> bool {
        let mut queue = self
            .pool
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match queue.iter().position(|(id, _)| *id == self.id) {
            Some(at) => {
                drop(queue.remove(at));
                true
            }
            None => false,
        }
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.withdraw();
    }
}

/// Makes a [`Job`] (the bound gives the closure its higher-ranked signature).
fn job<F>(f: F) -> Job
where
    F: FnOnce(Result<&mut DbConn, ApiError>) -> Option<Done> + Send + 'static,
{
    Box::new(f)
}

/// A job that ran: whether it succeeded (otherwise its savepoint is rolled back), and how to
/// hand its result to its caller once the batch's commit is known.
struct Done {
    ok: bool,
    deliver: Box<dyn FnOnce(Result<(), ApiError>) + Send>,
}

/// Why a job's savepoint ended early.
enum Savepoint {
    /// The job failed: roll back what it did, keep the batch.
    Rollback,
    /// The database failed: the batch is lost.
    Failed(diesel::result::Error),
}

impl From<diesel::result::Error> for Savepoint {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(e)
    }
}

/// The error of a batch as each of its callers gets it (the kinds that say "try again" or
/// "storage full" kept, anything else an internal error).
fn batch_error(e: &ApiError) -> ApiError {
    match e {
        ApiError::Unavailable(m) => ApiError::Unavailable(m.clone()),
        ApiError::InsufficientStorage(m) => ApiError::InsufficientStorage(m.clone()),
        ApiError::Conflict(m) => ApiError::Conflict(m),
        other => ApiError::internal(other),
    }
}

/// Runs `jobs` in one write transaction, each in a savepoint of its own, and hands every
/// caller its result once the commit (or the failure) is known.
fn run_batch(conn: Result<&mut DbConn, ApiError>, jobs: Vec<Job>) {
    let conn = match conn {
        Ok(conn) => conn,
        Err(e) => {
            for job in jobs {
                job(Err(batch_error(&e)));
            }
            return;
        }
    };
    let mut waiting = jobs.into_iter();
    let mut done: Vec<Done> = Vec::new();
    let outcome = write_transaction(conn, |c| {
        for job in waiting.by_ref() {
            // A failed job's answer waits here, not in the error: when the rollback to its
            // savepoint fails too (the connection is gone), diesel returns the rollback's
            // error instead, and the answer must still reach its caller.
            let mut failed: Option<Done> = None;
            let ran = c.transaction::<(), Savepoint, _>(|c| match job(Ok(c)) {
                Some(d) if d.ok => {
                    done.push(d);
                    Ok(())
                }
                Some(d) => {
                    failed = Some(d);
                    Err(Savepoint::Rollback)
                }
                None => Ok(()),
            });
            done.extend(failed);
            match ran {
                Ok(()) | Err(Savepoint::Rollback) => {}
                Err(Savepoint::Failed(e)) => return Err(ApiError::from(e)),
            }
        }
        Ok(())
    });
    let outcome = outcome.err().map(|e| outage_or(conn, e));
    for d in done {
        (d.deliver)(outcome.as_ref().map_or(Ok(()), |e| Err(batch_error(e))));
    }
    // Jobs the failed transaction never reached.
    let error = outcome.unwrap_or_else(|| ApiError::internal("write batch ended early"));
    for job in waiting {
        job(Err(batch_error(&error)));
    }
}

/// Like [`run`], inside a write transaction: the way every state change and its ledger
/// entry are written together (both commit, or neither).
///
/// Write transactions are serialised by the database (the writer lock, [`write_transaction`]),
/// so this process queues them and commits them in batches: each write joins the queue, waits
/// for the turn (first come, first served; as a future, holding neither a thread nor a
/// connection), and whoever gets the turn runs every write queued by then (up to
/// [`MAX_BATCH`]) in one transaction, each in a savepoint of its own, then commits once. A
/// write that fails rolls back to its savepoint and answers its error; the others commit. A
/// batch whose commit fails answers that failure to every write in it, none of which is kept.
/// Each caller gets its answer only after the commit, so a read's ledger entry is durable
/// before the read is answered, as before, but on PostgreSQL one flush of the write-ahead log
/// serves the whole batch instead of one per write (issue 15: ledgered reads were bounded by
/// one WAL flush each, held under the writer lock). Waiting in SQLite's busy handler (sleeps
/// of growing length between retries) and on PostgreSQL's advisory lock (a pooled connection
/// per waiter) are gone with the queue; other processes on the same database still meet the
/// database's own lock. Waiting longer than the pool's timeout for the turn answers 503, and
/// the write is then taken out of the queue, never made; so is the write of a caller that
/// stops waiting (a dropped request) before a batch took it.
pub async fn write<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, ApiError>>();
    let job = job(move |conn| match conn {
        Err(e) => {
            let _ = tx.send(Err(e));
            None
        }
        Ok(conn) => {
            let result = f(conn);
            Some(Done {
                ok: result.is_ok(),
                deliver: Box::new(move |commit| {
                    let _ = tx.send(commit.and(result));
                }),
            })
        }
    });
    let id = pool.next_job.fetch_add(1, Ordering::Relaxed);
    pool.queue
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((id, job));
    let queued = Queued { pool, id };
    if let Ok(_turn) = actix_web::rt::time::timeout(pool.wait, pool.writer.lock()).await {
        let batch: Vec<Job> = {
            let mut queue = pool.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let n = queue.len().min(MAX_BATCH);
            queue.drain(..n).map(|(_, job)| job).collect()
        };
        if !batch.is_empty() {
            let permit = match actix_web::rt::time::timeout(
                pool.wait,
                Arc::clone(&pool.permits).acquire_owned(),
            )
            .await
            {
                Ok(Ok(permit)) => Ok(permit),
                Ok(Err(closed)) => Err(ApiError::internal(closed)),
                Err(_) => Err(ApiError::unavailable("no database connection free in time")),
            };
            let conn_pool = pool.clone();
            // A panicking job drops the batch's senders: its callers get an internal error.
            let _ = web::block(move || match permit {
                Err(e) => run_batch(Err(e), batch),
                Ok(_permit) => match conn_pool.get() {
                    Ok(mut conn) => run_batch(Ok(&mut conn), batch),
                    Err(e) => run_batch(Err(ApiError::unavailable(e)), batch),
                },
            })
            .await;
        }
    } else if queued.withdraw() {
        return Err(ApiError::unavailable("no turn to write in time"));
    }
    rx.await
        .map_err(|_| ApiError::internal("the write's batch was abandoned"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        v: i32,
    }

    /// Writes queued together share a transaction: each failing one is rolled back alone,
    /// every other one is kept and answered with its own value.
    #[actix_web::test]
    async fn queued_writes_commit_together_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let url: SecretString = dir
            .path()
            .join("w.db")
            .to_string_lossy()
            .into_owned()
            .into();
        let pool = connect(&url, 2, Duration::from_secs(10)).unwrap();
        run(&pool, |c| {
            diesel::sql_query("CREATE TABLE t (v INTEGER NOT NULL)").execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
        let writes = (0..40).map(|v: i32| {
            let pool = pool.clone();
            async move {
                write(&pool, move |c| {
                    diesel::sql_query(format!("INSERT INTO t VALUES ({v})")).execute(c)?;
                    if v % 3 == 0 {
                        Err(ApiError::Conflict("refused"))
                    } else {
                        Ok(v)
                    }
                })
                .await
            }
        });
        let results = futures_util::future::join_all(writes).await;
        for (v, result) in (0..).zip(&results) {
            match result {
                Ok(got) => assert_eq!(*got, v),
                Err(ApiError::Conflict(_)) => assert_eq!(v % 3, 0, "write {v} failed"),
                Err(e) => panic!("write {v}: {e}"),
            }
        }
        let kept: Vec<Value> = run(&pool, |c| {
            Ok(diesel::sql_query("SELECT v FROM t ORDER BY v").load(c)?)
        })
        .await
        .unwrap();
        let kept: Vec<i32> = kept.into_iter().map(|r| r.v).collect();
        assert_eq!(kept, (0..40).filter(|v| v % 3 != 0).collect::<Vec<_>>());
    }

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
