//! `medvault keys status | rotate | retire` (master-key rotation by re-wrap), on SQLite and on
//! PostgreSQL (`MEDVAULT_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`;
//! directory buckets on both):
//!
//! * the acceptance test of the issue: records (real shards) and visit notes written under `k1`;
//!   `k2` added as current; a rotation killed after two batches and rerun; `k1` retired; a
//!   restart with `k1` gone from the ring opens every record and every visit note; a ring
//!   lacking a key something is wrapped under is refused at start with a clear message;
//! * a dry run finds a damaged wrapped key, names it and writes nothing;
//! * an inline ring (`MEDVAULT_MASTER_KEYS`) is retired by the operator, after the ledger entry.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use diesel::prelude::*;
use futures_util::StreamExt;
use medvault_engine::{Dek, KeyRing};
use medvault_server::accounts::users::{self, UserRow};
use medvault_server::config::Config;
use medvault_server::db::schema::{ledger, records, visit_notes};
use medvault_server::db::{self, DbConn};
use medvault_server::patient_key;
use medvault_server::records::service::RecordRow;
use medvault_server::state::AppState;
use medvault_types::{Role, UserId};
use serde_json::Value;
use uuid::Uuid;

/// A 32-byte master key, as base64: every byte `byte`.
fn key(byte: u8) -> String {
    B64.encode([byte; 32])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A throwaway PostgreSQL database, dropped at the end.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    fn create() -> Self {
        let admin_url = std::env::var("MEDVAULT_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("medvault_keys_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("PostgreSQL at MEDVAULT_TEST_PG_URL: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("create test database");
        Self { admin_url, name }
    }

    fn url(&self) -> String {
        let (base, _) = self.admin_url.rsplit_once('/').expect("a database path");
        format!("{base}/{}", self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

/// A data dir (directory buckets, key file) and a fresh database.
struct Site {
    dir: tempfile::TempDir,
    database_url: String,
    pool: db::Pool,
    _pg: Option<PgDatabase>,
}

impl Site {
    fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let pg = (backend == Backend::Postgres).then(PgDatabase::create);
        let database_url = pg.as_ref().map_or_else(
            || {
                dir.path()
                    .join("medvault.db")
                    .to_string_lossy()
                    .into_owned()
            },
            PgDatabase::url,
        );
        let pool = db::connect(
            &database_url.clone().into(),
            2,
            std::time::Duration::from_secs(10),
        )
        .expect("database");
        Self {
            dir,
            database_url,
            pool,
            _pg: pg,
        }
    }

    fn key_file(&self) -> PathBuf {
        self.dir.path().join("master-keys.txt")
    }

    /// Replaces the key file with the ring `text`.
    fn set_ring(&self, text: &str) {
        KeyRing::parse(text)
            .expect("ring")
            .write_file(&self.key_file())
            .expect("key file");
    }

    fn conn(&self) -> diesel::r2d2::PooledConnection<db::Manager> {
        self.pool.get().expect("connection")
    }

    /// What the server loads at start, with the key file.
    fn config(&self) -> Config {
        let mut config = Config {
            data_dir: self.dir.path().to_path_buf(),
            database_url: Some(self.database_url.clone().into()),
            db_pool_size: 2,
            allow_insecure_transport: true,
            ..Config::default()
        };
        config.auth.jwt_secret = Some("a test signing key, long enough for HS256".into());
        config.keys.file = Some(self.key_file());
        config
    }

    /// Starts the application (what `medvault serve` does before it listens).
    fn start(&self) -> anyhow::Result<AppState> {
        AppState::from_config(self.config())
    }

    /// Runs `medvault keys ARGS` against this site with the key file.
    fn keys(&self, args: &[&str]) -> Output {
        self.keys_with(
            args,
            &[("MEDVAULT_MASTER_KEYS_FILE", self.key_file().into())],
        )
    }

    /// Runs `medvault keys ARGS` with the environment `env` (no key ring unless it names one).
    fn keys_with(&self, args: &[&str], env: &[(&str, OsString)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_medvault"));
        cmd.arg("keys")
            .args(args)
            .env("MEDVAULT_DATA_DIR", self.dir.path())
            .env("MEDVAULT_DATABASE_URL", &self.database_url)
            .env_remove("MEDVAULT_CONFIG")
            .env_remove("MEDVAULT_MASTER_KEYS")
            .env_remove("MEDVAULT_MASTER_KEYS_FILE")
            .env_remove("MEDVAULT_TEST_KEYS_STOP_AFTER_BATCHES");
        for (name, value) in env {
            cmd.env(name, value);
        }
        cmd.output().expect("run medvault")
    }

    /// `medvault keys status --json`: kek id -> (record keys, patient keys).
    fn status(&self) -> Vec<(String, u64, u64)> {
        let out = self.keys(&["status", "--json"]);
        assert!(out.status.success(), "{}", text(&out));
        let status: Value = serde_json::from_slice(&out.stdout).expect("JSON status");
        status["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| {
                (
                    k["kek_id"].as_str().expect("id").to_owned(),
                    k["record_keys"].as_u64().expect("n"),
                    k["patient_keys"].as_u64().expect("n"),
                )
            })
            .collect()
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn new_user(conn: &mut DbConn, email: &str, role: Role) -> UserId {
    let row = UserRow::new(email.into(), role, "x".into(), false);
    users::insert(conn, &row).expect("user");
    row.id.parse().expect("user id")
}

/// The body of a visit note as `history::notes` seals it.
fn note_body(diagnosis: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "symptoms": "cough",
        "diagnosis": diagnosis,
        "prescription": "",
        "notes": "",
    }))
    .expect("json")
}

/// Writes a visit note sealed with the patient's key (created under the current master key).
fn add_note(conn: &mut DbConn, ring: &KeyRing, doctor: UserId, patient: UserId, diagnosis: &str) {
    let dek = patient_key::get_or_create(conn, ring, patient).expect("patient key");
    let id = Uuid::new_v4();
    diesel::insert_into(visit_notes::table)
        .values((
            visit_notes::id.eq(id.to_string()),
            visit_notes::patient_id.eq(patient.to_string()),
            visit_notes::doctor_id.eq(doctor.to_string()),
            visit_notes::visit_date.eq(chrono::NaiveDate::from_ymd_opt(2026, 1, 5).expect("date")),
            visit_notes::body_enc.eq(patient_key::seal(
                &dek,
                "visit_note",
                id,
                &note_body(diagnosis),
            )),
            visit_notes::created_at.eq(chrono::Utc::now().naive_utc()),
        ))
        .execute(conn)
        .expect("note");
}

/// A record row; `sealed` is the manifest and wrapped key the engine produced (or, for rows
/// whose shards the test does not need, a wrapped key alone).
fn insert_record(
    conn: &mut DbConn,
    id: Uuid,
    patient: UserId,
    manifest: Option<&medvault_engine::Manifest>,
    wrapped: &medvault_engine::WrappedDek,
    size: usize,
) {
    let row = RecordRow {
        id: id.to_string(),
        patient_id: patient.to_string(),
        uploaded_by: patient.to_string(),
        title: "Blood panel".into(),
        category: "lab_report".into(),
        report_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).expect("date"),
        notes_enc: None,
        file_name: "panel.pdf".into(),
        content_type: "application/pdf".into(),
        size_bytes: i64::try_from(size).expect("size"),
        sha256: "00".repeat(32),
        root_hash: manifest.map_or_else(|| "00".repeat(32), |m| m.root_hash.clone()),
        manifest: manifest.map(|m| serde_json::to_string(m).expect("manifest")),
        kek_id: Some(wrapped.kek_id.clone()),
        wrapped_dek: Some(wrapped.bytes.clone()),
        created_at: chrono::Utc::now().naive_utc(),
        deleted_at: None,
        purged_at: None,
    };
    diesel::insert_into(records::table)
        .values(&row)
        .execute(conn)
        .expect("record");
}

/// Stores `data` as record `id` through the engine (real shards) and inserts its row.
fn upload(rt: &tokio::runtime::Runtime, state: &AppState, patient: UserId, data: Vec<u8>) -> Uuid {
    let id = Uuid::new_v4();
    let size = data.len();
    let input = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(data))]);
    let (manifest, wrapped) = rt
        .block_on(state.engine.put(id, input))
        .map_err(|e| format!("{e:?}"))
        .expect("put");
    let mut conn = state.pool.get().expect("connection");
    insert_record(&mut conn, id, patient, Some(&manifest), &wrapped, size);
    id
}

