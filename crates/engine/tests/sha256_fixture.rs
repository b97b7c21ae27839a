//! Records written before BLAKE3: SHA-256 shard hashes, manifests without `shard_hash` and with
//! the per-shard field named `sha256`. They must keep reading (byte-identical), keep the root
//! hash their ledger entry recorded, and stay scrubbable and repairable without a key. The
//! fixture in `tests/fixtures/sha256-k4m2` was written by the engine before BLAKE3 (see its
//! README); the tests work on a copy, never on the fixture itself. Also: new records use BLAKE3.

mod common;

use std::path::Path;

use common::{Fixture, SMALL_CHUNK, data, get, put, sha};
use futures_util::TryStreamExt;
use medvault_engine::{
    BucketConfig, Engine, EngineError, Manifest, RecordClass, ScrubMode, ShardHash, WrappedDek,
};
use uuid::Uuid;

/// SHA-256 of the fixture's plaintext (`common::data(8 * 4096 + 100, 2026)`).
const PLAINTEXT_SHA256: &str = "418f33c54fe9bd3d6192ef21beb1fd7ed1625878adb059f1580395e575a97c85";
/// The manifest's root hash as written in 2026-12 (what a server ledger recorded).
const LEDGER_ROOT: &str = "2436e006fa9f3d35156449799ba379383dab726b731a18fef6d9c012c2045841";
const RECORD_ID: &str = "5f1c0000-0000-4000-8000-000000000001";

fn fixture_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sha256-k4m2")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("entry");
        let dest = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).expect("copy");
        }
    }
}

/// A copy of the fixture's six buckets, and an engine over them (k=4, m=2, 4 KiB chunks).
fn fixture_copy() -> (tempfile::TempDir, Fixture, Engine) {
    let tmp = tempfile::tempdir().expect("tmp");
    let buckets: Vec<BucketConfig> = (0..6)
        .map(|i| {
            let path = tmp.path().join(format!("d{i}"));
            copy_tree(&fixture_dir().join(format!("d{i}")), &path);
            BucketConfig::Dir {
                name: format!("d{i}"),
                path,
                provider: None,
            }
        })
        .collect();
    let f = Fixture {
        stores: buckets
            .iter()
            .map(|b| (b.name().to_owned(), common::store_for(b)))
            .collect(),
        buckets,
        _tmp: None,
    };
    let e = f.engine(4, 2, SMALL_CHUNK);
    (tmp, f, e)
}

