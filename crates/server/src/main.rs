//! `medvault`: serve the API, create an admin, or print the OpenAPI spec.

use std::io::Read;
use std::net::TcpListener;

use actix_web::web;
use anyhow::Context;
use clap::{Parser, Subcommand};
use medvault_server::bootstrap::{self, Bootstrap};
use medvault_server::config::Config;
use medvault_server::state::AppState;
use medvault_server::{openapi, run, telemetry};
use zeroize::Zeroizing;

mod storage_cli;

/// mimalloc returns freed memory to the OS; glibc's per-thread arenas held about twice the
/// engine's bounded working set during large uploads (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "medvault", about = "medvault health-record vault", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (default).
    Serve,
    /// Administrator accounts.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Print the OpenAPI spec as JSON.
    Openapi,
    /// The tamper-evident ledger.
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
    },
    /// Master keys: what each wraps, rotation by re-wrap, retiring an old key.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Shards: scrub and repair, drain buckets, storage health.
    Storage {
        #[command(subcommand)]
        action: storage_cli::StorageAction,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// How many record keys and per-patient keys each master key wraps.
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Re-wrap every record and patient key under the ring's current master key (no shard is
    /// touched); resumable: rerun after an interruption. Exit status 1 if any key did not unwrap.
    Rotate {
        /// Only check that every wrapped key unwraps with the ring; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Keys per batch (one transaction and one ledger entry each).
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
    /// Remove a master key from the ring once nothing is wrapped under it.
    Retire {
        /// The key id.
        id: String,
    },
}

#[derive(Subcommand)]
enum LedgerAction {
    /// Recompute the whole hash chain; exit status 1 and the first broken entry if it fails.
    Verify,
}

#[derive(Subcommand)]
enum AdminAction {
    /// Create an admin; the password is read from stdin.
    Create {
        /// Login email.
        #[arg(long)]
        email: String,
    },
    /// Lift the sign-in lock of an account (any role) and forget its failed attempts.
    Unlock {
        /// The account's login email.
        email: String,
    },
    /// Remove the sign-in authenticator of an account (a lost phone and no recovery code left,
    /// e.g. the only admin's) and sign out its sessions; staff set up a new one at next sign-in.
    ResetMfa {
        /// The account's login email.
        email: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print!("{}", openapi::spec_json());
            Ok(())
        }
        Command::Admin {
            action: AdminAction::Create { email },
        } => {
            telemetry::init();
            let state = AppState::from_config(Config::load()?)?;
            let mut password = Zeroizing::new(String::new());
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\r', '\n']);
            bootstrap::create_admin(&state, &email, password)?;
            eprintln!("admin {} created", email.trim().to_lowercase());
            Ok(())
        }
        Command::Admin {
            action: AdminAction::Unlock { email },
        } => {
            let (email, was_blocked) =
                on_account(&email, medvault_server::accounts::status::unlock)?;
            if was_blocked {
                println!("{email}: sign-in lock lifted");
            } else {
                println!("{email}: was not locked; failed attempts forgotten");
            }
            Ok(())
        }
        Command::Admin {
            action: AdminAction::ResetMfa { email },
        } => {
            let (email, had_one) = on_account(&email, medvault_server::auth::second_factor::reset)?;
            if had_one {
                println!("{email}: sign-in authenticator removed; sessions signed out");
            } else {
                println!("{email}: had no sign-in authenticator");
            }
            Ok(())
        }
        Command::Ledger {
            action: LedgerAction::Verify,
        } => verify_ledger(),
        Command::Keys { action } => keys(action),
        Command::Storage { action } => {
            telemetry::init();
            storage_cli::run(action)
        }
        Command::Serve => serve(),
    }
}

fn serve() -> anyhow::Result<()> {
    telemetry::init();
    let config = Config::load()?;
    let bind = config.bind;
    if !config.auth.staff_mfa_required {
        tracing::warn!(
            "auth.staff_mfa_required is off: admins and doctors can sign in with a password alone"
        );
    }
    let state = AppState::from_config(config)?;
    match bootstrap::ensure_admin(&state)? {
        Bootstrap::Existing => {}
        Bootstrap::FromConfig(email) => {
            tracing::info!(%email, "first admin created from bootstrap settings");
        }
        Bootstrap::Generated { email, password } => {
            // Shown once on stdout (not in the log); must be changed at first sign-in.
            println!(
                "First admin created: {email}  password: {}",
                password.as_str()
            );
            println!("Sign in and change this password now; it is not stored anywhere in plain.");
        }
    }
    let listener = TcpListener::bind(bind).with_context(|| format!("binding {bind}"))?;
    tracing::info!(address = %bind, "medvault listening");
    actix_web::rt::System::new()
        .block_on(async move { run(listener, web::Data::new(state))?.await })?;
    Ok(())
}