/// Reads record `id` back through the engine, as a download does.
fn download(rt: &tokio::runtime::Runtime, state: &AppState, id: Uuid) -> Vec<u8> {
    let mut conn = state.pool.get().expect("connection");
    let row: RecordRow = records::table
        .find(id.to_string())
        .select(RecordRow::as_select())
        .first(&mut conn)
        .expect("row");
    let (manifest, wrapped) = row.sealed().expect("sealed").expect("live record");
    let (mut stream, _) = state
        .engine
        .get_with_report(&manifest, &wrapped, id)
        .unwrap_or_else(|e| panic!("record {id} does not open: {e}"));
    rt.block_on(async {
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.expect("authenticated chunk"));
        }
        out
    })
}

/// A line of [`Site::status`].
fn line(kek_id: &str, record_keys: u64, patient_keys: u64) -> (String, u64, u64) {
    (kek_id.to_owned(), record_keys, patient_keys)
}

/// The `keys.*` ledger entries: (action, actor, payload).
fn key_entries(conn: &mut DbConn) -> Vec<(String, Option<String>, Value)> {
    ledger::table
        .filter(ledger::action.like("keys.%"))
        .order(ledger::seq.asc())
        .select((ledger::action, ledger::actor, ledger::payload))
        .load::<(String, Option<String>, String)>(conn)
        .expect("ledger")
        .into_iter()
        .map(|(a, actor, p)| (a, actor, serde_json::from_str(&p).expect("payload")))
        .collect()
}

