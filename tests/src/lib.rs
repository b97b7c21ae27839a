//! Shared helpers for the black-box tests: start the real server on a random port against a
//! fresh SQLite file or a fresh PostgreSQL database, and talk to it over HTTP.
//!
//! * `MEDVAULT_TEST_PG_URL`: admin URL of the PostgreSQL server (default
//!   `postgres://postgres@127.0.0.1:5432/postgres`); each app gets its own database, dropped
//!   when the app is dropped.
//! * `TEST_LOG`: set to see the server's logs.

pub mod bench_args;
pub mod child;
pub mod faults;
pub mod load;
pub mod records;
pub mod transfer;

use std::net::TcpListener;

use actix_web::dev::ServerHandle;
use actix_web::web;
use diesel::{Connection, PgConnection, RunQueryDsl};
use medvault_server::config::Config;
use medvault_server::state::AppState;
use medvault_types::{
    CreateDoctor, CreatePatient, CreatedDoctor, CreatedPatient, MfaChallenge, RecoveryCodes,
    TokenResponse, TotpEnrollment,
};

use crate::records::Authenticator;
use reqwest::{Method, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tempfile::TempDir;
use uuid::Uuid;

/// Email of the admin every test app starts with.
pub const ADMIN_EMAIL: &str = "admin@test.example";
/// Password of that admin.
pub const ADMIN_PASSWORD: &str = "admin password for tests";
/// Password test users change their temporary password to.
pub const USER_PASSWORD: &str = "a sound passphrase 42";

/// A further application state on `config` (its database, buckets and key ring), built as a
/// server or an operator's command builds one at start: for tests that act beside a running
/// app (the collector, scrub passes, a child process). Start-up refusals come back as errors.
///
/// # Errors
/// Whatever [`AppState::from_config`] refuses.
///
/// # Panics
/// When the blocking start-up task itself fails.
pub async fn state_on(config: &Config) -> anyhow::Result<std::sync::Arc<AppState>> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || AppState::from_config(config).map(std::sync::Arc::new))
        .await
        .expect("start-up task")
}

/// Which database a test app uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file in the app's temp dir.
    Sqlite,
    /// A fresh database on the test PostgreSQL server.
    Postgres,
}

/// Runs the async test body `$name(backend)` once per backend, as `$name::sqlite` and
/// `$name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await;
            }
        }
    )*};
}

/// A throwaway PostgreSQL database on the `MEDVAULT_TEST_PG_URL` server, dropped (with its
/// connections) when this value is: test apps and the load bench's server processes use one each.
pub struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    /// Creates a database with a fresh random name.
    pub fn create() -> Self {
        let admin_url = std::env::var("MEDVAULT_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("medvault_test_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("PostgreSQL at MEDVAULT_TEST_PG_URL: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("create test database");
        Self { admin_url, name }
    }

    /// The URL that reaches this database.
    pub fn url(&self) -> String {
        match self.admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{}", self.name),
            None => panic!("MEDVAULT_TEST_PG_URL needs a database path"),
        }
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

/// The S3 storage configuration of the real S3-compatible servers started by
/// `scripts/s3-servers.sh up` (`make test` sets `MEDVAULT_TEST_S3_CONFIG`). PostgreSQL test
/// apps store records there; SQLite test apps use directory buckets.
pub fn s3_storage() -> medvault_engine::StorageConfig {
    let path = std::env::var("MEDVAULT_TEST_S3_CONFIG").unwrap_or_else(|_| {
        panic!("MEDVAULT_TEST_S3_CONFIG is not set: run `make test`, or `scripts/s3-servers.sh up` and export it")
    });
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    toml::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

/// A running server and an HTTP client for it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// Client without cookies or redirects.
    pub client: reqwest::Client,
    /// The JWT signing key in use (lets JWT tests forge tokens with the right key).
    pub jwt_secret: String,
    /// Which backend this app runs on.
    pub backend: Backend,
    /// The app's clock: `app.clock.advance(..)` reaches an expiry without sleeping.
    pub clock: medvault_server::clock::Clock,
    /// Where the app's e-mail lands when a test gave it SMTP (`SmtpSink::maildir`): the
    /// helpers then read temporary passwords from it, as staff no longer see them.
    pub mailbox: Option<std::path::PathBuf>,
    /// The in-process server (`None`: a server process this app only talks to).
    handle: Option<ServerHandle>,
    _data_dir: Option<TempDir>,
    _pg: Option<PgDatabase>,
    _process: Option<child::ServerProcess>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the returned future only waits for completion.
        if let Some(handle) = &self.handle {
            drop(handle.stop(false));
        }
    }
}

fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        medvault_server::telemetry::init();
    }
}