fn load() -> (Manifest, WrappedDek, Uuid) {
    let read = |name: &str| std::fs::read_to_string(fixture_dir().join(name)).expect("read");
    let manifest: Manifest = serde_json::from_str(&read("manifest.json")).expect("manifest");
    let wrapped: WrappedDek = serde_json::from_str(&read("wrapped_dek.json")).expect("dek");
    (manifest, wrapped, Uuid::parse_str(RECORD_ID).expect("id"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sha256_record_written_before_blake3_reads_back_identical() {
    let text = std::fs::read_to_string(fixture_dir().join("manifest.json")).expect("read");
    assert!(text.contains("\"sha256\"") && !text.contains("shard_hash"));
    let (man, w, id) = load();
    assert_eq!(man.shard_hash, ShardHash::Sha256);
    assert_eq!(man.root_hash, LEDGER_ROOT);
    assert_eq!(
        man.compute_root(),
        LEDGER_ROOT,
        "the ledger's root still matches"
    );
    man.validate().expect("valid");
    assert_eq!(man.shards.len(), 15, "three stripes: 4+2, 4+2, 1+2");

    let (_tmp, _f, e) = fixture_copy();
    let back = get(&e, &man, &w, id).await.expect("get");
    assert_eq!(hex::encode(sha(&back)), PLAINTEXT_SHA256);
    assert_eq!(sha(&back), sha(&data(8 * 4096 + 100, 2026)));

    // Written back as JSON by a new server, it keeps its algorithm and root.
    let again: Manifest =
        serde_json::from_str(&serde_json::to_string(&man).expect("json")).expect("parse");
    assert_eq!(again, man);
    assert_eq!(again.compute_root(), LEDGER_ROOT);

    // Relabelled as BLAKE3, the root changes (the ledger would notice), and even re-rooted no
    // shard verifies, so nothing is decoded.
    let mut relabelled = man.clone();
    relabelled.shard_hash = ShardHash::Blake3;
    assert_ne!(relabelled.compute_root(), LEDGER_ROOT);
    relabelled.root_hash = relabelled.compute_root();
    assert!(matches!(
        get(&e, &relabelled, &w, id).await,
        Err(EngineError::TooManyErasures { stripe: 0, .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sha256_record_is_scrubbed_and_repaired_without_a_key() {
    let (man, w, id) = load();
    let (_tmp, f, e) = fixture_copy();
    assert_eq!(
        e.scrub(&man, ScrubMode::Check)
            .await
            .expect("scrub")
            .class(),
        RecordClass::Healthy
    );
    let originals: Vec<bytes::Bytes> = {
        let mut v = Vec::new();
        for s in &man.shards {
            v.push(f.read_shard(s).await);
        }
        v
    };
    f.delete_shard(&man.shards[1]).await; // stripe 0, data
    f.flip_bit(&man.shards[5]).await; // stripe 0, parity
    f.flip_bit(&man.shards[12]).await; // stripe 2, its only data shard
    let found = e.scrub(&man, ScrubMode::Check).await.expect("check");
    assert_eq!(found.erasures.len(), 3);
    assert!(found.erasures.iter().any(|x| x.reason == "sha256 mismatch"));
    assert_eq!(found.class(), RecordClass::AtRisk);
    let fixed = e.scrub(&man, ScrubMode::Repair).await.expect("repair");
    assert_eq!(fixed.repaired.len(), 3, "{fixed:?}");
    assert!(
        e.scrub(&man, ScrubMode::Check)
            .await
            .expect("check")
            .is_healthy()
    );
    for (s, orig) in man.shards.iter().zip(&originals) {
        assert_eq!(&f.read_shard(s).await, orig);
    }
    let back = get(&e, &man, &w, id).await.expect("get");
    assert_eq!(hex::encode(sha(&back)), PLAINTEXT_SHA256);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_records_use_blake3_and_swapped_shards_are_erasures() {
    let f = Fixture::dir(6);
    let e = f.engine(4, 2, SMALL_CHUNK);
    let id = Uuid::new_v4();
    let bytes = data(9 * SMALL_CHUNK + 77, 21);
    let (man, w) = put(&e, id, &bytes).await;
    assert_eq!(man.shard_hash, ShardHash::Blake3);
    let json = serde_json::to_string(&man).expect("json");
    assert!(json.contains(r#""shard_hash":"blake3""#), "{json}");
    for s in &man.shards {
        let object = f.read_shard(s).await;
        assert_eq!(hex::encode(blake3::hash(&object).as_bytes()), s.hash);
    }
    // Relabelled as SHA-256 (what an old manifest would say): the root changes.
    let mut relabelled = man.clone();
    relabelled.shard_hash = ShardHash::Sha256;
    assert_ne!(relabelled.compute_root(), man.root_hash);

    // Swap the objects of two data shards of stripe 1 (same length): both are erasures, the
    // stripe is rebuilt from the others, and the record reads back identical.
    let (first, second) = (&man.shards[6], &man.shards[7]);
    let (first_bytes, second_bytes) = (f.read_shard(first).await, f.read_shard(second).await);
    f.write_shard(first, second_bytes).await;
    f.write_shard(second, first_bytes).await;
    let (stream, report) = e.get_with_report(&man, &w, id).expect("open");
    let back: Vec<bytes::Bytes> = stream.try_collect().await.expect("read");
    assert_eq!(sha(&back.concat()), sha(&bytes));
    let erasures = report.erasures();
    assert_eq!(erasures.len(), 2, "{erasures:?}");
    assert!(erasures.iter().all(|x| x.reason == "blake3 mismatch"));
    let fixed = e.scrub(&man, ScrubMode::Repair).await.expect("repair");
    assert_eq!(fixed.repaired.len(), 2);
    assert_eq!(
        e.scrub(&man, ScrubMode::Check)
            .await
            .expect("check")
            .class(),
        RecordClass::Healthy
    );
}