/// Runs `medvault serve` on the site (its key file) and expects it to refuse to start; returns
/// what it printed.
fn serve_refused(site: &Site) -> String {
    // Loopback PostgreSQL without TLS, as in every test.
    let config = site.dir.path().join("medvault.toml");
    std::fs::write(&config, "allow_insecure_transport = true\n").expect("config file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_medvault"))
        .arg("serve")
        .env("MEDVAULT_CONFIG", &config)
        .env("MEDVAULT_DATA_DIR", site.dir.path())
        .env("MEDVAULT_DATABASE_URL", &site.database_url)
        .env("MEDVAULT_MASTER_KEYS_FILE", site.key_file())
        .env("MEDVAULT_BIND", "127.0.0.1:0")
        .env_remove("MEDVAULT_MASTER_KEYS")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run medvault serve");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().expect("kill");
            panic!("the server started with a ring lacking a key in use");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("output");
    assert!(!out.status.success(), "{}", text(&out));
    text(&out)
}

/// What the acceptance test writes under `k1`: patients with two visit notes each, and live
/// records with their contents.
struct Seeded {
    patients: Vec<UserId>,
    records: Vec<(Uuid, Vec<u8>)>,
}

/// Records (real shards) and visit notes of two patients, all under the ring's `k1`, and a
/// crypto-shredded record.
fn seed(site: &Site, rt: &tokio::runtime::Runtime) -> Seeded {
    let state = site.start().expect("start with k1");
    let mut conn = state.pool.get().expect("connection");
    let doctor = new_user(&mut conn, "doctor@clinic.example", Role::Doctor);
    let mut patients = Vec::new();
    let mut stored = Vec::new();
    for p in 0..2_u8 {
        let patient = new_user(&mut conn, &format!("p{p}@clinic.example"), Role::Patient);
        add_note(
            &mut conn,
            state.engine.keys(),
            doctor,
            patient,
            &format!("flu {p}"),
        );
        add_note(
            &mut conn,
            state.engine.keys(),
            doctor,
            patient,
            &format!("cold {p}"),
        );
        patients.push(patient);
        for r in 0..3_u8 {
            let data: Vec<u8> = (0..40_000_u32)
                .map(|i| i.to_le_bytes()[0] ^ (p * 16 + r))
                .collect();
            stored.push((upload(rt, &state, patient, data.clone()), data));
        }
    }
    // A crypto-shredded record: no key, nothing to re-wrap.
    let shredded = stored[5].0;
    diesel::update(records::table.find(shredded.to_string()))
        .set((
            records::kek_id.eq(None::<String>),
            records::wrapped_dek.eq(None::<Vec<u8>>),
            records::deleted_at.eq(Some(chrono::Utc::now().naive_utc())),
        ))
        .execute(&mut conn)
        .expect("shred");
    stored.pop();
    Seeded {
        patients,
        records: stored,
    }
}

