//! The first administrator: from the CLI, from bootstrap env vars, or generated.

use anyhow::Context;
use diesel::Connection;
use medvault_types::Role;
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::accounts::users::{self, UserRow};
use crate::auth::password::temporary_password;
use crate::state::AppState;
use crate::validate;

/// Email of the generated first admin.
pub const DEFAULT_ADMIN_EMAIL: &str = "admin@medvault.local";

/// What [`ensure_admin`] did.
#[derive(Debug)]
pub enum Bootstrap {
    /// An active admin already existed.
    Existing,
    /// Created from `MEDVAULT_BOOTSTRAP_ADMIN_*`.
    FromConfig(String),
    /// Created with a generated password, to be shown once by the caller.
    Generated {
        /// Login email.
        email: String,
        /// The password (printed once, stored nowhere in plain).
        password: Zeroizing<String>,
    },
}

/// Creates an admin `email` with `password` (validated like any new password).
pub fn create_admin(state: &AppState, email: &str, password: &str) -> anyhow::Result<()> {
    let email = validate::email(email).map_err(|m| anyhow::anyhow!("email {m}"))?;
    validate::new_password(password, &email).map_err(|m| anyhow::anyhow!("password {m}"))?;
    let hash = state.hasher.hash_blocking(password)?;
    let row = UserRow::new(email, Role::Admin, hash, false);
    let mut conn = state.pool.get().context("connecting to the database")?;
    conn.transaction(|conn| users::insert(conn, &row))
        .map_err(|e| anyhow::anyhow!("creating the admin: {e}"))
}

/// On a database without an active admin, creates one from the bootstrap settings, or
/// `admin@medvault.local` with a random password that must be changed at first sign-in.
pub fn ensure_admin(state: &AppState) -> anyhow::Result<Bootstrap> {
    let mut conn = state.pool.get().context("connecting to the database")?;
    if users::active_admin_exists(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))? {
        return Ok(Bootstrap::Existing);
    }
    drop(conn);
    let boot = &state.config.bootstrap;
    if let (Some(email), Some(password)) = (&boot.admin_email, &boot.admin_password) {
        create_admin(state, email, password.expose_secret())?;
        return Ok(Bootstrap::FromConfig(email.trim().to_lowercase()));
    }
    let password = temporary_password();
    let hash = state.hasher.hash_blocking(&password)?;
    let row = UserRow::new(DEFAULT_ADMIN_EMAIL.into(), Role::Admin, hash, true).without_expiry();
    let mut conn = state.pool.get().context("connecting to the database")?;
    users::insert(&mut conn, &row).map_err(|e| anyhow::anyhow!("creating the admin: {e}"))?;
    Ok(Bootstrap::Generated {
        email: DEFAULT_ADMIN_EMAIL.into(),
        password,
    })
}