impl TestApp {
    /// Starts a server with the default test configuration.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts a server after `tweak` adjusted the configuration.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_adjusted(backend, tweak, |_| {}).await
    }

    /// Starts a server after `tweak` adjusted the configuration and `adjust` the state built
    /// from it (e.g. an engine over wrapped stores).
    pub async fn spawn_adjusted(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
        adjust: impl FnOnce(&mut AppState) + Send + 'static,
    ) -> Self {
        init_logs();
        let data_dir = tempfile::tempdir().expect("temp dir");
        let pg = (backend == Backend::Postgres).then(PgDatabase::create);
        let jwt_secret = format!("test-signing-key-{}", Uuid::new_v4().simple());
        let mut config = Config {
            data_dir: data_dir.path().to_path_buf(),
            database_url: Some(
                pg.as_ref()
                    .map_or_else(
                        || {
                            data_dir
                                .path()
                                .join("medvault.db")
                                .to_string_lossy()
                                .into_owned()
                        },
                        PgDatabase::url,
                    )
                    .into(),
            ),
            db_pool_size: 4,
            ..Config::default()
        };
        config.auth.jwt_secret = Some(jwt_secret.clone().into());
        config.bootstrap.admin_email = Some(ADMIN_EMAIL.into());
        config.bootstrap.admin_password = Some(ADMIN_PASSWORD.to_string().into());
        config.http.workers = Some(2);
        // Test apps share the S3 buckets: no collector unless a test asks for one.
        config.records.collector_interval_secs = 0;
        config.scrub.interval_secs = 0;
        // Staff sign in with a password alone unless a test asks for the second factor (the
        // production default): signing the same account in twice within one 30-second TOTP
        // step would need the clock moved, which tests about other expiries must not do. The
        // `mfa` tests and the browser journey run with it on.
        config.auth.staff_mfa_required = false;
        // Garage, PostgreSQL and the SMTP sink listen on loopback without TLS.
        config.allow_insecure_transport = true;
        // Suites race dozens of transfers of one user on purpose; the caps have their own tests.
        config.limits.max_transfers = 256;
        config.limits.max_transfers_per_user = 256;
        if backend == Backend::Postgres {
            config.storage = s3_storage();
        }
        tweak(&mut config);
        let state = tokio::task::spawn_blocking(move || {
            let mut state = AppState::from_config(config).expect("app state");
            adjust(&mut state);
            medvault_server::bootstrap::ensure_admin(&state).expect("bootstrap admin");
            state
        })
        .await
        .expect("start-up task");
        let clock = state.clock.clone();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = medvault_server::run(listener, web::Data::new(state)).expect("server");
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            address: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            jwt_secret,
            backend,
            clock,
            mailbox: None,
            handle: Some(handle),
            _data_dir: Some(data_dir),
            _pg: pg,
            _process: None,
        }
    }

    /// An app for a server process on `like`'s data (see [`child::ServerProcess`]), which it
    /// owns and kills when dropped. Its clock is its own: moving it does not reach the process.
    #[must_use]
    pub fn of_process(process: child::ServerProcess, like: &Self) -> Self {
        Self {
            address: process.address.clone(),
            client: like.client.clone(),
            jwt_secret: like.jwt_secret.clone(),
            backend: like.backend,
            clock: medvault_server::clock::Clock::system(),
            mailbox: None,
            handle: None,
            _data_dir: None,
            _pg: None,
            _process: Some(process),
        }
    }

    /// A request to `path` with an optional bearer token.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req
    }

    /// Sends a request with an optional JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> Response {
        let mut req = self.request(method, path, token);
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.expect("request")
    }

    /// GET with an optional token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.send(Method::GET, path, token, None).await
    }

    /// POST JSON with an optional token.
    pub async fn post<B: Serialize>(&self, path: &str, token: Option<&str>, body: &B) -> Response {
        let value = serde_json::to_value(body).expect("body");
        self.send(Method::POST, path, token, Some(&value)).await
    }

    /// Signs in; `Ok` with the tokens on 200, `Err` with the response otherwise.
    pub async fn try_login(&self, email: &str, password: &str) -> Result<TokenResponse, Response> {
        let resp = self
            .post(
                "/api/v1/auth/login",
                None,
                &serde_json::json!({"email": email, "password": password}),
            )
            .await;
        if resp.status() == StatusCode::OK {
            Ok(resp.json().await.expect("token body"))
        } else {
            Err(resp)
        }
    }

    /// A client whose requests come from `ip` (any 127.x.y.z address reaches the app on
    /// Linux), to act as another machine towards the sign-in throttle.
    pub fn client_from(ip: [u8; 4]) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(std::net::IpAddr::from(ip))
            .build()
            .expect("client")
    }

    /// A sign-in attempt sent by `client` (see [`TestApp::client_from`]).
    pub async fn login_with(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> Response {
        client
            .post(format!("{}/api/v1/auth/login", self.address))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("request")
    }

    /// `POST /api/v1/auth/refresh` with `token` in the body.
    pub async fn refresh(&self, token: &str) -> Response {
        self.post(
            "/api/v1/auth/refresh",
            None,
            &serde_json::json!({ "refresh_token": token }),
        )
        .await
    }

    /// The password step of sign-in for an account with a second factor: the challenge.
    pub async fn mfa_challenge(&self, email: &str, password: &str) -> MfaChallenge {
        let resp = self
            .post(
                "/api/v1/auth/login",
                None,
                &serde_json::json!({"email": email, "password": password}),
            )
            .await;
        expect_json(resp, StatusCode::ACCEPTED).await
    }

    /// The second step of sign-in with `code`.
    pub async fn login_second_step(&self, challenge: &MfaChallenge, code: &str) -> Response {
        self.post(
            "/api/v1/auth/login/mfa",
            None,
            &serde_json::json!({"mfa_token": challenge.mfa_token, "code": code}),
        )
        .await
    }

    /// Signs in with the password and then a fresh code from `app` (the clock is moved to
    /// the next time step, so a code is never a replay of an earlier one).
    pub async fn login_with_app(
        &self,
        email: &str,
        password: &str,
        app: &Authenticator,
    ) -> TokenResponse {
        let challenge = self.mfa_challenge(email, password).await;
        let code = self.fresh_code(app);
        expect_json(
            self.login_second_step(&challenge, &code).await,
            StatusCode::OK,
        )
        .await
    }

    /// The code `app` shows after the app's clock moved on to the next 30-second step.
    pub fn fresh_code(&self, app: &Authenticator) -> String {
        self.clock.advance(chrono::Duration::seconds(30));
        app.code_at_time(self.clock.unix_secs())
    }

    /// Sets up the sign-in authenticator for the session of `token`: the app and the ten
    /// recovery codes.
    pub async fn enrol_mfa(&self, token: &str) -> (Authenticator, Vec<String>) {
        let resp = self
            .send(Method::POST, "/api/v1/me/mfa/enrollment", Some(token), None)
            .await;
        let enrollment: TotpEnrollment = expect_json(resp, StatusCode::OK).await;
        let app = Authenticator::from_base32(&enrollment.secret_base32);
        let code = self.fresh_code(&app);
        let resp = self
            .post(
                "/api/v1/me/mfa/enrollment/confirm",
                Some(token),
                &serde_json::json!({ "code": code }),
            )
            .await;
        let codes: RecoveryCodes = expect_json(resp, StatusCode::OK).await;
        (app, codes.recovery_codes)
    }

    /// Signs in, panicking on failure.
    pub async fn login(&self, email: &str, password: &str) -> TokenResponse {
        match self.try_login(email, password).await {
            Ok(t) => t,
            Err(resp) => panic!("login {email}: {}", resp.status()),
        }
    }

    /// The bootstrap admin's access token.
    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.access_token
    }

    /// Signs in with a temporary password, changes it to [`USER_PASSWORD`], and returns the
    /// session's tokens (still valid after the change).
    pub async fn activate(&self, email: &str, temporary: &str) -> TokenResponse {
        let tokens = self.login(email, temporary).await;
        assert!(tokens.user.must_change_password);
        let resp = self
            .post(
                "/api/v1/me/password",
                Some(&tokens.access_token),
                &serde_json::json!({"current_password": temporary, "new_password": USER_PASSWORD}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "password change");
        tokens
    }

    /// Admin creates a doctor with `email`.
    pub async fn create_doctor(&self, admin: &str, email: &str) -> CreatedDoctor {
        let resp = self
            .post("/api/v1/admin/doctors", Some(admin), &doctor_body(email))
            .await;
        expect_json(resp, StatusCode::CREATED).await
    }

    /// Doctor (or admin, by `path`) creates a patient with `email`.
    /// Admins send identity and contact fields only (they may not set clinical ones).
    pub async fn create_patient(&self, path: &str, token: &str, email: &str) -> CreatedPatient {
        let body = if path.starts_with("/api/v1/admin/") {
            identity_only(patient_body(email))
        } else {
            patient_body(email)
        };
        let resp = self.post(path, Some(token), &body).await;
        expect_json(resp, StatusCode::CREATED).await
    }
}

