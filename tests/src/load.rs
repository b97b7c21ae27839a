//! Load testing: `hey` (Debian's HTTP load generator) as the client, a medvault server in its
//! own process (the load bench) or in the test process (the smoke test), patients and records
//! seeded through the API, and a bare actix-web handler as the framework's ceiling.
//!
//! * `MEDVAULT_TEST_HEY`: the `hey` executable (default: `hey` on `PATH`; `make test` and `make
//!   bench` install Debian's package through `scripts/deps.sh`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};
use futures_util::StreamExt;
use medvault_types::{CreatedDoctor, CreatedPatient, TokenResponse};
use reqwest::StatusCode;
use tempfile::TempDir;
use uuid::Uuid;

use crate::records::{Upload, pdf_bytes};
use crate::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, PgDatabase, USER_PASSWORD, doctor_body, patient_body,
};

/// Sign-in throttle limits high enough that a load run, which signs one account in from one
/// address hundreds of times a minute (each attempt counted before its password is checked),
/// never trips them. Only load set-ups use it: the throttle has its own tests.
pub const UNTHROTTLED: u32 = 1_000_000;

/// Relaxes the sign-in throttles of `auth` to [`UNTHROTTLED`] (see there).
pub fn unthrottled(auth: &mut medvault_server::config::AuthConfig) {
    auth.slowdown_after = UNTHROTTLED;
    auth.lock_after = UNTHROTTLED;
    auth.address_lock_after = UNTHROTTLED;
    auth.global_slowdown_per_minute = UNTHROTTLED;
}

/// The `hey` executable.
#[derive(Debug, Clone)]
pub struct Hey {
    path: PathBuf,
}

impl Hey {
    /// `MEDVAULT_TEST_HEY`, else `hey` found on `PATH`; `None` when neither exists.
    pub fn find() -> Option<Self> {
        if let Some(path) = std::env::var_os("MEDVAULT_TEST_HEY") {
            let path = PathBuf::from(path);
            return path.is_file().then_some(Self { path });
        }
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| dir.join("hey"))
            .find(|p| p.is_file())
            .map(|path| Self { path })
    }

    /// [`Hey::find`], or a panic saying how to install it (`make test` does).
    pub fn require() -> Self {
        Self::find().unwrap_or_else(|| {
            panic!(
                "hey (HTTP load generator) not found: `apt-get install hey`, or run `scripts/deps.sh \
                 test` (make test does), or set MEDVAULT_TEST_HEY to its path"
            )
        })
    }

    /// Runs `hey` with `load` and parses its report; panics if it fails or prints no report.
    pub async fn run(&self, load: &Load) -> HeyReport {
        let mut cmd = tokio::process::Command::new(&self.path);
        cmd.arg("-z")
            .arg(format!("{}ms", load.duration.as_millis()))
            .arg("-c")
            .arg(load.concurrency.to_string())
            .arg("-m")
            .arg(&load.method);
        if let Some(token) = &load.token {
            cmd.arg("-H").arg(format!("Authorization: Bearer {token}"));
        }
        if let Some(body) = &load.body {
            cmd.arg("-T").arg("application/json").arg("-d").arg(body);
        }
        cmd.arg(&load.url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = cmd
            .output()
            .await
            .unwrap_or_else(|e| panic!("running {}: {e}", self.path.display()));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "hey failed ({}): {}{}",
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        );
        HeyReport::parse(&text).unwrap_or_else(|e| panic!("hey's report ({e}): {text}"))
    }
}

/// One `hey` run: `concurrency` connections sending `method url` for `duration`.
#[derive(Debug, Clone)]
pub struct Load {
    /// Full URL.
    pub url: String,
    /// HTTP method.
    pub method: String,
    /// Bearer token, if any.
    pub token: Option<String>,
    /// JSON body, if any.
    pub body: Option<String>,
    /// Concurrent connections (`-c`).
    pub concurrency: usize,
    /// How long (`-z`).
    pub duration: Duration,
}

impl Load {
    /// `GET url` with `token`, `concurrency` connections for `duration`.
    pub fn get(url: String, token: Option<&str>, concurrency: usize, duration: Duration) -> Self {
        Self {
            url,
            method: "GET".into(),
            token: token.map(str::to_owned),
            body: None,
            concurrency,
            duration,
        }
    }

