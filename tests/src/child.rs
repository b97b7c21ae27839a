//! A medvault server, or an operator's command, run as a separate process on a test app's
//! data: the crash tests kill it with `SIGKILL`, the two-server test puts it beside the
//! in-process server, the drain test kills a drain.
//!
//! The process is the test binary itself, re-executed to run one test only: that test reads
//! the configuration file named by an environment variable and does its work (serve, drain),
//! and returns at once when the variable is unset (a normal test run). A test binary that
//! starts children therefore has one such entry test per kind of child.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use medvault_server::config::Config;
use secrecy::ExposeSecret as _;

/// Writes a configuration file for a process on `cfg`'s data: the same database, data
/// directory (key ring, secrets), signing key and storage (every bucket, chunking, coding and
/// fault settings), the caps, sign-in and consent limits and background tasks (collector,
/// scrubber) as the harness or the test set them, and `bind` when given.
///
/// # Panics
/// When the file cannot be written, or `cfg` has no signing key (the harness always sets one).
pub fn write_config(cfg: &Config, bind: Option<u16>, path: &Path) {
    #[derive(serde::Serialize)]
    struct Tables {
        scrub: medvault_server::storage::ScrubConfig,
        storage: medvault_engine::StorageConfig,
    }
    let mut text = String::new();
    if let Some(port) = bind {
        writeln!(text, "bind = \"127.0.0.1:{port}\"").expect("write to a String");
    }
    write!(
        text,
        "data_dir = {:?}\ndatabase_url = {:?}\nallow_insecure_transport = true\n\n\
         [auth]\njwt_secret = {:?}\nstaff_mfa_required = false\n\
         slowdown_after = {}\nlock_after = {}\n\n\
         [consent]\ndownloads_per_grant = {}\n\n\
         [limits]\nmax_transfers = {}\nmax_transfers_per_user = {}\n\n\
         [http]\nworkers = 2\n\n\
         [records]\ncollector_interval_secs = {}\ngc_grace_secs = {}\n\n",
        cfg.data_dir.display().to_string(),
        cfg.effective_database_url().expose_secret(),
        cfg.auth
            .jwt_secret
            .as_ref()
            .expect("the harness sets a signing key")
            .expose_secret(),
        cfg.auth.slowdown_after,
        cfg.auth.lock_after,
        cfg.consent.downloads_per_grant,
        cfg.limits.max_transfers,
        cfg.limits.max_transfers_per_user,
        cfg.records.collector_interval_secs,
        cfg.records.gc_grace_secs,
    )
    .expect("write to a String");
    text.push_str(
        &toml::to_string(&Tables {
            scrub: cfg.scrub.clone(),
            storage: cfg.effective_storage(),
        })
        .expect("storage as TOML"),
    );
    std::fs::write(path, text).expect("write config");
}

/// The body of a child server's entry test: when `var` names a configuration file, serves it
/// (printing `LISTENING` once bound) until the process is killed; otherwise returns at once.
///
/// # Panics
/// When the configuration cannot be read or the server cannot start.
pub async fn serve_if_asked(var: &str) {
    let Ok(path) = std::env::var(var) else {
        return;
    };
    let cfg = Config::from_file(Path::new(&path)).expect("child config");
    let state = crate::state_on(&cfg).await.expect("child state");
    let listener = TcpListener::bind(cfg.bind).expect("bind");
    let server = medvault_server::run(listener, actix_web::web::Data::from(state)).expect("server");
    println!("LISTENING");
    server.await.expect("serve");
}

/// A port free right now on loopback.
///
/// # Panics
/// When no port can be bound.
#[must_use]
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A server process (the test binary running `entry`, see [`serve_if_asked`]), stopped with
/// `SIGKILL` by [`ServerProcess::kill`] or when dropped.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub address: String,
}

impl ServerProcess {
    /// Writes `cfg`'s configuration to `conf` on a free port and starts the process running
    /// the test `entry` with `var` naming the file; returns once it listens.
    ///
    /// # Panics
    /// When the process cannot start or exits before it listens.
    #[must_use]
    pub fn start(cfg: &Config, conf: &Path, entry: &str, var: &str) -> Self {
        let port = free_port();
        write_config(cfg, Some(port), conf);
        let me = std::env::current_exe().expect("test binary");
        let mut child = Command::new(me)
            .args([entry, "--exact", "--nocapture", "--test-threads=1"])
            .env(var, conf)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("server process");
        let stdout = child.stdout.take().expect("stdout");
        let listening = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|l| l.contains("LISTENING"));
        assert!(listening, "the server process did not start");
        Self {
            child,
            address: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with `SIGKILL` and reaps it.
    ///
    /// # Panics
    /// When the process cannot be signalled, or had already exited successfully.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        let status = self.child.wait().expect("wait");
        assert!(!status.success(), "killed, not finished: {status:?}");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
