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
    let pool = medvault_server::db::connect(&config.effective_database_url(), 1)?;
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

fn verify_ledger() -> anyhow::Result<()> {
    let config = Config::load()?;
    let pool = medvault_server::db::connect(&config.effective_database_url(), 1)?;
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
