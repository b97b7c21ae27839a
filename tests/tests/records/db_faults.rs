//! The database under faults: a PostgreSQL restart under traffic (a private cluster this test
//! starts with `pg_ctl` under `target/`, never the shared server), and a full disk under the
//! SQLite file and the directory buckets (a small tmpfs this test mounts).
//!
//! What medvault promises (docs/operations.md): while the database is down every request that
//! needs it answers 503 with the error envelope and `Retry-After`, `/readyz` says not ready,
//! and service resumes by itself once the database is back; a full disk answers 507 and leaves
//! no partial record, and service resumes once there is room.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use medvault_tests::records::{
    Upload, assert_ledger_ok, download_identical, my_records, pdf_bytes, stored_files, upload,
    upload_ok,
};
use medvault_tests::{Backend, TestApp};
use reqwest::StatusCode;

/// The newest PostgreSQL server binaries installed (Debian: `/usr/lib/postgresql/<v>/bin`).
fn pg_bin() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql (scripts/postgres.sh)")
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    dirs.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop().expect("pg_ctl installed")
}

/// A free TCP port on loopback.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A private PostgreSQL cluster under `target/`, run as the `postgres` user (initdb refuses
/// root), stopped and removed on drop.
struct PrivateCluster {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
}

impl PrivateCluster {
    fn start() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace")
            .join("target");
        let dir = root.join(format!("pg-restart-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let cluster = Self {
            dir,
            port: free_port(),
            bin: pg_bin(),
        };
        cluster.chown();
        let data = cluster.dir.join("data");
        Self::as_postgres(&[
            cluster.bin.join("initdb").to_str().expect("path"),
            "-D",
            data.to_str().expect("path"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ]);
        cluster.pg_ctl("start");
        cluster
    }

    fn chown(&self) {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&self.dir)
            .status()
            .expect("chown");
        assert!(ok.success(), "chown the cluster dir to postgres");
    }