/// The refresh token of a sign-in or refresh answer to an API client (in the body).
pub fn refresh_token_of(tokens: &TokenResponse) -> &str {
    tokens
        .refresh_token
        .as_deref()
        .expect("API clients get the refresh token in the body")
}

/// Sessions that stay open for a day without a request: for tests that move the clock hours
/// ahead to reach another expiry (grants, emergency access) and keep using their tokens.
pub fn day_long_sessions(config: &mut Config) {
    config.auth.staff_idle_secs = 24 * 3600;
    config.auth.patient_idle_secs = 24 * 3600;
}

/// A valid doctor creation body.
pub fn doctor_body(email: &str) -> CreateDoctor {
    CreateDoctor {
        email: email.into(),
        full_name: "Dr Grace Okafor".into(),
        specialty: "Cardiology".into(),
        licence_number: "MD-2291/77".into(),
        phone: Some("+44 20 7946 0018".into()),
    }
}

/// A valid patient creation body.
pub fn patient_body(email: &str) -> CreatePatient {
    CreatePatient {
        email: email.into(),
        first_name: "Amara".into(),
        last_name: "Nwosu".into(),
        date_of_birth: chrono::NaiveDate::from_ymd_opt(1987, 4, 12).expect("date"),
        sex: medvault_types::Sex::Female,
        phone: Some("+234 803 555 0199".into()),
        address: Some("12 Marina Road".into()),
        city: Some("Lagos".into()),
        state: Some("Lagos".into()),
        postal_code: Some("101233".into()),
        blood_group: Some(medvault_types::BloodGroup::OPos),
        height_cm: Some(168.0),
        weight_kg: Some(61.5),
        allergies: Some("Penicillin".into()),
        emergency_contact: Some("Chidi Nwosu +234 803 555 0100".into()),
    }
}

