//! The server's layering rules, checked on its source: handlers in `routes/` make no SQL and
//! open no transaction, domain modules never reach up into `routes/`, and ids are typed.

use std::fs;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn server_sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            (rel, fs::read_to_string(&p).expect("readable source"))
        })
        .collect()
}

#[test]
fn routes_hold_no_sql_and_no_transactions() {
    for (path, text) in server_sources() {
        if !path.starts_with("routes/") {
            continue;
        }
        for forbidden in [
            "diesel",
            "db::",
            "crate::db",
            "schema::",
            "write_transaction",
        ] {
            assert!(
                !text.contains(forbidden),
                "{path} uses `{forbidden}`: handlers call one use case, never the database"
            );
        }
    }
}

#[test]
fn only_the_app_and_the_spec_depend_on_routes() {
    for (path, text) in server_sources() {
        if path.starts_with("routes/") || path == "lib.rs" || path == "openapi.rs" {
            continue;
        }
        assert!(
            !text.contains("crate::routes") && !text.contains("routes::"),
            "{path} imports from routes/: domain modules must not depend on handlers"
        );
    }
}

#[test]
fn ids_and_ledger_actions_are_typed() {
    for (path, text) in server_sources() {
        assert!(!text.contains("parse_id"), "{path}: use the id types");
        if path == "ledger/action.rs" {
            continue;
        }
        // The action is `NewEntry::new`'s second argument, `user_event`'s third.
        for (call, skip) in [("NewEntry::new(", 1), ("user_event(", 2)] {
            for (at, _) in text.match_indices(call) {
                let args = &text[at + call.len()..];
                let action = args
                    .splitn(skip + 1, ',')
                    .nth(skip)
                    .unwrap_or("")
                    .trim_start();
                assert!(
                    !action.starts_with('"'),
                    "{path}: ledger actions are `Action` variants, not strings"
                );
            }
        }
    }
}