    /// `POST url` with the JSON `body`.
    pub fn post_json(
        url: String,
        body: &serde_json::Value,
        concurrency: usize,
        duration: Duration,
    ) -> Self {
        Self {
            url,
            method: "POST".into(),
            token: None,
            body: Some(body.to_string()),
            concurrency,
            duration,
        }
    }
}

/// What `hey` reports about a run.
#[derive(Debug, Clone, PartialEq)]
pub struct HeyReport {
    /// Completed requests per second over the run.
    pub requests_per_sec: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th-percentile latency (hey prints none for runs of under 100 requests: then the
    /// slowest request's).
    pub p99: Duration,
    /// Responses by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no response (connection refused or reset, timeouts).
    pub errors: u64,
    /// `hey`'s error lines, as printed.
    pub error_lines: Vec<String>,
}

impl HeyReport {
    /// Parses `hey`'s text report (the summary, latency distribution, status code and error
    /// distributions).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut requests_per_sec = None;
        let mut slowest = None;
        let mut percentiles = BTreeMap::new();
        let mut statuses = BTreeMap::new();
        let mut errors = 0;
        let mut error_lines = Vec::new();
        let mut section = "";
        for line in text.lines() {
            let trimmed = line.trim();
            if !line.starts_with(' ') && trimmed.ends_with(':') {
                section = trimmed;
                continue;
            }
            if let Some(v) = trimmed.strip_prefix("Slowest:") {
                let secs = v.trim().trim_end_matches("secs").trim();
                slowest = Some(Duration::from_secs_f64(
                    secs.parse::<f64>()
                        .map_err(|e| format!("Slowest {secs}: {e}"))?,
                ));
            } else if let Some(v) = trimmed.strip_prefix("Requests/sec:") {
                requests_per_sec = Some(
                    v.trim()
                        .parse::<f64>()
                        .map_err(|e| format!("Requests/sec: {e}"))?,
                );
            } else if section == "Latency distribution:" {
                // "  50%% in 0.0123 secs" (hey doubles the percent sign) or "50% in ...".
                if let Some((pct, rest)) = trimmed.split_once('%')
                    && let Some(secs) = rest.trim_start_matches('%').trim().strip_prefix("in ")
                {
                    let pct: u32 = pct.parse().map_err(|e| format!("percentile {pct}: {e}"))?;
                    let secs: f64 = secs
                        .trim_end_matches("secs")
                        .trim()
                        .parse()
                        .map_err(|e| format!("latency {secs}: {e}"))?;
                    percentiles.insert(pct, Duration::from_secs_f64(secs));
                }
            } else if section == "Status code distribution:" {
                // "  [200]	1234 responses"
                if let Some((code, rest)) =
                    trimmed.strip_prefix('[').and_then(|t| t.split_once(']'))
                {
                    let code: u16 = code.parse().map_err(|e| format!("status {code}: {e}"))?;
                    let n = leading_count(rest)?;
                    statuses.insert(code, n);
                }
            } else if section == "Error distribution:"
                && let Some((count, _)) = trimmed.strip_prefix('[').and_then(|t| t.split_once(']'))
            {
                errors += count
                    .parse::<u64>()
                    .map_err(|e| format!("error count {count}: {e}"))?;
                error_lines.push(trimmed.to_owned());
            }
        }
        let requests_per_sec = requests_per_sec.ok_or("no Requests/sec line")?;
        let pick = |p: u32| {
            percentiles
                .get(&p)
                .copied()
                .ok_or_else(|| format!("no {p}% latency"))
        };
        // A run where nothing completed has no latency distribution.
        let (p50, p99) = if statuses.is_empty() {
            (Duration::ZERO, Duration::ZERO)
        } else {
            let p99 = pick(99).or_else(|e| slowest.ok_or(e))?;
            (pick(50)?, p99)
        };
        Ok(Self {
            requests_per_sec,
            p50,
            p99,
            statuses,
            errors,
            error_lines,
        })
    }

    /// Responses received, any status.
    pub fn responses(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Responses whose status is not 2xx.
    pub fn non_2xx(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(code, _)| !(200..300).contains(*code))
            .map(|(_, n)| n)
            .sum()
    }

    /// p99 / p50.
    pub fn tail_ratio(&self) -> f64 {
        self.p99.as_secs_f64() / self.p50.as_secs_f64().max(1e-9)
    }
}

fn leading_count(rest: &str) -> Result<u64, String> {
    let n = rest.split_whitespace().next().unwrap_or("");
    n.parse().map_err(|e| format!("count {n}: {e}"))
}

