//! Transfer benchmark helpers (`examples/transfer_bench.rs`): a file of random bytes, timed
//! `curl` uploads and downloads through a medvault server, `rclone` against an S3 bucket (bare,
//! and as `rclone crypt`), the engine driven directly from and to files, and a process's
//! memory from `/proc`.
//!
//! The command-line tools run with the environment's CA-bundle variables removed: every
//! endpoint here is plain HTTP on loopback.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, TryStreamExt as _, stream};
use medvault_engine::{BucketConfig, Engine, Manifest, WrappedDek};
use rand::RngCore as _;
use secrecy::ExposeSecret as _;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::records::PDF_HEADER;

/// Bytes in a MiB.
pub const MIB: u64 = 1024 * 1024;

/// Variables naming CA bundles, unset for the tools (plain-HTTP loopback endpoints).
const CA_VARIABLES: [&str; 6] = [
    "AWS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NIX_SSL_CERT_FILE",
];

/// MiB per second of `bytes` moved in `took`.
#[expect(clippy::cast_precision_loss, reason = "a figure for humans")]
pub fn mib_per_s(bytes: u64, took: Duration) -> f64 {
    bytes as f64 / MIB as f64 / took.as_secs_f64()
}

/// The median of `v` (the upper one of an even count).
///
/// # Panics
/// When `v` is empty or holds a NaN.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    v[v.len() / 2]
}

/// Writes a PDF of `len` bytes at `path`: the header, then random (incompressible) bytes,
/// 1 MiB at a time; its SHA-256, hex.
///
/// # Panics
/// When the file cannot be written or `len` is shorter than the header.
pub fn random_pdf(path: &Path, len: u64) -> String {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut hasher = Sha256::new();
    let mut left = len - PDF_HEADER.len() as u64;
    file.write_all(PDF_HEADER).expect("write");
    hasher.update(PDF_HEADER);
    let mut buf = vec![0u8; usize::try_from(MIB).expect("usize")];
    while left > 0 {
        let n = usize::try_from(left.min(MIB)).expect("usize");
        rand::thread_rng().fill_bytes(&mut buf[..n]);
        file.write_all(&buf[..n]).expect("write");
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    file.flush().expect("flush");
    hex::encode(hasher.finalize())
}

/// SHA-256 of a file, hex.
///
/// # Panics
/// When the file cannot be read.
pub fn sha256_file(path: &Path) -> String {
    let mut file = std::fs::File::open(path).expect("open");
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).expect("read");
        if n == 0 {
            return hex::encode(hasher.finalize());
        }
        hasher.update(&buf[..n]);
    }
}

/// Runs `cmd` with the CA-bundle variables removed and `cmd`'s output captured; the time it
/// took and its output.
///
/// # Panics
/// When the command cannot start or fails.
pub fn timed(cmd: &mut Command) -> (Duration, Output) {
    for v in CA_VARIABLES {
        cmd.env_remove(v);
    }
    cmd.stdin(Stdio::null());
    let t0 = Instant::now();
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let took = t0.elapsed();
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (took, out)
}

/// A patient's uploads and downloads through a medvault server, with `curl`.
#[derive(Debug, Clone)]
pub struct Curl {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The patient's access token.
    pub token: String,
}

impl Curl {
    fn command(&self) -> Command {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--fail-with-body", "-H"])
            .arg(format!("Authorization: Bearer {}", self.token));
        cmd
    }

    /// Uploads `file` as a PDF record (`multipart/form-data`, streamed from the file); the new
    /// record's id and the time the request took.
    ///
    /// # Panics
    /// When curl fails or the answer is not a record.
    pub fn upload(&self, file: &Path) -> (String, Duration) {
        let (took, out) = timed(
            self.command()
                // No `Expect: 100-continue` round trip before the body.
                .args(["-H", "Expect:", "-F"])
                .arg(format!("file=@{};type=application/pdf", file.display()))
                .args([
                    "-F",
                    "title=Transfer bench",
                    "-F",
                    "report_date=2026-12-05",
                    "-F",
                    "category=lab_report",
                ])
                .arg(format!("{}/api/v1/records", self.base)),
        );
        let meta: medvault_types::RecordMeta =
            serde_json::from_slice(&out.stdout).expect("the upload's answer is a record");
        (meta.id.to_string(), took)
    }

    /// Downloads record `id` into `to`; the time it took.
    ///
    /// # Panics
    /// When curl fails.
    pub fn download(&self, id: &str, to: &Path) -> Duration {
        timed(
            self.command()
                .arg("-o")
                .arg(to)
                .arg(format!("{}/api/v1/records/{id}/content", self.base)),
        )
        .0
    }
}

/// `rclone` on one S3 bucket, configured by environment variables alone (an empty config
/// file): remote `plain:` is the bucket, remote `crypt:` is `rclone crypt` over a folder of it.
#[derive(Debug)]
pub struct Rclone {
    env: Vec<(String, String)>,
    config: PathBuf,
    bucket: String,
}