/// `body` without its clinical fields (what an admin may send).
pub fn identity_only(body: CreatePatient) -> CreatePatient {
    CreatePatient {
        blood_group: None,
        height_cm: None,
        weight_kg: None,
        allergies: None,
        ..body
    }
}

/// Asserts the status and parses the JSON body.
pub async fn expect_json<T: DeserializeOwned>(resp: Response, status: StatusCode) -> T {
    let got = resp.status();
    let text = resp.text().await.expect("body");
    assert_eq!(got, status, "unexpected status; body: {text}");
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("body is not the expected JSON ({e}): {text}"))
}

/// Asserts the status and that the body is the error envelope; returns it.
pub async fn expect_error(resp: Response, status: StatusCode) -> medvault_types::ErrorBody {
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type}"
    );
    expect_json(resp, status).await
}

/// The temporary password an answer shows: test servers have no SMTP unless a test configures
/// it, so staff see it once.
pub fn shown(temporary_password: &Option<String>) -> &str {
    temporary_password
        .as_deref()
        .expect("a temporary password in the answer (no SMTP configured)")
}

impl TestApp {
    /// The temporary password of `email`: from the answer when it shows one, else from the
    /// e-mail the server sent ([`TestApp::mailbox`]; the one message to that address).
    pub async fn handed_over(&self, email: &str, answer: &Option<String>) -> String {
        if let Some(password) = answer {
            return password.clone();
        }
        let dir = self
            .mailbox
            .as_ref()
            .expect("no password in the answer and no mailbox to read it from");
        let to = email.to_ascii_lowercase();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let mine: Vec<String> =
                records::maildir_messages(dir, records::TEMPORARY_PASSWORD_SUBJECT)
                    .into_iter()
                    .filter(|m| m.to_ascii_lowercase().contains(&to))
                    .collect();
            if let [one] = mine.as_slice() {
                return records::temporary_password_in(one);
            }
            assert!(
                mine.len() < 2 && std::time::Instant::now() < deadline,
                "{} temporary-password e-mails to {email}",
                mine.len()
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// A signed-in actor of the role matrix.
#[derive(Debug, Clone)]
pub struct Actor {
    /// User id.
    pub id: medvault_types::UserId,
    /// Email.
    pub email: String,
    /// Access token.
    pub token: String,
    /// Refresh token.
    pub refresh: String,
}

impl Actor {
    fn from_tokens(t: TokenResponse) -> Self {
        let refresh = refresh_token_of(&t).to_owned();
        Self {
            id: t.user.id,
            email: t.user.email,
            token: t.access_token,
            refresh,
        }
    }
}

/// The cast of the matrix: an admin; two doctors; each with one patient in their care.
#[derive(Debug, Clone)]
pub struct Cast {
    /// The bootstrap admin.
    pub admin: Actor,
    /// A doctor.
    pub doctor: Actor,
    /// Another doctor.
    pub other_doctor: Actor,
    /// A patient in `doctor`'s care.
    pub patient: Actor,
    /// A patient in `other_doctor`'s care.
    pub other_patient: Actor,
}

impl TestApp {
    /// Creates and activates the whole cast.
    pub async fn cast(&self) -> Cast {
        let admin = Actor::from_tokens(self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await);
        let mut doctors = Vec::new();
        let mut patients = Vec::new();
        for n in 0..2 {
            let d = self
                .create_doctor(&admin.token, &format!("doctor{n}@clinic.example"))
                .await;
            let d_tokens = Actor::from_tokens(
                self.activate(
                    &d.doctor.email,
                    &self
                        .handed_over(&d.doctor.email, &d.temporary_password)
                        .await,
                )
                .await,
            );
            let p = self
                .create_patient(
                    "/api/v1/doctor/patients",
                    &d_tokens.token,
                    &format!("patient{n}@home.example"),
                )
                .await;
            let p_tokens = Actor::from_tokens(
                self.activate(
                    &p.patient.email,
                    &self
                        .handed_over(&p.patient.email, &p.temporary_password)
                        .await,
                )
                .await,
            );
            doctors.push(d_tokens);
            patients.push(p_tokens);
        }
        let (other_doctor, doctor) = (doctors.pop().expect("2"), doctors.pop().expect("1"));
        let (other_patient, patient) = (patients.pop().expect("2"), patients.pop().expect("1"));
        Cast {
            admin,
            doctor,
            other_doctor,
            patient,
            other_patient,
        }
    }
}
