//! Helpers for the records, consent, history and ledger tests: multipart uploads, downloads
//! with their digests, one-time codes (from the patient's inbox, from an authenticator app,
//! from a real SMTP sink), and raw access to the app's database for tamper and at-rest checks.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use diesel::sql_types::{Binary, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use medvault_server::config::Config;
use medvault_types::consent::{AccessRequest, Grant};
use medvault_types::ledger::{LedgerEntry, LedgerPage, LedgerVerification};
use medvault_types::records::{RecordMeta, StorageUsage};
use medvault_types::{EmergencyAccess, ErrorBody, Page, RecordId, RequestId, UserId};
use rand::RngCore as _;
use reqwest::header::HeaderMap;
use reqwest::{Method, Response, StatusCode};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::{Backend, TestApp, expect_error, expect_json};

/// First bytes of every generated PDF.
pub const PDF_HEADER: &[u8] = b"%PDF-1.7\n";

/// Chunk size the record tests run with, so multi-stripe files stay small (k=4: a stripe holds
/// 256 KiB of plaintext).
pub const TEST_CHUNK: usize = 64 * 1024;

/// Plaintext bytes in one stripe at [`TEST_CHUNK`] with k = 4.
pub const TEST_STRIPE: usize = 4 * TEST_CHUNK;

/// Where a spawned app keeps its data (captured from its configuration).
#[derive(Debug, Clone)]
pub struct AppPaths {
    /// The database URL in effect (SQLite path or `postgres://...`).
    pub database_url: String,
    /// The data directory (SQLite file, generated secrets, directory buckets).
    pub data_dir: PathBuf,
}

/// Sets the small test chunk size.
pub fn small_chunks(cfg: &mut Config) {
    cfg.storage.chunk_size = TEST_CHUNK;
}

/// Spawns an app with small chunks, then `tweak`, and returns where it keeps its data.
pub async fn spawn_recording(
    backend: Backend,
    tweak: impl FnOnce(&mut Config),
) -> (TestApp, AppPaths) {
    let mut seen = None;
    let app = TestApp::spawn_with(backend, |cfg| {
        small_chunks(cfg);
        tweak(cfg);
        seen = Some(AppPaths {
            database_url: cfg.effective_database_url().expose_secret().to_owned(),
            data_dir: cfg.data_dir.clone(),
        });
    })
    .await;
    (
        app,
        seen.expect("the harness applies the configuration tweak"),
    )
}

