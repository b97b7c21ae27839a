//! `medvault admin unlock EMAIL` and `medvault admin reset-mfa EMAIL`: the operator lifts a
//! sign-in lock, or removes a lost sign-in authenticator, from the command line; each is
//! ledgered (no actor: the operator is not an account), and an unknown e-mail is exit 1.

use std::process::Command;

use diesel::prelude::*;
use medvault_server::accounts::users::{self, UserRow};
use medvault_server::auth::throttle;
use medvault_server::db::{self, schema::login_attempts};
use medvault_types::Role;
use secrecy::SecretString;

fn unlock(data_dir: &std::path::Path, email: &str) -> (i32, String) {
    admin(data_dir, "unlock", email)
}

fn admin(data_dir: &std::path::Path, action: &str, email: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_medvault"))
        .args(["admin", action, email])
        .env("MEDVAULT_DATA_DIR", data_dir)
        .env_remove("MEDVAULT_DATABASE_URL")
        .env_remove("MEDVAULT_CONFIG")
        .output()
        .expect("run medvault");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().expect("exit code"), text)
}

/// A fresh SQLite database in a temporary data directory (kept alive by the returned guard).
fn database() -> (tempfile::TempDir, db::Pool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url: SecretString = dir
        .path()
        .join("medvault.db")
        .to_string_lossy()
        .into_owned()
        .into();
    let pool = db::connect(&url, 1, std::time::Duration::from_secs(10)).expect("database");
    (dir, pool)
}

#[test]
fn cli_lifts_a_sign_in_lock() {
    let (dir, pool) = database();
    let mut conn = pool.get().expect("connection");
    let user = UserRow::new(
        "locked@clinic.example".into(),
        Role::Doctor,
        "x".into(),
        false,
    );
    let key = throttle::Keys::new(&user.email, "192.0.2.7".parse().expect("ip")).lock;
    let until = chrono::Utc::now().naive_utc() + chrono::Duration::hours(1);
    db::write_transaction(&mut conn, |c| {
        users::insert(c, &user)?;
        diesel::insert_into(login_attempts::table)
            .values((
                login_attempts::email_hash.eq(&key),
                login_attempts::failures.eq(8_i64),
                login_attempts::last_failure.eq(chrono::Utc::now().naive_utc()),
                login_attempts::locked_until.eq(Some(until)),
            ))
            .execute(c)?;
        Ok(())
    })
    .expect("a locked account");
    let blocked = |conn: &mut db::DbConn| {
        throttle::is_account_blocked(
            conn,
            "locked@clinic.example",
            chrono::Utc::now().naive_utc(),
        )
        .expect("read")
    };
    assert!(blocked(&mut conn));

    let (code, text) = unlock(dir.path(), "Locked@Clinic.example ");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("lock lifted"), "{text}");
    assert!(!blocked(&mut conn));
    let unlocks = entries(&mut conn, "user.unlock");
    assert_eq!(unlocks.len(), 1, "{unlocks:?}");
    assert_eq!(unlocks[0].0, None, "the operator is no account");
    assert!(unlocks[0].1.contains("\"was_blocked\":true"), "{unlocks:?}");

    let (code, text) = unlock(dir.path(), "nobody@clinic.example");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("no account"), "{text}");
}

/// The entries of `action` as (actor, payload).
fn entries(conn: &mut db::DbConn, action: &str) -> Vec<(Option<String>, String)> {
    use medvault_server::db::schema::ledger;
    ledger::table
        .filter(ledger::action.eq(action))
        .select((ledger::actor, ledger::payload))
        .load(conn)
        .expect("ledger")
}

#[test]
fn cli_resets_a_lost_authenticator() {
    use medvault_server::db::schema::{mfa_factors, sessions};
    let (dir, pool) = database();
    let mut conn = pool.get().expect("connection");
    let user = UserRow::new(
        "only.admin@clinic.example".into(),
        Role::Admin,
        "x".into(),
        false,
    );
    let now = chrono::Utc::now().naive_utc();
    db::write_transaction(&mut conn, |c| {
        users::insert(c, &user)?;
        diesel::insert_into(mfa_factors::table)
            .values((
                mfa_factors::user_id.eq(&user.id),
                mfa_factors::secret_enc.eq(vec![1_u8; 48]),
                mfa_factors::confirmed_at.eq(Some(now)),
                mfa_factors::created_at.eq(now),
            ))
            .execute(c)?;
        diesel::insert_into(sessions::table)
            .values((
                sessions::id.eq("s-1"),
                sessions::user_id.eq(&user.id),
                sessions::created_at.eq(now),
                sessions::expires_at.eq(now + chrono::Duration::hours(1)),
            ))
            .execute(c)?;
        Ok(())
    })
    .expect("an admin with an authenticator");

    let (code, text) = admin(dir.path(), "reset-mfa", "Only.Admin@clinic.example");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("authenticator removed"), "{text}");
    let left: i64 = mfa_factors::table
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(left, 0);
    let revoked: Option<chrono::NaiveDateTime> = sessions::table
        .find("s-1")
        .select(sessions::revoked_at)
        .first(&mut conn)
        .expect("session");
    assert!(revoked.is_some(), "its sessions are signed out");
    let resets = entries(&mut conn, "mfa.reset");
    assert_eq!(resets.len(), 1, "{resets:?}");
    assert_eq!(resets[0].0, None, "the operator is no account");

    let (code, text) = admin(dir.path(), "reset-mfa", "only.admin@clinic.example");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("had no sign-in authenticator"), "{text}");
    assert_eq!(
        entries(&mut conn, "mfa.reset").len(),
        1,
        "nothing to ledger the second time"
    );
    let (code, text) = admin(dir.path(), "reset-mfa", "nobody@clinic.example");
    assert_eq!(code, 1, "{text}");
}