/// A client of a running server (in this process or another) for seeding it.
#[derive(Debug, Clone)]
pub struct Api {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The HTTP client.
    pub client: reqwest::Client,
}

impl Api {
    /// A client for the server at `base`.
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
        want: StatusCode,
        what: &str,
    ) -> T {
        let resp = req.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert_eq!(status, want, "{what}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what} ({e}): {text}"))
    }

    /// Signs in with a password (an account without a second factor).
    pub async fn login(&self, email: &str, password: &str) -> TokenResponse {
        self.json(
            self.client
                .post(self.url("/api/v1/auth/login"))
                .json(&serde_json::json!({"email": email, "password": password})),
            StatusCode::OK,
            &format!("sign-in of {email}"),
        )
        .await
    }

    /// Signs in with the temporary password and sets [`USER_PASSWORD`]; the session's access
    /// token.
    pub async fn activate(&self, email: &str, temporary: &str) -> String {
        let token = self.login(email, temporary).await.access_token;
        let resp = self
            .client
            .post(self.url("/api/v1/me/password"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "current_password": temporary,
                "new_password": USER_PASSWORD,
            }))
            .send()
            .await
            .expect("password change");
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "password change");
        token
    }

    /// `GET path` with `token`, expecting 200; the body's length in bytes.
    pub async fn get_ok(&self, path: &str, token: &str) -> usize {
        let resp = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = resp.status();
        let body = resp.bytes().await.expect("body");
        assert_eq!(status, StatusCode::OK, "GET {path}");
        body.len()
    }
}

/// How much to seed.
#[derive(Debug, Clone, Copy)]
pub struct SeedPlan {
    /// Patients, all in the care of one doctor, each signed in once and with a password of
    /// their own (no second factor).
    pub patients: usize,
    /// Records each patient uploads (small PDFs, with notes).
    pub records_per_patient: usize,
    /// Patients seeded at once.
    pub concurrency: usize,
    /// Size of each record file in bytes.
    pub record_bytes: usize,
}

/// A seeded patient.
#[derive(Debug, Clone)]
pub struct SeededPatient {
    /// Login e-mail (password [`USER_PASSWORD`]).
    pub email: String,
    /// An access token of a session of theirs.
    pub token: String,
}

/// What [`seed`] made.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The doctor's e-mail (password [`USER_PASSWORD`]).
    pub doctor_email: String,
    /// The doctor's access token.
    pub doctor_token: String,
    /// The patients, in creation order.
    pub patients: Vec<SeededPatient>,
    /// Records uploaded in all.
    pub records: usize,
    /// Wall time of the seeding.
    pub elapsed: Duration,
}

/// Seeds the server behind `api` through its API, as its users would: the bootstrap admin
/// creates a doctor; the doctor creates every patient; each patient signs in, sets a password
/// and uploads their records; then the doctor lists the first patient's records a few times, so
/// that patient's access log has other people's reads in it.
pub async fn seed(api: &Api, plan: &SeedPlan) -> Seeded {
    let start = Instant::now();
    let admin = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.access_token;
    let doctor_email = format!("doctor-{}@load.example", Uuid::new_v4().simple());
    let doctor: CreatedDoctor = api
        .json(
            api.client
                .post(api.url("/api/v1/admin/doctors"))
                .bearer_auth(&admin)
                .json(&doctor_body(&doctor_email)),
            StatusCode::CREATED,
            "create doctor",
        )
        .await;
    let temporary = doctor
        .temporary_password
        .expect("a temporary password in the answer (no SMTP configured)");
    let doctor_token = api.activate(&doctor_email, &temporary).await;
    let patients: Vec<SeededPatient> = futures_util::stream::iter(0..plan.patients)
        .map(|n| seed_patient(api, &doctor_token, n, plan))
        .buffered(plan.concurrency.max(1))
        .collect()
        .await;
    if let Some(first) = patients.first() {
        let me: medvault_types::User = api
            .json(
                api.client
                    .get(api.url("/api/v1/me"))
                    .bearer_auth(&first.token),
                StatusCode::OK,
                "GET /me",
            )
            .await;
        for _ in 0..20 {
            api.get_ok(
                &format!("/api/v1/records?patient_id={}", me.id),
                &doctor_token,
            )
            .await;
        }
    }
    Seeded {
        doctor_email,
        doctor_token,
        records: patients.len() * plan.records_per_patient,
        patients,
        elapsed: start.elapsed(),
    }
}