/// Spawns an app ([`spawn_recording`]) that e-mails through a fresh [`SmtpSink`] (`tweak`
/// runs after the SMTP settings), with its [`TestApp::mailbox`] pointing at the sink.
pub async fn spawn_mailing(
    backend: Backend,
    tweak: impl FnOnce(&mut Config),
) -> (SmtpSink, TestApp) {
    let sink = SmtpSink::start();
    let smtp = medvault_server::mail::SmtpConfig {
        host: "127.0.0.1".into(),
        port: sink.port,
        security: "none".into(),
        from: "medvault <no-reply@hospital.example>".into(),
        username: None,
        password: None,
    };
    let (mut app, _) = spawn_recording(backend, |c| {
        c.smtp = Some(smtp);
        tweak(c);
    })
    .await;
    app.mailbox = Some(sink.maildir());
    (sink, app)
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The RFC 9530 `Repr-Digest` value for a SHA-256 given in hex.
pub fn repr_digest(sha_hex: &str) -> String {
    let raw = hex::decode(sha_hex).expect("hex digest");
    format!(
        "sha-256=:{}:",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// `n` random bytes from the OS-seeded thread RNG.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut v);
    v
}

/// A PDF-looking file of exactly `len` bytes (at least the header): `%PDF-1.7\n` then random
/// bytes.
pub fn pdf_bytes(len: usize) -> Vec<u8> {
    assert!(len >= PDF_HEADER.len(), "a PDF needs at least its header");
    let mut v = PDF_HEADER.to_vec();
    v.extend(random_bytes(len - PDF_HEADER.len()));
    v
}

/// Plain text of exactly `len` bytes (printable ASCII lines).
pub fn text_bytes(len: usize) -> Vec<u8> {
    let line = b"Haemoglobin 13.2 g/dL; ferritin 48 ug/L; CRP < 5 mg/L\n";
    line.iter().copied().cycle().take(len).collect()
}

/// One `multipart/form-data` upload, field by field; `None` leaves a field out.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The file's bytes (`None`: no file part).
    pub bytes: Option<Vec<u8>>,
    /// The file name the client sends.
    pub file_name: String,
    /// The declared content type of the file part.
    pub mime: String,
    /// `title` field.
    pub title: Option<String>,
    /// `report_date` field.
    pub report_date: Option<String>,
    /// `category` field.
    pub category: Option<String>,
    /// `notes` field.
    pub notes: Option<String>,
}

impl Upload {
    /// A complete, valid upload of `bytes` declared as `mime`.
    pub fn new(bytes: Vec<u8>, file_name: &str, mime: &str) -> Self {
        Self {
            bytes: Some(bytes),
            file_name: file_name.into(),
            mime: mime.into(),
            title: Some("Full blood count".into()),
            report_date: Some("2026-03-14".into()),
            category: Some("lab_report".into()),
            notes: None,
        }
    }

    /// A valid PDF upload.
    pub fn pdf(bytes: Vec<u8>) -> Self {
        Self::new(bytes, "blood-panel.pdf", "application/pdf")
    }

    /// The multipart form (the file part first, then the text fields).
    pub fn form(&self) -> reqwest::multipart::Form {
        let mut form = reqwest::multipart::Form::new();
        if let Some(bytes) = &self.bytes {
            let part = reqwest::multipart::Part::bytes(bytes.clone())
                .file_name(self.file_name.clone())
                .mime_str(&self.mime)
                .expect("mime type");
            form = form.part("file", part);
        }
        for (name, value) in [
            ("title", &self.title),
            ("report_date", &self.report_date),
            ("category", &self.category),
            ("notes", &self.notes),
        ] {
            if let Some(v) = value {
                form = form.text(name, v.clone());
            }
        }
        form
    }
}

/// Sends an upload with an optional token.
pub async fn upload(app: &TestApp, token: Option<&str>, u: &Upload) -> Response {
    app.request(Method::POST, "/api/v1/records", token)
        .multipart(u.form())
        .send()
        .await
        .expect("upload request")
}

/// Uploads and expects 201; checks the answer describes exactly the bytes sent.
pub async fn upload_ok(app: &TestApp, token: &str, u: &Upload) -> RecordMeta {
    let meta: RecordMeta =
        expect_json(upload(app, Some(token), u).await, StatusCode::CREATED).await;
    let bytes = u.bytes.as_deref().expect("an upload with a file");
    assert_eq!(
        meta.sha256,
        sha256_hex(bytes),
        "RecordMeta.sha256 is the upload's SHA-256"
    );
    assert_eq!(meta.size_bytes, bytes.len() as u64, "RecordMeta.size_bytes");
    meta
}

/// A downloaded record.
#[derive(Debug)]
pub struct Downloaded {
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub bytes: Vec<u8>,
}

impl Downloaded {
    /// A header as text ("" when absent).
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
}

/// `GET /api/v1/records/{id}/content`.
pub async fn download(app: &TestApp, token: Option<&str>, id: RecordId) -> Response {
    app.get(&format!("/api/v1/records/{id}/content"), token)
        .await
}

/// Downloads and expects 200 with the whole body.
pub async fn download_ok(app: &TestApp, token: &str, id: RecordId) -> Downloaded {
    let resp = download(app, Some(token), id).await;
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("download body").to_vec();
    assert_eq!(
        status,
        StatusCode::OK,
        "download: {}",
        String::from_utf8_lossy(&bytes)
    );
    Downloaded { headers, bytes }
}

/// Downloads and checks the bytes against `expected` by SHA-256, and the headers against the
/// record's metadata.
pub async fn download_identical(
    app: &TestApp,
    token: &str,
    meta: &RecordMeta,
    expected: &[u8],
) -> Downloaded {
    let d = download_ok(app, token, meta.id).await;
    let got = sha256_hex(&d.bytes);
    assert_eq!(
        d.bytes.len(),
        expected.len(),
        "downloaded length of {}",
        meta.id
    );
    assert_eq!(
        got,
        sha256_hex(expected),
        "downloaded bytes differ from the upload"
    );
    assert_eq!(
        got, meta.sha256,
        "downloaded bytes differ from RecordMeta.sha256"
    );
    assert_eq!(
        d.header("repr-digest"),
        repr_digest(&meta.sha256),
        "Repr-Digest header"
    );
    assert_eq!(d.header("x-content-type-options"), "nosniff");
    assert_eq!(d.header("content-type"), meta.content_type);
    let cd = d.header("content-disposition");
    assert!(cd.starts_with("attachment"), "Content-Disposition {cd:?}");
    d
}

/// Expects an error envelope with `status` and `code`; returns it.
pub async fn expect_code(resp: Response, status: StatusCode, code: &str) -> ErrorBody {
    let body = expect_error(resp, status).await;
    assert_eq!(body.error.code, code, "error code; body: {body:?}");
    body
}

/// The caller's records (patient: own).
pub async fn my_records(app: &TestApp, token: &str) -> Page<RecordMeta> {
    expect_json(
        app.get("/api/v1/records?per_page=100", Some(token)).await,
        StatusCode::OK,
    )
    .await
}

/// The patient's storage use.
pub async fn my_storage(app: &TestApp, token: &str) -> StorageUsage {
    expect_json(
        app.get("/api/v1/me/storage", Some(token)).await,
        StatusCode::OK,
    )
    .await
}

/// The body of an access request for one record (or all) of a patient in care.
pub fn access_body(patient: UserId, record: Option<RecordId>) -> Value {
    json!({
        "patient_id": patient,
        "mrn": null,
        "record_id": record,
        "reason": "Follow-up of anaemia; need the latest blood count",
        "duration_hours": 2,
    })
}

/// The body of an emergency access to the patient with `mrn`, for `minutes`.
pub fn emergency_body(mrn: &str, minutes: u32) -> Value {
    json!({
        "mrn": mrn,
        "reason": "unconscious_patient",
        "justification": "Brought in unconscious after a road accident; need allergies and recent results",
        "duration_minutes": minutes,
    })
}

/// The caller confirms their password ([`crate::USER_PASSWORD`]) for a sensitive action.
pub async fn reauthenticate(app: &TestApp, token: &str) {
    let resp = app
        .post(
            "/api/v1/auth/reauthenticate",
            Some(token),
            &json!({ "password": crate::USER_PASSWORD }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK, "re-authentication");
}

/// A doctor opens emergency access (201 expected).
pub async fn open_emergency(app: &TestApp, doctor: &str, body: &Value) -> EmergencyAccess {
    expect_json(
        app.post("/api/v1/emergency-accesses", Some(doctor), body)
            .await,
        StatusCode::CREATED,
    )
    .await
}

/// The MRN of `patient`, as an admin reads it.
pub async fn mrn_of(app: &TestApp, admin: &str, patient: UserId) -> String {
    let p: Value = expect_json(
        app.get(&format!("/api/v1/admin/patients/{patient}"), Some(admin))
            .await,
        StatusCode::OK,
    )
    .await;
    p["mrn"].as_str().expect("mrn").to_owned()
}

/// A doctor asks for access; expects 201 and checks the doctor sees no code.
pub async fn request_access(app: &TestApp, doctor: &str, body: &Value) -> AccessRequest {
    let req: AccessRequest = expect_json(
        app.post("/api/v1/access-requests", Some(doctor), body)
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(req.code, None, "the doctor must never see the code");
    req
}

/// The patient's own view of one request, read from their inbox list.
pub async fn patient_view(app: &TestApp, patient: &str, id: RequestId) -> AccessRequest {
    let page: Page<AccessRequest> = expect_json(
        app.get("/api/v1/access-requests?per_page=100", Some(patient))
            .await,
        StatusCode::OK,
    )
    .await;
    page.items
        .into_iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("request {id} is not in the patient's inbox"))
}

/// The per-request code as the patient's inbox shows it (8 digits).
pub async fn pending_code(app: &TestApp, patient: &str, id: RequestId) -> String {
    let code = patient_view(app, patient, id)
        .await
        .code
        .unwrap_or_else(|| panic!("request {id} shows no code to the patient"));
    assert!(
        code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()),
        "code {code:?}"
    );
    code
}

/// A different well-formed code of the same length (last digit changed).
pub fn wrong_code(code: &str) -> String {
    let mut bytes = code.as_bytes().to_vec();
    let last = bytes.last_mut().expect("non-empty code");
    *last = if *last == b'9' { b'0' } else { *last + 1 };
    String::from_utf8(bytes).expect("digits")
}

/// The doctor redeems `code` on request `id`.
pub async fn redeem(app: &TestApp, doctor: &str, id: RequestId, code: &str) -> Response {
    app.post(
        &format!("/api/v1/access-requests/{id}/redeem"),
        Some(doctor),
        &json!({ "code": code }),
    )
    .await
}

/// Redeems and expects the grant.
pub async fn redeem_ok(app: &TestApp, doctor: &str, id: RequestId, code: &str) -> Grant {
    let grant: Grant = expect_json(redeem(app, doctor, id, code).await, StatusCode::OK).await;
    assert_eq!(grant.request_id, id);
    assert!(grant.active, "a fresh grant is live");
    grant
}

/// The patient approves request `id` in the app.
pub async fn approve_ok(app: &TestApp, patient: &str, id: RequestId) -> Grant {
    let resp = app
        .post(
            &format!("/api/v1/access-requests/{id}/approve"),
            Some(patient),
            &json!({}),
        )
        .await;
    expect_json(resp, StatusCode::OK).await
}

/// The whole consent round trip by per-request code: request, read the code from the
/// patient's inbox, redeem. Returns the grant.
pub async fn grant_by_code(
    app: &TestApp,
    doctor: &str,
    patient_token: &str,
    body: &Value,
) -> Grant {
    let req = request_access(app, doctor, body).await;
    let code = pending_code(app, patient_token, req.id).await;
    redeem_ok(app, doctor, req.id, &code).await
}

/// `GET /api/v1/admin/ledger/verify`.
pub async fn verify_ledger(app: &TestApp, admin: &str) -> LedgerVerification {
    expect_json(
        app.get("/api/v1/admin/ledger/verify", Some(admin)).await,
        StatusCode::OK,
    )
    .await
}

/// Asserts the ledger verifies; returns the verification.
pub async fn assert_ledger_ok(app: &TestApp, admin: &str) -> LedgerVerification {
    let v = verify_ledger(app, admin).await;
    assert!(v.ok, "ledger broken: {v:?}");
    assert_eq!(v.first_broken_seq, None);
    v
}

/// Every ledger entry, oldest first, paging backwards through the admin API.
pub async fn ledger_all(app: &TestApp, admin: &str) -> Vec<LedgerEntry> {
    let mut all = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let path = match before {
            Some(b) => format!("/api/v1/admin/ledger?limit=500&before={b}"),
            None => "/api/v1/admin/ledger?limit=500".to_owned(),
        };
        let page: LedgerPage = expect_json(app.get(&path, Some(admin)).await, StatusCode::OK).await;
        all.extend(page.items);
        match page.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    all.reverse();
    all
}

/// Asserts the entries form one unforked chain: seq 1..=n without gaps, each `prev_hash` the
/// previous `hash`.
pub fn assert_linked(entries: &[LedgerEntry]) {
    let mut prev = "0".repeat(64);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(
            e.seq,
            i64::try_from(i + 1).expect("ledger length"),
            "ledger seq gap or fork at position {i}"
        );
        assert_eq!(
            e.prev_hash, prev,
            "ledger entry {} does not link to its predecessor",
            e.seq
        );
        prev.clone_from(&e.hash);
    }
}

