//! Storage that heals itself (issue 13): scrub finds every damaged shard without a key,
//! repair rebuilds it, a download that met erasures queues its record (at risk first),
//! misplaced stripes are re-spread by the placement rule, a drained bucket is emptied (also
//! after the drain process is killed with `SIGKILL`) and can then leave the configuration, which the
//! server refuses while manifests still name it; a server killed during a background repair
//! pass loses nothing; and a backup restored into a fresh data directory reads back. Every record is compared by SHA-256 through the API.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use diesel::prelude::*;
use medvault_engine::store::BlobStore;
use medvault_engine::{BucketConfig, HealOptions, Manifest, ScrubMode, ShardEntry};
use medvault_server::config::Config;
use medvault_server::state::AppState;
use medvault_server::storage::{drain, health, scrubber};
use medvault_tests::records::{
    TEST_CHUNK, TEST_STRIPE, Upload, assert_ledger_ok, download_identical, ledger_all, pdf_bytes,
    small_chunks, stored_files, upload_ok,
};
use medvault_tests::{Backend, TestApp, expect_json, on_both_backends, state_on};
use medvault_types::{RecordId, RecordMeta, StorageOverview};
use reqwest::StatusCode;

on_both_backends!(scrub_repairs_damage_and_at_risk_goes_first);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misplaced_stripes_are_respread() {
    misplaced(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_empties_a_bucket_that_can_then_leave() {
    drain_then_remove(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_drain_finishes_when_run_again() {
    killed_drain().await;
}

/// Env var naming the configuration file of a drain run as a child process.
const CHILD_CONFIG: &str = "MEDVAULT_TEST_DRAIN_CONFIG";

/// The drain process [`killed_drain`] starts (this test binary again, running only this
/// test): drains `dir-0` of the configuration in [`CHILD_CONFIG`], printing progress to
/// stderr and the report to stdout, as `medvault storage drain` does. Without the variable
/// (a normal test run) there is nothing to drain and it returns at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_process() {
    let Ok(path) = std::env::var(CHILD_CONFIG) else {
        return;
    };
    let cfg = Config::from_file(Path::new(&path)).expect("child config");
    let state = state_on(&cfg).await.expect("child state");
    let report = drain::drain(&state, &["dir-0".to_owned()], |done, total, _| {
        eprintln!("drain: {done}/{total}");
    })
    .await
    .expect("drain");
    println!("REPORT {}", serde_json::to_string(&report).expect("json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_a_background_repair_pass_loses_nothing() {
    killed_background_repair().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_into_a_fresh_data_directory() {
    backup_and_restore().await;
}

/// A running app, its configuration, a second state on the same database and buckets (what
/// the `medvault storage` commands build), and raw access to every bucket.
struct Vault {
    app: TestApp,
    config: Config,
    state: Arc<AppState>,
    stores: HashMap<String, Arc<dyn BlobStore>>,
}

/// Eight directory buckets (more than k + m = 6, so one can be drained).
fn eight_dirs(cfg: &mut Config) {
    cfg.storage.buckets = (0..8)
        .map(|i| BucketConfig::Dir {
            name: format!("dir-{i}"),
            path: cfg.data_dir.join("buckets").join(format!("b{i}")),
            provider: None,
        })
        .collect();
}

async fn vault(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Vault {
    let mut seen = None;
    let app = TestApp::spawn_with(backend, |c| {
        small_chunks(c);
        tweak(c);
        seen = Some(c.clone());
    })
    .await;
    let config = seen.expect("the harness applies the tweak");
    let state = state_on(&config).await.expect("second state");
    let stores = config
        .effective_storage()
        .buckets
        .iter()
        .map(|b| (b.name().to_owned(), b.open().expect("store")))
        .collect();
    Vault {
        app,
        config,
        state,
        stores,
    }
}

impl Vault {
    async fn manifest(&self, id: RecordId) -> Manifest {
        medvault_tests::records::stored_manifest(&self.state.pool, id).await
    }

    async fn delete(&self, e: &ShardEntry) {
        self.stores[&e.bucket].delete(&e.key).await.expect("delete");
    }

    async fn flip(&self, e: &ShardEntry) {
        let store = &self.stores[&e.bucket];
        let mut d = store.get(&e.key, e.len).await.expect("read").to_vec();
        d[0] ^= 1;
        store.put(&e.key, Bytes::from(d)).await.expect("write");
    }

    async fn truncate(&self, e: &ShardEntry) {
        let store = &self.stores[&e.bucket];
        let d = store.get(&e.key, e.len).await.expect("read");
        store
            .put(&e.key, d.slice(..d.len() - 1))
            .await
            .expect("write");
    }

    async fn pass(&self, ids: &[RecordId], opts: &HealOptions) -> scrubber::PassReport {
        scrubber::pass(&self.state, ids, opts, 0, |_, _| {}).await
    }

    async fn overview(&self, admin: &str) -> StorageOverview {
        expect_json(
            self.app.get("/api/v1/admin/storage", Some(admin)).await,
            StatusCode::OK,
        )
        .await
    }
}

/// Uploads `sizes` as PDFs; returns each record with its bytes.
async fn upload_all(app: &TestApp, token: &str, sizes: &[usize]) -> Vec<(RecordMeta, Vec<u8>)> {
    let mut out = Vec::new();
    for &n in sizes {
        let bytes = pdf_bytes(n);
        let meta = upload_ok(app, token, &Upload::pdf(bytes.clone())).await;
        out.push((meta, bytes));
    }
    out
}

/// Shard `index` of stripe `stripe`.
fn shard(m: &Manifest, stripe: u64, index: u32) -> ShardEntry {
    m.shards
        .iter()
        .find(|e| e.stripe == stripe && e.index == index)
        .expect("shard")
        .clone()
}

/// Every stripe: distinct buckets, at most `cap` shards per provider (`providers` by bucket).
fn assert_placed(m: &Manifest, providers: &HashMap<String, String>, cap: usize) {
    let stripes = m.shards.last().map_or(0, |e| e.stripe + 1);
    for s in 0..stripes {
        let buckets: Vec<&str> = m
            .shards
            .iter()
            .filter(|e| e.stripe == s)
            .map(|e| e.bucket.as_str())
            .collect();
        let distinct: HashSet<&str> = buckets.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            buckets.len(),
            "stripe {s}: two shards in one bucket"
        );
        let mut per: BTreeMap<&str, usize> = BTreeMap::new();
        for b in &buckets {
            *per.entry(providers[*b].as_str()).or_default() += 1;
        }
        assert!(
            per.values().all(|&n| n <= cap),
            "stripe {s}: {per:?} over {cap} per provider"
        );
    }
}

/// Scrub finds the damage (up to m shards per stripe, three kinds), a download that met an
/// erasure queues its record, at-risk records come first, repair rebuilds every shard in
/// place, and every record reads back byte-identical.
#[allow(clippy::too_many_lines)] // one scenario, read top to bottom
async fn scrub_repairs_damage_and_at_risk_goes_first(backend: Backend) {
    let v = vault(backend, |_| {}).await;
    let cast = v.app.cast().await;
    let patient = &cast.patient;
    // One small record (one stripe of 1 data + 2 parity shards) and two of several stripes.
    let recs = upload_all(
        &v.app,
        &patient.token,
        &[3_000, TEST_STRIPE + 4_321, 3 * TEST_STRIPE + 77],
    )
    .await;
    let ids: Vec<RecordId> = recs.iter().map(|(m, _)| m.id).collect();
    let man: Vec<Manifest> = {
        let mut out = Vec::new();
        for &id in &ids {
            out.push(v.manifest(id).await);
        }
        out
    };
    // Record 0 loses its data shard: degraded (and a download meets the erasure).
    v.delete(&shard(&man[0], 0, 0)).await;
    // Record 1: stripe 0 loses two shards (a data shard flipped, a parity shard deleted).
    v.flip(&shard(&man[1], 0, 1)).await;
    v.delete(&shard(&man[1], 0, 5)).await;
    // Record 2: stripe 1 one truncated data shard, stripe 3 (the last, 1 data shard) two.
    v.truncate(&shard(&man[2], 1, 3)).await;
    v.delete(&shard(&man[2], 3, 0)).await;
    v.flip(&shard(&man[2], 3, 2)).await;
    let damaged = 6;

    // A download still reads back identical, and queues its record for repair.
    download_identical(&v.app, &patient.token, &recs[0].0, &recs[0].1).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let queued = medvault_server::db::run(&v.state.pool, |c| health::next_batch(c, 10))
            .await
            .expect("queue");
        if queued.first() == Some(&ids[0]) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the download did not queue its record: {queued:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A check finds all of it and writes nothing.
    let check = v.pass(&ids, &HealOptions::new(ScrubMode::Check)).await;
    assert_eq!(check.records, 3);
    assert_eq!(check.rebuilt, 0);
    assert_eq!(check.classes.get("degraded"), Some(&1), "{check:?}");
    assert_eq!(check.classes.get("at_risk"), Some(&2), "{check:?}");
    let seen = v.overview(&cast.admin.token).await;
    assert_eq!(
        (seen.records, seen.classes.degraded, seen.classes.at_risk),
        (3, 1, 2)
    );
    assert_eq!(seen.repairs_queued, 3);
    assert!(seen.last_scrub_at.is_some());
    // At risk before degraded.
    let order = medvault_server::db::run(&v.state.pool, |c| health::next_batch(c, 10))
        .await
        .expect("queue");
    assert_eq!(order.len(), 3);
    assert_eq!(
        order[2], ids[0],
        "the degraded record comes after the ones at risk"
    );

    // Repair rebuilds every damaged shard, in place (each bucket held no other shard of its
    // stripe), so the manifests do not change.
    let repair = v.pass(&order, &HealOptions::new(ScrubMode::Repair)).await;
    assert_eq!(repair.rebuilt, damaged, "{repair:?}");
    assert_eq!(repair.new_manifests, 0);
    assert_eq!(repair.classes.get("healthy"), Some(&3), "{repair:?}");
    for (id, before) in ids.iter().zip(&man) {
        assert_eq!(&v.manifest(*id).await, before);
    }
    let again = v.pass(&ids, &HealOptions::new(ScrubMode::Check)).await;
    assert!(again.all_healthy(), "{again:?}");
    let seen = v.overview(&cast.admin.token).await;
    assert_eq!((seen.classes.healthy, seen.repairs_queued), (3, 0));
    for (meta, bytes) in &recs {
        download_identical(&v.app, &patient.token, meta, bytes).await;
    }
    assert_ledger_ok(&v.app, &cast.admin.token).await;
}

/// Stripes that break the placement rule (here: after the operator says four of the six
/// buckets are one provider) are found misplaced and re-spread onto buckets of other
/// providers; each record gets a new manifest, ledgered with the old and the new root, and
/// downloads accept it.
async fn misplaced(backend: Backend) {
    let v = vault(backend, |_| {}).await;
    let cast = v.app.cast().await;
    let patient = &cast.patient;
    // Whole stripes only: each has six shards on the six buckets, so four on "p1" below.
    let recs = upload_all(&v.app, &patient.token, &[TEST_STRIPE * 2, TEST_STRIPE]).await;
    let ids: Vec<RecordId> = recs.iter().map(|(m, _)| m.id).collect();
    // Same buckets, four of them now one provider, and two more buckets of a third.
    let mut cfg = v.config.clone();
    let mut buckets = cfg.effective_storage().buckets;
    for (i, b) in buckets.iter_mut().enumerate() {
        if let BucketConfig::Dir { provider, .. } = b {
            *provider = Some(if i < 4 { "p1" } else { "p2" }.to_owned());
        }
    }
    for i in 7..9 {
        buckets.push(BucketConfig::Dir {
            name: format!("dir-{i}"),
            path: cfg.data_dir.join("buckets").join(format!("b{i}")),
            provider: Some("p3".to_owned()),
        });
    }
    let providers: HashMap<String, String> = buckets
        .iter()
        .map(|b| (b.name().to_owned(), b.provider()))
        .collect();
    cfg.storage.buckets = buckets;
    let state = state_on(&cfg).await.expect("state with providers");
    let found = scrubber::pass(
        &state,
        &ids,
        &HealOptions::new(ScrubMode::Check),
        0,
        |_, _| {},
    )
    .await;
    assert_eq!(found.classes.get("misplaced"), Some(&2), "{found:?}");
    let fixed = scrubber::pass(
        &state,
        &ids,
        &HealOptions::new(ScrubMode::Repair),
        0,
        |_, _| {},
    )
    .await;
    assert_eq!(fixed.classes.get("healthy"), Some(&2), "{fixed:?}");
    assert_eq!(fixed.new_manifests, 2);
    // Every stripe had four shards on p1: two moved.
    let stripes: usize = 2 + 1;
    assert_eq!(fixed.moved, 2 * stripes, "{fixed:?}");
    assert_eq!(fixed.rebuilt, 0);
    let entries = ledger_all(&v.app, &cast.admin.token).await;
    for &id in &ids {
        let m = v.manifest(id).await;
        assert_placed(&m, &providers, 2);
        let repair = entries
            .iter()
            .find(|e| e.action == "record.repair" && e.subject == format!("record:{id}"))
            .expect("record.repair entry");
        assert_eq!(repair.payload["manifest_root"], m.root_hash);
        assert_ne!(repair.payload["old_root"], m.root_hash);
        assert_eq!(
            repair.payload["moved"],
            2 * if id == ids[0] { 2 } else { 1 }
        );
    }
    // The app still runs the six-bucket configuration: a second app on the same database
    // and buckets with the new one serves the re-spread records.
    let app2 = TestApp::spawn_with(backend, |c| *c = cfg.clone()).await;
    for (meta, bytes) in &recs {
        download_identical(&app2, &patient.token, meta, bytes).await;
    }
    assert_ledger_ok(&app2, &cast.admin.token).await;
}

/// Drains a bucket holding shards of every record (one of them already damaged there): every
/// shard moves to a bucket holding no other shard of its stripe, the bucket is left empty,
/// the server refuses to start without it before the drain and starts after.
async fn drain_then_remove(backend: Backend) {
    let v = vault(backend, eight_dirs).await;
    let cast = v.app.cast().await;
    let patient = &cast.patient;
    let recs = upload_all(
        &v.app,
        &patient.token,
        &[TEST_STRIPE * 3 + 5, 20_000, TEST_CHUNK * 5],
    )
    .await;
    let drained = "dir-0".to_owned();
    let mut in_drained = 0;
    for (meta, _) in &recs {
        let m = v.manifest(meta.id).await;
        in_drained += m.shards.iter().filter(|e| e.bucket == drained).count();
        if let Some(e) = m.shards.iter().find(|e| e.bucket == drained)
            && meta.id == recs[0].0.id
        {
            v.delete(e).await; // damaged where it is: rebuilt, not copied
        }
    }
    assert!(
        in_drained > 0,
        "random placement put nothing in {drained}; the test needs some"
    );
    let without = {
        let mut c = v.config.clone();
        c.storage.buckets.retain(|b| b.name() != drained);
        c
    };
    let refused = state_on(&without)
        .await
        .expect_err("a bucket manifests name is missing");
    let msg = format!("{refused:#}");
    assert!(
        msg.contains("\"dir-0\"") && msg.contains("records"),
        "{msg}"
    );

    let report = drain::drain(&v.state, std::slice::from_ref(&drained), |_, _, _| {})
        .await
        .expect("drain");
    assert_eq!(report.remaining, 0, "{report:?}");
    assert_eq!(report.moved + report.rebuilt, in_drained, "{report:?}");
    assert!(report.rebuilt >= 1);
    let dir = v.config.data_dir.join("buckets").join("b0");
    assert!(
        stored_files(&dir).is_empty(),
        "left in the drained bucket: {:?}",
        stored_files(&dir)
    );
    let providers: HashMap<String, String> = v
        .config
        .storage
        .buckets
        .iter()
        .map(|b| (b.name().to_owned(), b.provider()))
        .collect();
    for (meta, _) in &recs {
        let m = v.manifest(meta.id).await;
        assert!(m.shards.iter().all(|e| e.bucket != drained));
        assert_placed(&m, &providers, 2);
    }
    let entries = ledger_all(&v.app, &cast.admin.token).await;
    let drain_entry = entries
        .iter()
        .find(|e| e.action == "storage.drain")
        .expect("storage.drain entry");
    assert_eq!(drain_entry.payload["remaining"], 0);
    // Now the bucket can leave the configuration.
    serves_healthy_with(backend, &without, &recs, &patient.token, &cast.admin.token).await;
    drop(v);
}

/// A server process whose background scrubber is repairing damaged records (slowly: 1 MiB/s
/// of shard reads) is killed with `SIGKILL` once some, not all, are repaired. A pass run
/// afterwards rebuilds exactly the shards still missing; every record is then healthy and
/// reads back identical, the ledger verifies, and after the collector neither an orphan
/// shard nor a temporary file is left.
async fn killed_background_repair() {
    let v = vault(Backend::Sqlite, |_| {}).await;
    let cast = v.app.cast().await;
    let patient = &cast.patient;
    let sizes: Vec<usize> = (0..8).map(|i| 4 * TEST_STRIPE + i * 101).collect();
    let recs = upload_all(&v.app, &patient.token, &sizes).await;
    let ids: Vec<RecordId> = recs.iter().map(|(m, _)| m.id).collect();
    // Each record loses the first data shard of its first stripe.
    let mut lost = Vec::new();
    for &id in &ids {
        let e = shard(&v.manifest(id).await, 0, 0);
        v.delete(&e).await;
        lost.push(e);
    }
    let back = || async {
        let mut n = 0;
        for e in &lost {
            if v.stores[&e.bucket].get(&e.key, e.len).await.is_ok() {
                n += 1;
            }
        }
        n
    };

    let mut cfg = v.config.clone();
    cfg.scrub.interval_secs = 1;
    cfg.scrub.max_mib_per_sec = 1;
    let conf = cfg.data_dir.join("scrubbing.toml");
    let server = tokio::task::spawn_blocking(move || crate::crash::start_server(&cfg, &conf))
        .await
        .expect("server process");
    let deadline = Instant::now() + Duration::from_secs(60);
    while back().await == 0 {
        assert!(
            Instant::now() < deadline,
            "the background scrubber repaired nothing in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill();
    let repaired = back().await;
    assert!(
        repaired < lost.len(),
        "the kill came after the whole pass ({repaired} of {})",
        lost.len()
    );

    let rest = v.pass(&ids, &HealOptions::new(ScrubMode::Repair)).await;
    assert_eq!(rest.rebuilt, lost.len() - repaired, "{rest:?}");
    assert_eq!(rest.errors, 0, "{rest:?}");
    let again = v.pass(&ids, &HealOptions::new(ScrubMode::Check)).await;
    assert!(again.all_healthy(), "{again:?}");
    for (meta, bytes) in &recs {
        download_identical(&v.app, &patient.token, meta, bytes).await;
    }
    assert_ledger_ok(&v.app, &cast.admin.token).await;
    crate::crash::collected_clean(&v.config).await;
}

/// SIGKILLs a drain process after its first record, runs it again: it finishes, every
/// record reads back identical, the ledger verifies.
async fn killed_drain() {
    let v = vault(Backend::Sqlite, eight_dirs).await;
    let cast = v.app.cast().await;
    let patient = &cast.patient;
    let sizes: Vec<usize> = (0..8).map(|i| TEST_CHUNK * 2 * (i + 1) + i).collect();
    let recs = upload_all(&v.app, &patient.token, &sizes).await;
    let conf = v.config.data_dir.join("cli.toml");
    medvault_tests::child::write_config(&v.config, None, &conf);
    let me = std::env::current_exe().expect("test binary");
    let drain = |conf: &Path| {
        Command::new(&me)
            .args([
                "storage::drain_process",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_CONFIG, conf)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("drain process")
    };
    let mut first = drain(&conf);
    let stderr = first.stderr.take().expect("stderr");
    let mut progress = 0;
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("line");
        if line.starts_with("drain: ") {
            progress += 1;
            first.kill().expect("SIGKILL");
            break;
        }
    }
    let status = first.wait().expect("wait");
    assert!(
        progress == 1 && !status.success(),
        "killed midway: {status:?}"
    );
    let second = drain(&conf).wait_with_output().expect("second drain");
    assert!(
        second.status.success(),
        "second drain: {}",
        String::from_utf8_lossy(&second.stderr)
    );
    let out = String::from_utf8_lossy(&second.stdout);
    let line = out
        .lines()
        .find_map(|l| l.split_once("REPORT ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("no report from the second drain: {out}"));
    let report: serde_json::Value = serde_json::from_str(line).expect("report");
    assert_eq!(report["remaining"], 0);
    assert!(report["records"].as_u64().expect("records") < recs.len() as u64 + 1);
    for (meta, _) in &recs {
        assert!(
            v.manifest(meta.id)
                .await
                .shards
                .iter()
                .all(|e| e.bucket != "dir-0")
        );
    }
    for (meta, bytes) in &recs {
        download_identical(&v.app, &patient.token, meta, bytes).await;
    }
    assert_ledger_ok(&v.app, &cast.admin.token).await;
}

/// Backup (online SQLite copy, the buckets, the key ring kept apart) restored into a fresh
/// data directory: every record and visit note reads back, the ledger verifies.
async fn backup_and_restore() {
    let v = vault(Backend::Sqlite, |_| {}).await;
    let cast = v.app.cast().await;
    let patient = &cast.patient;
    let recs = upload_all(&v.app, &patient.token, &[TEST_STRIPE + 9, 777]).await;
    let backup = tempfile::tempdir().expect("backup dir");
    let keys_apart = tempfile::tempdir().expect("key ring dir");
    // The database, copied online and consistently.
    let db_copy = backup.path().join("medvault.db");
    {
        use secrecy::ExposeSecret as _;
        let url = v.config.effective_database_url().expose_secret().to_owned();
        let mut conn = diesel::SqliteConnection::establish(&url).expect("sqlite");
        diesel::sql_query(format!("VACUUM INTO '{}'", db_copy.display()))
            .execute(&mut conn)
            .expect("VACUUM INTO");
    }
    copy_dir(
        &v.config.data_dir.join("buckets"),
        &backup.path().join("buckets"),
    );
    std::fs::copy(
        v.config.data_dir.join("master-keys"),
        keys_apart.path().join("master-keys"),
    )
    .expect("key ring");
    // Restore into a fresh data directory.
    let fresh = tempfile::tempdir().expect("fresh data dir");
    std::fs::copy(&db_copy, fresh.path().join("medvault.db")).expect("restore db");
    copy_dir(
        &backup.path().join("buckets"),
        &fresh.path().join("buckets"),
    );
    let ring = fresh.path().join("master-keys");
    std::fs::copy(keys_apart.path().join("master-keys"), &ring).expect("restore ring");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&ring, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let mut cfg = v.config.clone();
    cfg.data_dir = fresh.path().to_path_buf();
    cfg.database_url = Some(
        fresh
            .path()
            .join("medvault.db")
            .display()
            .to_string()
            .into(),
    );
    cfg.storage.buckets.clear();
    drop(v);
    let restored = TestApp::spawn_with(Backend::Sqlite, |c| *c = cfg.clone()).await;
    let token = restored
        .login(&patient.email, medvault_tests::USER_PASSWORD)
        .await
        .access_token;
    for (meta, bytes) in &recs {
        download_identical(&restored, &token, meta, bytes).await;
    }
    let admin = restored.admin_token().await;
    assert_ledger_ok(&restored, &admin).await;
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Private Garage instances for one test (its own state directory and ports, so stopping one
/// for good touches no other test), stopped when dropped.
struct Garages {
    state: tempfile::TempDir,
    base: u16,
}

impl Garages {
    fn script() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/s3-servers.sh")
    }

    fn run(&self, args: &[&str]) {
        let out = Command::new("bash")
            .arg(Self::script())
            .args(args)
            .arg(self.state.path())
            .env("S3_PORT_BASE", self.base.to_string())
            .output()
            .expect("s3-servers.sh");
        assert!(
            out.status.success(),
            "s3-servers.sh {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Three instances (six buckets, the harness's layout) on ports from `base`.
    fn up(base: u16) -> Self {
        let g = Self {
            state: tempfile::tempdir().expect("garage state"),
            base,
        };
        g.run(&["up"]);
        g
    }

    fn storage(&self) -> medvault_engine::StorageConfig {
        let text = std::fs::read_to_string(self.state.path().join("storage.toml")).expect("toml");
        toml::from_str(&text).expect("storage config")
    }

    /// The two buckets of instance `i` (after `start i`).
    fn buckets_of(&self, i: u16) -> Vec<BucketConfig> {
        let dir = self.state.path().join(format!("g{i}"));
        let read = |f: &str| {
            std::fs::read_to_string(dir.join(f))
                .expect("key")
                .trim()
                .to_owned()
        };
        ["a", "b"]
            .iter()
            .map(|b| BucketConfig::S3 {
                name: format!("g{i}{b}"),
                bucket: format!("medvault-{i}{b}"),
                endpoint: Some(format!("http://127.0.0.1:{}", self.base + 10 * i)),
                region: "garage".to_owned(),
                path_style: true,
                access_key_id: read("key_id"),
                secret_access_key: read("key_secret").into(),
                provider: None,
            })
            .collect()
    }
}

impl Drop for Garages {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(Self::script())
            .arg("down")
            .arg(self.state.path())
            .env("S3_PORT_BASE", self.base.to_string())
            .output();
    }
}

/// On PostgreSQL and Garage: a fourth provider is added, the first is stopped for good and
/// drained while it is down (its shards rebuilt from the others, onto the new provider among
/// others), removed from the configuration, and every record reads back healthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_is_gone_is_drained_onto_a_new_one() {
    // Ports clear of the shared instances (`S3_PORT_BASE`, 3900 by default).
    let shared = std::env::var("S3_PORT_BASE")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3900);
    let garages = Garages::up(if shared == 5200 { 5300 } else { 5200 });
    garages.run(&["start", "4"]);
    let mut storage = garages.storage();
    storage.buckets.extend(garages.buckets_of(4));
    // Small chunks, so that the records make several full stripes: a stripe of one chunk has
    // only 1 + m shards, and three of those miss a provider's two buckets one time in 22.
    storage.chunk_size = TEST_CHUNK;
    let v = vault(Backend::Postgres, |c| c.storage = storage.clone()).await;
    let cast = v.app.cast().await;
    let patient = &cast.patient;
    let recs = upload_all(
        &v.app,
        &patient.token,
        &[TEST_STRIPE * 2 + 3, 9_000, TEST_CHUNK * 3],
    )
    .await;
    let mut on_first = 0;
    for (meta, _) in &recs {
        let m = v.manifest(meta.id).await;
        on_first += m
            .shards
            .iter()
            .filter(|e| e.bucket.starts_with("g1"))
            .count();
    }
    assert!(
        on_first > 0,
        "random placement put nothing on the first provider"
    );
    garages.run(&["stop", "1"]);
    let report = drain::drain(
        &v.state,
        &["g1a".to_owned(), "g1b".to_owned()],
        |_, _, _| {},
    )
    .await
    .expect("drain");
    assert_eq!(report.unreachable, vec!["g1a".to_owned(), "g1b".to_owned()]);
    assert_eq!(report.remaining, 0, "{report:?}");
    assert_eq!(
        report.moved, 0,
        "nothing can be read from a stopped provider"
    );
    assert_eq!(
        report.rebuilt, on_first,
        "every shard of the first provider rebuilt"
    );
    let mut without = v.config.clone();
    without
        .storage
        .buckets
        .retain(|b| !b.name().starts_with("g1"));
    let providers: HashMap<String, String> = without
        .storage
        .buckets
        .iter()
        .map(|b| (b.name().to_owned(), b.provider()))
        .collect();
    let mut on_new = 0;
    for (meta, _) in &recs {
        let m = v.manifest(meta.id).await;
        assert_placed(&m, &providers, 2);
        on_new += m
            .shards
            .iter()
            .filter(|e| e.bucket.starts_with("g4"))
            .count();
    }
    assert!(on_new > 0, "rebuilt shards landed on the new provider");
    serves_healthy_with(
        Backend::Postgres,
        &without,
        &recs,
        &patient.token,
        &cast.admin.token,
    )
    .await;
}

/// A server started with `config` serves every record byte-identical, a scrub with it finds
/// every one healthy, and the ledger verifies.
async fn serves_healthy_with(
    backend: Backend,
    config: &Config,
    recs: &[(RecordMeta, Vec<u8>)],
    patient: &str,
    admin: &str,
) {
    let app = TestApp::spawn_with(backend, |c| *c = config.clone()).await;
    for (meta, bytes) in recs {
        download_identical(&app, patient, meta, bytes).await;
    }
    let state = state_on(config)
        .await
        .expect("starts with the new configuration");
    let ids: Vec<RecordId> = recs.iter().map(|(m, _)| m.id).collect();
    let after = scrubber::pass(
        &state,
        &ids,
        &HealOptions::new(ScrubMode::Check),
        0,
        |_, _| {},
    )
    .await;
    assert!(after.all_healthy(), "{after:?}");
    assert_ledger_ok(&app, admin).await;
}
