//! `medvault storage status | scrub | drain` as an operator runs them (the real binary, on the
//! embedded default: SQLite and six directory buckets). The work behind them is tested with
//! real damage in the black-box suite (`tests/tests/records/storage.rs`); here: the commands,
//! their output, their exit status and their refusals.

use std::process::{Command, Output};

fn medvault(data_dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medvault"))
        .args(args)
        .env("MEDVAULT_DATA_DIR", data_dir)
        .env_remove("MEDVAULT_CONFIG")
        .env_remove("MEDVAULT_DATABASE_URL")
        .output()
        .expect("run medvault")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn storage_commands_report_and_refuse() {
    let dir = tempfile::tempdir().expect("data dir");
    // An empty vault: nothing to scrub, all counts zero.
    let status = medvault(dir.path(), &["storage", "status"]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    assert_eq!(v["records"], 0);
    assert_eq!(v["classes"]["unscrubbed"], 0);
    assert!(v["last_scrub_at"].is_null());
    let scrub = medvault(dir.path(), &["storage", "scrub", "--repair"]);
    assert!(scrub.status.success(), "{}", text(&scrub.stderr));
    assert!(
        text(&scrub.stderr).contains("scrubbed 0 records"),
        "{}",
        text(&scrub.stderr)
    );
    let one = medvault(
        dir.path(),
        &[
            "storage",
            "scrub",
            "--record",
            "6f1c2a7e-0d1b-4c4e-9a55-1f6e0c3b2a10",
        ],
    );
    assert!(one.status.success(), "{}", text(&one.stderr));
    let bad = medvault(dir.path(), &["storage", "scrub", "--record", "not-an-id"]);
    assert!(!bad.status.success());
    // Draining one of six buckets would leave fewer than k + m = 6: refused.
    let drain = medvault(dir.path(), &["storage", "drain", "dir-1"]);
    assert!(!drain.status.success());
    assert!(
        text(&drain.stderr).contains("leaves 5 buckets"),
        "{}",
        text(&drain.stderr)
    );
    let unknown = medvault(dir.path(), &["storage", "drain", "nowhere"]);
    assert!(text(&unknown.stderr).contains("not in the storage configuration"));
    let provider = medvault(dir.path(), &["storage", "drain", "--provider", "elsewhere"]);
    assert!(!provider.status.success());
    assert!(text(&provider.stderr).contains("no configured bucket has provider"));
    // Each directory bucket is its own provider by default.
    let own = medvault(dir.path(), &["storage", "drain", "--provider", "dir:dir-1"]);
    assert!(
        text(&own.stderr).contains("leaves 5 buckets"),
        "{}",
        text(&own.stderr)
    );
}