/// The patient's authenticator app: RFC 6238, SHA-1, 6 digits, 30 s, from the enrolment's
/// base32 secret. Hands out each time step at most once, like a careful user would, so the
/// server's replay protection is tested deliberately, not by accident.
pub struct Authenticator {
    totp: TOTP,
    last_step: Option<u64>,
}

impl Authenticator {
    /// The step length in seconds.
    pub const STEP: u64 = 30;

    /// From the `secret_base32` of `POST /api/v1/me/totp`.
    pub fn from_base32(secret: &str) -> Self {
        let bytes = Secret::Encoded(secret.to_owned())
            .to_bytes()
            .expect("base32 secret");
        assert_eq!(bytes.len(), 20, "the TOTP secret must be 160 bits");
        Self {
            totp: TOTP::new(
                Algorithm::SHA1,
                6,
                1,
                Self::STEP,
                bytes,
                None,
                String::new(),
            )
            .expect("totp"),
            last_step: None,
        }
    }

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
    }

    /// The code of time step `step`.
    pub fn code_at_step(&self, step: u64) -> String {
        self.totp.generate(step * Self::STEP)
    }

    /// The code shown at `unix_secs` (a server clock that tests moved).
    pub fn code_at_time(&self, unix_secs: i64) -> String {
        self.totp
            .generate(u64::try_from(unix_secs).expect("after 1970"))
    }

    /// The current step.
    pub fn current_step() -> u64 {
        Self::now() / Self::STEP
    }

    /// A code the server accepts now (skew 1) and of a later step than any code handed out
    /// before; waits for the clock when needed. Returns the code and its step.
    pub async fn fresh_code(&mut self) -> (String, u64) {
        loop {
            let now = Self::now();
            let current = now / Self::STEP;
            let into = now % Self::STEP;
            // The previous step is valid until the current one ends: use it only early on.
            let lowest = if into < 20 { current - 1 } else { current };
            let step = self.last_step.map_or(lowest, |l| (l + 1).max(lowest));
            if step <= current + 1 {
                self.last_step = Some(step);
                return (self.code_at_step(step), step);
            }
            tokio::time::sleep(Duration::from_secs(Self::STEP - into + 1)).await;
        }
    }
}

