//! `medvault ledger verify`: exit 0 with a report on an intact chain, exit 1 naming the first
//! broken entry after a row is edited behind the server's back.

use std::process::Command;

use diesel::RunQueryDsl;
use medvault_server::db;
use medvault_server::ledger::{self, NewEntry};
use secrecy::SecretString;
use serde_json::Value;

fn verify(data_dir: &std::path::Path) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_medvault"))
        .args(["ledger", "verify"])
        .env("MEDVAULT_DATA_DIR", data_dir)
        .env_remove("MEDVAULT_DATABASE_URL")
        .env_remove("MEDVAULT_CONFIG")
        .output()
        .expect("run medvault");
    let report = serde_json::from_slice(&out.stdout).expect("JSON report on stdout");
    (out.status.code().expect("exit code"), report)
}

#[test]
fn cli_verifies_and_names_the_first_broken_entry() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url: SecretString = dir
        .path()
        .join("medvault.db")
        .to_string_lossy()
        .into_owned()
        .into();
    let pool = db::connect(&url, 1, std::time::Duration::from_secs(10)).expect("database");
    let mut conn = pool.get().expect("connection");
    for n in 0..5 {
        let entry = NewEntry::new(None, ledger::Action::UserUpdate, format!("thing:{n}"))
            .payload(serde_json::json!({ "n": n }));
        db::write_transaction(&mut conn, |c| ledger::append(c, &entry)).expect("append");
    }

    let (code, report) = verify(dir.path());
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["entries"], 5);

    diesel::sql_query("UPDATE ledger SET payload = '{\"n\":99}' WHERE seq = 3")
        .execute(&mut *conn)
        .expect("tamper");
    let (code, report) = verify(dir.path());
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_broken_seq"], 3);
}