async fn seed_patient(api: &Api, doctor: &str, n: usize, plan: &SeedPlan) -> SeededPatient {
    let email = format!("patient{n}-{}@load.example", Uuid::new_v4().simple());
    let created: CreatedPatient = api
        .json(
            api.client
                .post(api.url("/api/v1/doctor/patients"))
                .bearer_auth(doctor)
                .json(&patient_body(&email)),
            StatusCode::CREATED,
            "create patient",
        )
        .await;
    let temporary = created
        .temporary_password
        .expect("a temporary password in the answer (no SMTP configured)");
    let token = api.activate(&email, &temporary).await;
    for r in 0..plan.records_per_patient {
        let mut upload = Upload::pdf(pdf_bytes(plan.record_bytes));
        upload.title = Some(format!("Report {r}"));
        // Notes are sealed under the patient's key: listings open them for the owner.
        upload.notes = Some("Repeat in three months; fasting sample.".into());
        let resp = api
            .client
            .post(api.url("/api/v1/records"))
            .bearer_auth(&token)
            .multipart(upload.form())
            .send()
            .await
            .expect("upload");
        let status = resp.status();
        assert_eq!(
            status,
            StatusCode::CREATED,
            "upload: {}",
            resp.text().await.unwrap_or_default()
        );
    }
    SeededPatient { email, token }
}

/// What a [`ServerProcess`] runs with besides the load set-up's defaults.
#[derive(Debug, Clone, Default)]
pub struct ServerSetup {
    /// The largest file accepted; each patient's quota is four times it (`None`: production
    /// defaults).
    pub max_file_bytes: Option<u64>,
    /// The `[storage]` table (`None`: six directory buckets in the temporary directory).
    pub storage: Option<medvault_engine::StorageConfig>,
}

impl ServerSetup {
    /// The configuration file's `[records]` table and, when set, its `[storage]` tables.
    fn tables(&self) -> String {
        #[derive(serde::Serialize)]
        struct Storage<'a> {
            storage: &'a medvault_engine::StorageConfig,
        }
        let mut text = String::from("[records]\ncollector_interval_secs = 0\n");
        if let Some(max) = self.max_file_bytes {
            writeln!(
                text,
                "max_file_bytes = {max}\nquota_bytes = {}",
                max.saturating_mul(4)
            )
            .expect("write to a String");
        }
        if let Some(storage) = &self.storage {
            text.push('\n');
            text.push_str(&toml::to_string(&Storage { storage }).expect("storage as TOML"));
        }
        text
    }
}

/// A medvault server in a process of its own (`medvault serve` with a config file), on a fresh
/// SQLite file or PostgreSQL database and directory buckets in a temporary directory (or the
/// storage of a [`ServerSetup`]); killed when dropped.
pub struct ServerProcess {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    child: std::process::Child,
    dir: TempDir,
    pg: Option<PgDatabase>,
}

impl ServerProcess {
    /// Starts `binary serve` (logging as in production, `info`, into a file in its temporary
    /// directory) with production defaults except: no second factor required of
    /// staff, sign-in throttles relaxed ([`UNTHROTTLED`]), hour-long access tokens, no
    /// background collector or scrubber (they would compete with the load), plain-text
    /// loopback PostgreSQL allowed. Waits until `/healthz` answers.
    pub fn start(binary: &Path, backend: Backend) -> Self {
        Self::start_with(binary, backend, &ServerSetup::default())
    }