impl Rclone {
    /// Remotes on `bucket` (an S3 bucket configuration), with an empty config file under
    /// `work`.
    ///
    /// # Panics
    /// When `bucket` is not an S3 bucket or `rclone` cannot run.
    pub fn on(bucket: &BucketConfig, work: &Path) -> Self {
        let BucketConfig::S3 {
            bucket,
            endpoint,
            region,
            access_key_id,
            secret_access_key,
            ..
        } = bucket
        else {
            panic!("rclone needs an S3 bucket");
        };
        let config = work.join("rclone.conf");
        std::fs::write(&config, "").expect("empty rclone config");
        let obscured = |secret: &str| {
            let (_, out) = timed(Command::new("rclone").args(["obscure", secret]));
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        let mut env = vec![
            ("RCLONE_CONFIG_PLAIN_TYPE", "s3".to_owned()),
            ("RCLONE_CONFIG_PLAIN_PROVIDER", "Other".to_owned()),
            ("RCLONE_CONFIG_PLAIN_ACCESS_KEY_ID", access_key_id.clone()),
            (
                "RCLONE_CONFIG_PLAIN_SECRET_ACCESS_KEY",
                secret_access_key.expose_secret().to_owned(),
            ),
            ("RCLONE_CONFIG_PLAIN_REGION", region.clone()),
            ("RCLONE_CONFIG_PLAIN_FORCE_PATH_STYLE", "true".to_owned()),
            ("RCLONE_CONFIG_CRYPT_TYPE", "crypt".to_owned()),
            (
                "RCLONE_CONFIG_CRYPT_REMOTE",
                format!("plain:{bucket}/rclone-bench-crypt"),
            ),
            (
                "RCLONE_CONFIG_CRYPT_PASSWORD",
                obscured(&Uuid::new_v4().to_string()),
            ),
            (
                "RCLONE_CONFIG_CRYPT_PASSWORD2",
                obscured(&Uuid::new_v4().to_string()),
            ),
        ];
        if let Some(e) = endpoint {
            env.push(("RCLONE_CONFIG_PLAIN_ENDPOINT", e.clone()));
        }
        Self {
            env: env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            config,
            bucket: bucket.clone(),
        }
    }

    /// Where `name` lives on the remote: `crypt:<name>`, or under `rclone-bench-plain/` in the
    /// bucket.
    pub fn remote(&self, encrypted: bool, name: &str) -> String {
        if encrypted {
            format!("crypt:{name}")
        } else {
            format!("plain:{}/rclone-bench-plain/{name}", self.bucket)
        }
    }

    /// `rclone copyto from to` with rclone's default transfer settings; the time it took.
    ///
    /// # Panics
    /// When rclone fails.
    pub fn copy(&self, from: &str, to: &str) -> Duration {
        timed(
            Command::new("rclone")
                .arg("--config")
                .arg(&self.config)
                .args(["copyto", from, to])
                .envs(self.env.iter().map(|(k, v)| (k, v))),
        )
        .0
    }

    /// Deletes everything the bench wrote to the bucket.
    ///
    /// # Panics
    /// When rclone fails.
    pub fn clean(&self) {
        for folder in ["rclone-bench-plain", "rclone-bench-crypt"] {
            timed(
                Command::new("rclone")
                    .arg("--config")
                    .arg(&self.config)
                    .args(["purge", &format!("plain:{}/{folder}", self.bucket)])
                    .envs(self.env.iter().map(|(k, v)| (k, v))),
            );
        }
    }
}

/// Six directory buckets `b0` .. `b5` under `base` (each its own provider).
pub fn dir_buckets(base: &Path) -> Vec<BucketConfig> {
    (0..6)
        .map(|i| BucketConfig::Dir {
            name: format!("d{i}"),
            path: base.join(format!("b{i}")),
            provider: None,
        })
        .collect()
}

/// `path` read in 64 KiB pieces (as an HTTP body arrives).
fn file_pieces(path: &Path) -> impl Stream<Item = std::io::Result<Bytes>> + Send + use<> {
    let file = std::fs::File::open(path).expect("open");
    stream::try_unfold(file, |mut file| async move {
        let mut buf = BytesMut::zeroed(64 * 1024);
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((buf.freeze(), file)))
    })
}

/// Stores the file at `path` through the engine as record `id`; the manifest, wrapped key and
/// the time it took.
///
/// # Panics
/// When the put fails.
pub async fn engine_put(
    engine: &Engine,
    id: Uuid,
    path: &Path,
) -> (Manifest, WrappedDek, Duration) {
    let t0 = Instant::now();
    let (m, w) = engine.put(id, file_pieces(path)).await.expect("engine put");
    (m, w, t0.elapsed())
}

/// Reads record `id` back through the engine into the file `to`; the time it took.
///
/// # Panics
/// When the get or the write fails.
pub async fn engine_get(
    engine: &Engine,
    m: &Manifest,
    w: &WrappedDek,
    id: Uuid,
    to: &Path,
) -> Duration {
    let t0 = Instant::now();
    let mut out = std::fs::File::create(to).expect("create");
    let mut body = engine.get(m, w, id);
    while let Some(piece) = body.try_next().await.expect("engine get") {
        out.write_all(&piece).expect("write");
    }
    t0.elapsed()
}

/// A field of `/proc/<pid>/status` in KiB (`VmRSS`: resident now, `VmHWM`: the peak).
///
/// # Panics
/// When the process or the field does not exist.
#[must_use]
pub fn memory_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("{field} of process {pid}"))
}

/// The same field in MiB.
///
/// # Panics
/// When the process or the field does not exist.
#[expect(clippy::cast_precision_loss, reason = "a figure for humans")]
#[must_use]
pub fn memory_mib(pid: u32, field: &str) -> f64 {
    memory_kib(pid, field) as f64 / 1024.0
}