/// Raw SQL on an app's database, behind the server's back (tamper tests, at-rest checks).
pub enum RawDb {
    /// SQLite file.
    Sqlite(SqliteConnection),
    /// PostgreSQL database.
    Pg(PgConnection),
}

#[derive(QueryableByName)]
struct BlobRow {
    #[diesel(sql_type = Binary)]
    v: Vec<u8>,
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    v: String,
}

/// Quotes `s` as an SQL string literal.
pub fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl RawDb {
    /// Opens the app's database.
    pub fn open(paths: &AppPaths) -> Self {
        let url = &paths.database_url;
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Pg(
                PgConnection::establish(url).expect("connect to the app's PostgreSQL database"),
            )
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            let mut conn = SqliteConnection::establish(path).expect("open the app's SQLite file");
            diesel::sql_query("PRAGMA busy_timeout = 10000")
                .execute(&mut conn)
                .expect("busy timeout");
            Self::Sqlite(conn)
        }
    }

    /// Runs one statement; returns the rows affected.
    pub fn execute(&mut self, sql: &str) -> usize {
        match self {
            Self::Sqlite(c) => diesel::sql_query(sql).execute(c),
            Self::Pg(c) => diesel::sql_query(sql).execute(c),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// A query's single binary column (`SELECT x AS v ...`).
    pub fn blobs(&mut self, sql: &str) -> Vec<Vec<u8>> {
        let rows: Vec<BlobRow> = match self {
            Self::Sqlite(c) => diesel::sql_query(sql).load(c),
            Self::Pg(c) => diesel::sql_query(sql).load(c),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.into_iter().map(|r| r.v).collect()
    }

    /// A query's single text column (`SELECT x AS v ...`).
    pub fn texts(&mut self, sql: &str) -> Vec<String> {
        let rows: Vec<TextRow> = match self {
            Self::Sqlite(c) => diesel::sql_query(sql).load(c),
            Self::Pg(c) => diesel::sql_query(sql).load(c),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.into_iter().map(|r| r.v).collect()
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every regular file under `dir` except the SQLite database files, relative to `dir`.
pub fn stored_files(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if !entry
                .file_name()
                .to_string_lossy()
                .starts_with("medvault.db")
            {
                out.insert(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// A real SMTP server (`aiosmtpd` from `PyPI`) writing every message it receives into a Maildir.
pub struct SmtpSink {
    /// Port it listens on (127.0.0.1).
    pub port: u16,
    dir: TempDir,
    child: Child,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    /// Starts the sink with `$MEDVAULT_TEST_SMTP_PYTHON -m aiosmtpd` and waits until it accepts
    /// connections.
    pub fn start() -> Self {
        let python = std::env::var("MEDVAULT_TEST_SMTP_PYTHON").unwrap_or_else(|_| {
            panic!(
                "MEDVAULT_TEST_SMTP_PYTHON is not set. The email test needs a Python with aiosmtpd: \
                 run `scripts/smtp-sink.sh install` and `export MEDVAULT_TEST_SMTP_PYTHON=$(scripts/smtp-sink.sh python)` \
                 (make test does both)"
            )
        });
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = tempfile::tempdir().expect("temp dir");
        let maildir = dir.path().join("maildir");
        let mut child = Command::new(&python)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting the SMTP sink with {python}: {e}"));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("the SMTP sink exited ({status}): {err}");
            }
            assert!(
                Instant::now() < deadline,
                "the SMTP sink did not start listening on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { port, dir, child }
    }

    /// The Maildir's `new` directory, where delivered messages land (give it to
    /// [`TestApp::mailbox`] so the app's helpers can read e-mailed temporary passwords).
    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir").join("new")
    }

    /// Messages delivered so far whose subject contains `subject` (any case), raw RFC 5322
    /// text, in no particular order (Maildir file names do not sort by arrival).
    pub fn messages(&self, subject: &str) -> Vec<String> {
        maildir_messages(&self.maildir(), subject)
    }

    /// Waits until at least `n` messages about `subject` arrived; returns them all.
    pub async fn wait_for(&self, subject: &str, n: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let msgs = self.messages(subject);
            if msgs.len() >= n {
                return msgs;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} emails about {subject:?} arrived within {timeout:?}",
                msgs.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The messages in the Maildir directory `dir` whose subject contains `subject` (any case),
/// in no particular order.
pub fn maildir_messages(dir: &Path, subject: &str) -> Vec<String> {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    let wanted = subject.to_ascii_lowercase();
    let about = |m: &String| {
        m.lines()
            .map(str::to_ascii_lowercase)
            .any(|l| l.starts_with("subject:") && l.contains(&wanted))
    };
    files
        .iter()
        .filter_map(|f| std::fs::read(f).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .filter(about)
        .collect()
}

/// Subject of the e-mail carrying a temporary password.
pub const TEMPORARY_PASSWORD_SUBJECT: &str = "Your medvault temporary password";

/// The temporary password in such an e-mail (after "temporary password: ").
pub fn temporary_password_in(message: &str) -> String {
    let body = message_body(message);
    let (_, rest) = body
        .split_once("temporary password: ")
        .unwrap_or_else(|| panic!("no temporary password in {body}"));
    rest.split_whitespace()
        .next()
        .expect("the password")
        .to_owned()
}

/// The body of a raw message, with its transfer encoding (quoted-printable, base64) undone.
pub fn message_body(message: &str) -> String {
    let (head, body) = message
        .split_once("\r\n\r\n")
        .or_else(|| message.split_once("\n\n"))
        .unwrap_or((message, ""));
    let head = head.to_ascii_lowercase();
    if head.contains("content-transfer-encoding: base64") {
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .expect("base64 body");
        String::from_utf8_lossy(&raw).into_owned()
    } else if head.contains("content-transfer-encoding: quoted-printable") {
        body.replace("=\r\n", "").replace("=\n", "")
    } else {
        body.to_owned()
    }
}

/// The 8-digit consent code in an email's body (the only run of exactly eight digits).
pub fn code_in_email(message: &str) -> String {
    let body = message_body(message);
    let runs: Vec<&str> = body
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() == 8)
        .collect();
    assert_eq!(
        runs.len(),
        1,
        "expected exactly one 8-digit code in the email body: {body}"
    );
    runs[0].to_owned()
}

/// The manifest the database holds for record `id`, read through `pool` (a second state on
/// the app's database).
pub async fn stored_manifest(
    pool: &medvault_server::db::Pool,
    id: RecordId,
) -> medvault_engine::Manifest {
    use diesel::{ExpressionMethods as _, OptionalExtension as _, QueryDsl as _};
    use medvault_server::db::schema::records;
    let text: Option<Option<String>> = medvault_server::db::run(pool, move |c| {
        Ok(records::table
            .filter(records::id.eq(id.to_string()))
            .select(records::manifest)
            .first(c)
            .optional()?)
    })
    .await
    .expect("manifest");
    let text = text
        .flatten()
        .unwrap_or_else(|| panic!("record {id} has no manifest"));
    serde_json::from_str(&text).expect("manifest json")
}