    fn as_postgres(argv: &[&str]) {
        let out = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .args(argv)
            .output()
            .expect("runuser (the test runs as root, as `make test` does here)");
        assert!(
            out.status.success(),
            "{argv:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pg_ctl start|stop` (waiting for it; stop is "fast": open connections are cut).
    fn pg_ctl(&self, action: &str) {
        let data = self.dir.join("data");
        let log = self.dir.join("log");
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir.display()
        );
        let mut argv = vec![
            self.bin.join("pg_ctl").to_string_lossy().into_owned(),
            "-D".into(),
            data.to_string_lossy().into_owned(),
            "-w".into(),
            "-l".into(),
            log.to_string_lossy().into_owned(),
            "-o".into(),
            opts,
        ];
        if action == "stop" {
            argv.extend(["-m".into(), "fast".into()]);
        }
        argv.push(action.into());
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        Self::as_postgres(&refs);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What one request during the test got.
#[derive(Debug, Default)]
struct Seen {
    ok: usize,
    unavailable: usize,
    other: Vec<(u16, String)>,
}

/// Restarts PostgreSQL under traffic: during the outage 503 with the envelope (never a 500,
/// never a hang past the pool's wait), `/readyz` 503; afterwards it all works again without
/// restarting medvault, and the ledger verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_under_traffic() {
    let cluster = PrivateCluster::start();
    let url = cluster.url();
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.database_url = Some(url.clone().into());
        c.db_pool_timeout_secs = 2;
    })
    .await;
    let cast = app.cast().await;
    let bytes = pdf_bytes(30_000);
    let meta = upload_ok(&app, &cast.patient.token, &Upload::pdf(bytes.clone())).await;

    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let (client, base, token, stop) = (
            app.client.clone(),
            app.address.clone(),
            cast.patient.token.clone(),
            Arc::clone(&stop),
        );
        tokio::spawn(async move {
            let mut seen = Seen::default();
            while !stop.load(Ordering::Relaxed) {
                for path in ["/api/v1/me", "/api/v1/records"] {
                    let resp = client
                        .get(format!("{base}{path}"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .expect("the server answers");
                    let status = resp.status();
                    let retry = resp.headers().contains_key("retry-after");
                    let body = resp.text().await.unwrap_or_default();
                    match status {
                        StatusCode::OK => seen.ok += 1,
                        StatusCode::SERVICE_UNAVAILABLE
                            if retry && body.contains("\"unavailable\"") =>
                        {
                            seen.unavailable += 1;
                        }
                        other => seen.other.push((other.as_u16(), body)),
                    }
                }
            }
            seen
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.pg_ctl("stop");
    let down = Instant::now();
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        down.elapsed() < Duration::from_secs(5),
        "readiness answers promptly"
    );
    let during = app.get("/api/v1/me", Some(&cast.patient.token)).await;
    assert_eq!(during.status(), StatusCode::SERVICE_UNAVAILABLE);
    let failed = upload(
        &app,
        Some(&cast.patient.token),
        &Upload::pdf(pdf_bytes(20_000)),
    )
    .await;
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    cluster.pg_ctl("start");
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.get("/readyz", None).await.status() != StatusCode::OK {
        assert!(
            Instant::now() < deadline,
            "service did not resume by itself"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let seen = traffic.await.expect("traffic");
    assert!(
        seen.other.is_empty(),
        "only 200 or a 503 envelope: {:?}",
        seen.other
    );
    assert!(seen.unavailable > 0, "the outage was seen: {seen:?}");
    assert!(seen.ok > 0, "{seen:?}");
    // Everything works again on the same process: reads, a new upload, the ledger.
    let page = my_records(&app, &cast.patient.token).await;
    assert_eq!(page.items.len(), 1, "the failed upload left no record");
    download_identical(&app, &cast.patient.token, &meta, &bytes).await;
    upload_ok(&app, &cast.patient.token, &Upload::pdf(pdf_bytes(25_000))).await;
    assert_ledger_ok(&app, &cast.admin.token).await;
}

/// A small tmpfs mounted for the test, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: u32) -> Self {
        let dir = tempfile::tempdir().expect("mount point");
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={mib}m,mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()
            .expect("mount");
        assert!(
            ok.success(),
            "mounting a {mib} MiB tmpfs (the test runs as root, as `make test` does here)"
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy: the server may still hold files open while it stops.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// SQLite and the directory buckets on a full disk: uploads answer 507 once it is full, never
/// 500; no partial record and no temporary file is left; every kept record reads back; once
/// room is made, uploads work again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_507_and_keeps_nothing_partial() {
    let disk = SmallDisk::mount(12);
    let data = disk.path().join("data");
    // Ballast to free later, standing for an operator making room.
    let ballast = disk.path().join("ballast");
    std::fs::write(&ballast, vec![0u8; 3 << 20]).expect("ballast");
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.data_dir.clone_from(&data);
        c.database_url = Some(
            data.join("medvault.db")
                .to_string_lossy()
                .into_owned()
                .into(),
        );
        c.storage.buckets.clear();
        c.storage.chunk_size = 64 * 1024;
    })
    .await;
    let cast = app.cast().await;
    let mut kept = Vec::new();
    let mut refused = None;
    for i in 0..60 {
        let bytes = pdf_bytes(400_000 + i);
        let resp = upload(&app, Some(&cast.patient.token), &Upload::pdf(bytes.clone())).await;
        match resp.status() {
            StatusCode::CREATED => kept.push((resp.json().await.expect("meta"), bytes)),
            status => {
                let body = resp.text().await.unwrap_or_default();
                refused = Some((status, body));
                break;
            }
        }
    }
    let (status, body) = refused.expect("the disk filled up");
    assert!(
        status == StatusCode::INSUFFICIENT_STORAGE || status == StatusCode::SERVICE_UNAVAILABLE,
        "{status}: {body}"
    );
    assert!(body.contains("\"code\""), "the error envelope: {body}");
    let tmp: Vec<PathBuf> = stored_files(&data.join("buckets"))
        .into_iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == ".tmp"))
        .collect();
    assert!(tmp.is_empty(), "temporary files left: {tmp:?}");
    std::fs::remove_file(&ballast).expect("make room");
    let page = my_records(&app, &cast.patient.token).await;
    assert_eq!(page.items.len(), kept.len(), "no partial record is listed");
    for (meta, bytes) in &kept {
        download_identical(&app, &cast.patient.token, meta, bytes).await;
    }
    upload_ok(&app, &cast.patient.token, &Upload::pdf(pdf_bytes(100_000))).await;
    assert_ledger_ok(&app, &cast.admin.token).await;
}