/// An operator's change to the account with `email` (`medvault admin unlock`, `reset-mfa`):
/// `op` runs in one write transaction and is ledgered with no actor. Exit status 1 when no
/// account has that e-mail. Returns the normalised e-mail and what `op` returned.
fn on_account<T>(
    email: &str,
    op: impl FnOnce(
        &mut medvault_server::db::DbConn,
        Option<medvault_types::UserId>,
        &medvault_server::accounts::users::UserRow,
    ) -> Result<T, medvault_server::error::ApiError>,
) -> anyhow::Result<(String, T)> {
    let config = Config::load()?;
    let pool = cli_pool(&config)?;
    let mut conn = pool.get().context("connecting to the database")?;
    let email = email.trim().to_lowercase();
    let outcome = medvault_server::db::write_transaction(&mut conn, |c| {
        let Some(user) = medvault_server::accounts::users::find_by_email(c, &email)? else {
            return Ok(None);
        };
        op(c, None, &user).map(Some)
    })
    .map_err(|e| anyhow::anyhow!("{email}: {e}"))?;
    let Some(outcome) = outcome else {
        eprintln!("no account has the e-mail {email}");
        std::process::exit(1)
    };
    Ok((email, outcome))
}

/// The one-connection pool of a command-line tool.
fn cli_pool(config: &Config) -> anyhow::Result<medvault_server::db::Pool> {
    medvault_server::db::connect(
        &config.effective_database_url(),
        1,
        std::time::Duration::from_secs(config.db_pool_timeout_secs),
    )
}

fn verify_ledger() -> anyhow::Result<()> {
    let config = Config::load()?;
    let pool = cli_pool(&config)?;
    let mut conn = pool.get().context("connecting to the database")?;
    let report = medvault_server::ledger::verify(&mut conn)
        .map_err(|e| anyhow::anyhow!("reading the ledger: {e}"))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if report.ok {
        Ok(())
    } else {
        std::process::exit(1)
    }
}

/// `medvault keys ...`: works on the database and the key ring only (no storage, no server).
fn keys(action: KeysAction) -> anyhow::Result<()> {
    use medvault_server::keys;
    let config = Config::load()?;
    let pool = cli_pool(&config)?;
    let mut conn = pool.get().context("connecting to the database")?;
    match action {
        KeysAction::Status { json } => {
            let ring = keys::load_ring(&config, false);
            if let Err(e) = &ring {
                eprintln!("warning: {e:#}");
            }
            let status = keys::status(&mut conn, ring.as_ref().ok())
                .map_err(|e| anyhow::anyhow!("reading the wrapped keys: {e}"))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print!("{status}");
            }
            Ok(())
        }
        KeysAction::Rotate { dry_run, batch } => {
            let ring = keys::load_ring(&config, false)?;
            rotate_keys(&mut conn, &ring, keys::RotateOptions { batch, dry_run })
        }
        KeysAction::Retire { id } => {
            let retired = keys::retire(&mut conn, &config, &id).unwrap_or_else(|e| {
                eprintln!("refused: {e:#}");
                std::process::exit(1)
            });
            match retired.file {
                Some(path) => println!(
                    "master key '{id}' retired and removed from {}; restart the server",
                    path.display()
                ),
                None => println!(
                    "master key '{id}' retired: nothing is wrapped under it; remove its entry \
                     from MEDVAULT_MASTER_KEYS and restart the server"
                ),
            }
            Ok(())
        }
    }
}

/// `medvault keys rotate`: progress on stderr, the report (JSON) on stdout, exit status 1 if a
/// key did not unwrap. `MEDVAULT_TEST_KEYS_STOP_AFTER_BATCHES=N` (tests only) aborts the process
/// after N finished batches, as a crash would.
fn rotate_keys(
    conn: &mut medvault_server::db::DbConn,
    ring: &medvault_engine::KeyRing,
    options: medvault_server::keys::RotateOptions,
) -> anyhow::Result<()> {
    let stop_after: Option<u64> = std::env::var("MEDVAULT_TEST_KEYS_STOP_AFTER_BATCHES")
        .ok()
        .and_then(|v| v.parse().ok());
    let verb = if options.dry_run {
        "checked"
    } else {
        "re-wrapped"
    };
    let report = medvault_server::keys::rotate(conn, ring, options, &mut |p| {
        eprintln!("{verb} {}/{} {}", p.done, p.total, p.kind.plural());
        if stop_after.is_some_and(|n| p.batches >= n) {
            eprintln!(
                "stopping after {} batches (MEDVAULT_TEST_KEYS_STOP_AFTER_BATCHES)",
                p.batches
            );
            std::process::abort();
        }
    })?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    for f in &report.failures {
        eprintln!(
            "FAILED: {} {} under '{}': {}",
            f.kind, f.id, f.kek_id, f.error
        );
    }
    if report.failed > 0 {
        eprintln!(
            "{} wrapped key(s) did not unwrap and were left as they are",
            report.failed
        );
        std::process::exit(1)
    }
    eprintln!(
        "{} {} under '{}'",
        if options.dry_run {
            "would re-wrap"
        } else {
            "re-wrapped"
        },
        report.rewrapped,
        report.to
    );
    Ok(())
}