    /// [`ServerProcess::start`] with the file size limit and storage of `setup`.
    pub fn start_with(binary: &Path, backend: Backend, setup: &ServerSetup) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let pg = (backend == Backend::Postgres).then(PgDatabase::create);
        let database_url = pg.as_ref().map_or_else(
            || dir.path().join("medvault.db").display().to_string(),
            PgDatabase::url,
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let config = format!(
            r#"bind = "127.0.0.1:{port}"
data_dir = "{data}"
database_url = "{database_url}"
allow_insecure_transport = true

[auth]
jwt_secret = "load-bench-signing-key-{secret}"
access_ttl_secs = 3600
staff_mfa_required = false
slowdown_after = {UNTHROTTLED}
lock_after = {UNTHROTTLED}
address_lock_after = {UNTHROTTLED}
global_slowdown_per_minute = {UNTHROTTLED}

[bootstrap]
admin_email = "{ADMIN_EMAIL}"
admin_password = "{ADMIN_PASSWORD}"

[scrub]
interval_secs = 0

{tables}"#,
            data = dir.path().join("data").display(),
            secret = Uuid::new_v4().simple(),
            tables = setup.tables(),
        );
        let config_path = dir.path().join("medvault.toml");
        std::fs::write(&config_path, config).expect("write config");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let child = std::process::Command::new(binary)
            .arg("serve")
            .env("MEDVAULT_CONFIG", &config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let mut server = Self {
            address: format!("http://127.0.0.1:{port}"),
            child,
            dir,
            pg,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port()));
        loop {
            if let Some(status) = self.child.try_wait().expect("server status") {
                panic!("the server exited ({status}):\n{}", self.log());
            }
            if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not listen within 120 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn port(&self) -> u16 {
        self.address
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port")
    }

    /// Updates the planner's statistics after seeding, as autovacuum would on a production
    /// PostgreSQL (the test server runs without it, and plans made for empty tables then scan
    /// what an index would skip). Nothing to do on SQLite, whose planner needs none.
    pub fn analyze(&self) {
        if let Some(pg) = &self.pg {
            let mut conn = diesel::PgConnection::establish(&pg.url())
                .unwrap_or_else(|e| panic!("PostgreSQL at {}: {e}", pg.url()));
            diesel::sql_query("ANALYZE")
                .execute(&mut conn)
                .expect("ANALYZE");
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The process id (to sample its CPU time or memory).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A JSON body of exactly `len` bytes (at least 10): `{"pad":"xxx…"}`.
pub fn json_body_of_len(len: usize) -> serde_json::Value {
    let pad = "x".repeat(len.saturating_sub(r#"{"pad":""}"#.len()));
    serde_json::json!({ "pad": pad })
}

/// Serves `GET /` on `listener` with the JSON `body` (serialised per request, as handlers do)
/// on `workers` actix-web workers, until the process ends: the framework's ceiling for a
/// handler that does no work.
pub fn serve_bare_json(
    listener: TcpListener,
    body: serde_json::Value,
    workers: usize,
) -> std::io::Result<()> {
    use actix_web::{App, HttpServer, web};
    let body = web::Data::new(body);
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new().app_data(body.clone()).route(
                "/",
                web::get().to(|b: web::Data<serde_json::Value>| async move {
                    web::Json(b.get_ref().clone())
                }),
            )
        })
        .workers(workers)
        .listen(listener)?
        .run()
        .await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "
Summary:
  Total:\t2.0051 secs
  Slowest:\t0.0610 secs
  Fastest:\t0.0003 secs
  Average:\t0.0100 secs
  Requests/sec:\t4987.2310

  Total data:\t2453680 bytes
  Size/request:\t245 bytes

Response time histogram:
  0.000 [1]\t|
  0.006 [3521]\t|\u{25a0}\u{25a0}\u{25a0}

Latency distribution:
  10%% in 0.0041 secs
  50%% in 0.0090 secs
  99%% in 0.0302 secs

Details (average, fastest, slowest):
  DNS+dialup:\t0.0001 secs, 0.0003 secs, 0.0610 secs

Status code distribution:
  [200]\t9990 responses
  [503]\t5 responses

Error distribution:
  [3]\tGet \"http://127.0.0.1:1/\": dial tcp 127.0.0.1:1: connect: connection refused
";

    #[test]
    fn parses_hey_report() {
        let r = HeyReport::parse(REPORT).unwrap();
        assert!((r.requests_per_sec - 4987.231).abs() < 1e-6);
        assert_eq!(r.p50, Duration::from_secs_f64(0.009));
        assert_eq!(r.p99, Duration::from_secs_f64(0.0302));
        assert_eq!(r.statuses.get(&200), Some(&9990));
        assert_eq!(r.non_2xx(), 5);
        assert_eq!(r.responses(), 9995);
        assert_eq!(r.errors, 3);
        assert_eq!(r.error_lines.len(), 1);
    }

    #[test]
    fn a_short_run_takes_the_slowest_request_as_p99() {
        let short = REPORT.replace("  99%% in 0.0302 secs\n", "");
        let r = HeyReport::parse(&short).unwrap();
        assert_eq!(r.p99, Duration::from_secs_f64(0.061));
    }

    #[test]
    fn a_report_without_summary_is_refused() {
        assert!(HeyReport::parse("Error: something").is_err());
    }

    #[test]
    fn bare_body_has_the_asked_length() {
        assert_eq!(json_body_of_len(300).to_string().len(), 300);
    }
}
