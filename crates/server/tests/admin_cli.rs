//! `medvault admin unlock EMAIL`: the operator lifts a sign-in lock from the command line; the
//! lift is ledgered (no actor: the operator is not an account), and an unknown e-mail is exit 1.

use std::process::Command;

use diesel::prelude::*;
use medvault_server::accounts::users::{self, UserRow};
use medvault_server::auth::throttle;
use medvault_server::db::{self, schema::login_attempts};
use medvault_types::Role;
use secrecy::SecretString;

fn unlock(data_dir: &std::path::Path, email: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_medvault"))
        .args(["admin", "unlock", email])
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

#[test]
fn cli_lifts_a_sign_in_lock() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url: SecretString = dir
        .path()
        .join("medvault.db")
        .to_string_lossy()
        .into_owned()
        .into();
    let pool = db::connect(&url, 1).expect("database");
    let mut conn = pool.get().expect("connection");
    let user = UserRow::new(
        "locked@clinic.example".into(),
        Role::Doctor,
        "x".into(),
        false,
    );
    let key = throttle::email_key(&user.email);
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
    assert!(throttle::is_blocked(&mut conn, &key, chrono::Utc::now().naive_utc()).expect("read"));

    let (code, text) = unlock(dir.path(), "Locked@Clinic.example ");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("lock lifted"), "{text}");
    assert!(!throttle::is_blocked(&mut conn, &key, chrono::Utc::now().naive_utc()).expect("read"));
    let entries: Vec<(Option<String>, String)> = medvault_server::db::schema::ledger::table
        .filter(medvault_server::db::schema::ledger::action.eq("user.unlock"))
        .select((
            medvault_server::db::schema::ledger::actor,
            medvault_server::db::schema::ledger::payload,
        ))
        .load(&mut conn)
        .expect("ledger");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].0, None, "the operator is no account");
    assert!(entries[0].1.contains("\"was_blocked\":true"), "{entries:?}");

    let (code, text) = unlock(dir.path(), "nobody@clinic.example");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("no account"), "{text}");
}