/// `k1` wraps 5 record keys and 2 patient keys, `k2` is current: a dry run, a rotation killed
/// after two batches, refused retirements, the rerun and a rerun with nothing left.
fn rotate_with_a_crash(site: &Site) {
    // The dry run checks every key and writes nothing.
    let out = site.keys(&["rotate", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["from"]["k1"]["record_keys"], 5, "{report}");
    assert_eq!(report["from"]["k1"]["patient_keys"], 2, "{report}");
    assert_eq!(report["failed"], 0);
    assert_eq!(site.status()[0], line("k1", 5, 2));
    assert!(
        key_entries(&mut site.conn()).is_empty(),
        "a dry run is not ledgered"
    );

    // Killed after two batches of one key each (a crash): what was committed stays.
    let out = site.keys_with(
        &["rotate", "--batch", "1"],
        &[
            ("MEDVAULT_MASTER_KEYS_FILE", site.key_file().into()),
            ("MEDVAULT_TEST_KEYS_STOP_AFTER_BATCHES", "2".into()),
        ],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("re-wrapped 2/5 record keys"),
        "{}",
        text(&out)
    );
    assert_eq!(site.status(), vec![line("k1", 3, 2), line("k2", 2, 0)]);

    // k1 cannot be retired while it still wraps something; nor can the current key.
    let out = site.keys(&["retire", "k1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("still wraps 3 record keys and 2 patient keys"),
        "{}",
        text(&out)
    );
    let out = site.keys(&["retire", "k2"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("current key"), "{}", text(&out));

    // The rerun finishes; another one finds nothing to do.
    let out = site.keys(&["rotate", "--batch", "2"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(report["rewrapped"]["record_keys"], 3, "{report}");
    assert_eq!(report["rewrapped"]["patient_keys"], 2, "{report}");
    assert_eq!(site.status(), vec![line("k1", 0, 0), line("k2", 5, 2)]);
    let out = site.keys(&["rotate"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(report["rewrapped"]["record_keys"], 0, "{report}");
    assert_eq!(report["rewrapped"]["patient_keys"], 0, "{report}");
}

/// Retires `k1` (the key file is rewritten) and checks the ledger of the whole rotation.
fn retire_k1(site: &Site, k1: &str, k2: &str) {
    // Retiring k1 rewrites the key file without it (still private).
    let out = site.keys(&["retire", "k1"]);
    assert!(out.status.success(), "{}", text(&out));
    let ring_text = std::fs::read_to_string(site.key_file()).expect("key file");
    assert!(
        !ring_text.contains(k1) && ring_text.contains(k2),
        "k1 left the file"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(site.key_file())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(site.status(), vec![line("k2", 5, 2)]);

    // Ledger: counts and key ids, no actor, never key material.
    let entries = key_entries(&mut site.conn());
    let mut rewrapped = (0, 0);
    for (action, actor, payload) in &entries {
        assert_eq!(*actor, None, "the operator is no account");
        let raw = payload.to_string();
        assert!(!raw.contains(k1) && !raw.contains(k2), "{raw}");
        if action == "keys.rotate" {
            assert_eq!(payload["to"], "k2", "{raw}");
            let n = payload["record_keys"].as_u64().expect("n")
                + payload["patient_keys"].as_u64().expect("n");
            assert_eq!(payload["from"]["k1"].as_u64(), Some(n), "{raw}");
            rewrapped.0 += payload["record_keys"].as_u64().expect("n");
            rewrapped.1 += payload["patient_keys"].as_u64().expect("n");
        }
    }
    assert_eq!(
        rewrapped,
        (5, 2),
        "every re-wrap ledgered once: {entries:?}"
    );
    let retires: Vec<_> = entries.iter().filter(|e| e.0 == "keys.retire").collect();
    assert_eq!(retires.len(), 1, "{entries:?}");
    assert_eq!(retires[0].2, serde_json::json!({ "kek_id": "k1" }));
}

/// A start with the ring as it is now (what a restart does): every record and visit note of
/// `seeded` opens.
fn everything_opens(site: &Site, rt: &tokio::runtime::Runtime, seeded: &Seeded) {
    let state = site.start().expect("start");
    for (id, data) in &seeded.records {
        assert_eq!(&download(rt, &state, *id), data, "record {id}");
    }
    let mut conn = state.pool.get().expect("connection");
    for (p, patient) in seeded.patients.iter().enumerate() {
        let notes = medvault_server::history::notes::list(
            &mut conn,
            state.engine.keys(),
            *patient,
            medvault_server::access::NotesScope::All,
        )
        .expect("notes open");
        let mut diagnoses: Vec<_> = notes.into_iter().map(|n| n.diagnosis).collect();
        diagnoses.sort();
        assert_eq!(diagnoses, [format!("cold {p}"), format!("flu {p}")]);
    }
}

fn rotate_retire_restart(backend: Backend) {
    let site = Site::new(backend);
    let (k1, k2) = (key(0x11), key(0x22));
    site.set_ring(&format!("k1:{k1}"));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let seeded = seed(&site, &rt);
    assert_eq!(site.status(), vec![line("k1", 5, 2)]);

    // k2 joins the ring as the current key (a restart); new wraps use it, old ones still open.
    site.set_ring(&format!("k1:{k1}\n*k2:{k2}"));
    everything_opens(&site, &rt, &seeded);
    assert_eq!(site.status(), vec![line("k1", 5, 2), line("k2", 0, 0)]);

    rotate_with_a_crash(&site);
    retire_k1(&site, &k1, &k2);
    // Restart with k1 gone: every record and every visit note opens.
    everything_opens(&site, &rt, &seeded);

    // A ring lacking a key in use is refused at start, by name and count.
    site.set_ring(&format!("*k3:{}", key(0x33)));
    let Err(err) = site.start() else {
        panic!("a ring lacking k2 was accepted at start")
    };
    let err = format!("{err:#}");
    let want = "the key ring lacks master key 'k2', which wraps 5 record keys and 2 patient keys";
    assert!(err.contains(want), "{err}");
    assert!(err.contains("restore the ring from backup"), "{err}");
    let out = serve_refused(&site);
    assert!(out.contains(want), "{out}");
}

#[test]
fn rotate_retire_restart_sqlite() {
    rotate_retire_restart(Backend::Sqlite);
}

#[test]
fn rotate_retire_restart_postgres() {
    rotate_retire_restart(Backend::Postgres);
}

/// Two records and a patient key wrapped under `k1` (no shards: only the keys matter here);
/// returns the record ids.
fn keys_only(site: &Site, ring: &KeyRing) -> Vec<Uuid> {
    let mut conn = site.conn();
    let patient = new_user(&mut conn, "p@clinic.example", Role::Patient);
    patient_key::get_or_create(&mut conn, ring, patient).expect("patient key");
    (0..2)
        .map(|_| {
            let id = Uuid::new_v4();
            let wrapped = ring.wrap_dek(id.as_bytes(), &Dek::generate());
            insert_record(&mut conn, id, patient, None, &wrapped, 1);
            id
        })
        .collect()
}

fn dry_run_names_a_damaged_key(backend: Backend) {
    let site = Site::new(backend);
    let k1 = key(0x44);
    let ring = KeyRing::parse(&format!("k1:{k1}")).expect("ring");
    let ids = keys_only(&site, &ring);
    site.set_ring(&format!("k1:{k1},*k2:{}", key(0x55)));
    let damaged = ids[1].to_string();
    let mut conn = site.conn();
    let mut bytes: Vec<u8> = records::table
        .find(&damaged)
        .select(records::wrapped_dek.assume_not_null())
        .first(&mut conn)
        .expect("wrapped");
    bytes[20] ^= 1;
    diesel::update(records::table.find(&damaged))
        .set(records::wrapped_dek.eq(Some(bytes)))
        .execute(&mut conn)
        .expect("tamper");

    let out = site.keys(&["rotate", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(report["failed"], 1, "{report}");
    assert_eq!(report["failures"][0]["id"], damaged.as_str(), "{report}");
    assert_eq!(report["failures"][0]["kek_id"], "k1", "{report}");
    assert!(
        text(&out).contains(&format!("FAILED: record key {damaged} under 'k1'")),
        "{}",
        text(&out)
    );
    assert_eq!(site.status()[0], line("k1", 2, 1), "nothing written");
    assert!(key_entries(&mut conn).is_empty());

    // The real run re-wraps what it can, leaves the damaged key, says so; k1 stays needed.
    let out = site.keys(&["rotate"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(site.status(), vec![line("k1", 1, 0), line("k2", 1, 1)]);
    let out = site.keys(&["retire", "k1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("still wraps 1 record key and 0 patient keys"),
        "{}",
        text(&out)
    );
    let damaged_kek: Option<String> = records::table
        .find(&damaged)
        .select(records::kek_id)
        .first(&mut conn)
        .expect("row");
    assert_eq!(damaged_kek.as_deref(), Some("k1"));

    // A ring that lost k1 is also caught by the dry run, per key.
    site.set_ring(&format!("*k2:{}", key(0x55)));
    let out = site.keys(&["rotate", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("unknown key-encryption key id \"k1\""),
        "{}",
        text(&out)
    );
}

#[test]
fn dry_run_names_a_damaged_key_sqlite() {
    dry_run_names_a_damaged_key(Backend::Sqlite);
}

#[test]
fn dry_run_names_a_damaged_key_postgres() {
    dry_run_names_a_damaged_key(Backend::Postgres);
}

#[test]
fn an_inline_ring_is_rotated_and_the_operator_removes_the_old_key() {
    let site = Site::new(Backend::Sqlite);
    let (k1, k2) = (key(0x66), key(0x77));
    let ring = KeyRing::parse(&format!("k1:{k1}")).expect("ring");
    keys_only(&site, &ring);
    let inline = |args: &[&str]| {
        site.keys_with(
            args,
            &[("MEDVAULT_MASTER_KEYS", format!("k1:{k1},*k2:{k2}").into())],
        )
    };
    let out = inline(&["rotate"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = inline(&["status"]);
    assert!(out.status.success(), "{}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(table.contains("master key"), "{table}");
    let k2_line = table
        .lines()
        .find(|l| l.starts_with("k2"))
        .expect("k2 line");
    assert!(k2_line.contains("current"), "{table}");
    let out = inline(&["retire", "k1"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("remove its entry from MEDVAULT_MASTER_KEYS"),
        "{}",
        text(&out)
    );
    let entries = key_entries(&mut site.conn());
    assert!(entries.iter().any(|e| e.0 == "keys.retire"), "{entries:?}");
    assert!(
        !site.key_file().exists(),
        "no key file is written for an inline ring"
    );
    let out = inline(&["retire", "k3"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("not in the key ring"), "{}", text(&out));
}
