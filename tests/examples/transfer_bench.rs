//! Transfer bench (issue 15): one file of random bytes moved side by side, in one run, by
//!
//! 1. medvault over HTTP with `curl` (a release `medvault serve` on SQLite, k=4 m=2 over the six
//!    buckets of the three Garage instances of `scripts/s3-servers.sh`), `rclone crypt` over an
//!    S3 remote on the first instance's first bucket, and bare `rclone` on that bucket;
//! 2. medvault over HTTP on six directory buckets on tmpfs (`/dev/shm`), and the engine's own put
//!    and get on six other directory buckets there (from and to files, in this process);
//!
//! rounds interleaved, upload and download MiB/s, the median of the rounds, and medvault's
//! ratios to rclone crypt and to the engine. Then 1 GiB uploaded and downloaded through a fresh
//! server on tmpfs, with the server's resident memory idle and at its peak (`VmRSS`, `VmHWM`).
//! Every download is checked against the file's SHA-256 (outside the timing).
//!
//! ```sh
//! scripts/s3-servers.sh up target/s3-servers     # make bench does both
//! cargo build --release -p medvault-server --bin medvault
//! MEDVAULT_TEST_S3_CONFIG=target/s3-servers/storage.toml \
//!   cargo run --release -p medvault-tests --example transfer_bench -- \
//!     [--mib 256] [--rounds 3] [--rss-mib 1024] [--server target/release/medvault]
//! ```
//!
//! Without `MEDVAULT_TEST_S3_CONFIG` the Garage part is skipped; `--rss-mib 0` skips the memory
//! part. Needs `curl` and `rclone` (`scripts/deps.sh test` installs them).

use std::path::{Path, PathBuf};

use medvault_engine::{BucketConfig, Engine, KeyRing, StorageConfig};
use medvault_tests::Backend;
use medvault_tests::bench_args::BenchArgs;
use medvault_tests::load::{Api, SeedPlan, ServerProcess, ServerSetup, seed};
use medvault_tests::transfer::{
    Curl, MIB, Rclone, dir_buckets, engine_get, engine_put, median, memory_mib, mib_per_s,
    random_pdf, sha256_file,
};
use uuid::Uuid;

struct Options {
    mib: u64,
    rounds: usize,
    rss_mib: u64,
    server: PathBuf,
}

fn options() -> Options {
    let args = BenchArgs::from_env();
    Options {
        mib: args.number("--mib", 256),
        rounds: args.number("--rounds", 3),
        rss_mib: args.number("--rss-mib", 1024),
        server: args.server(),
    }
}

/// Upload and download rates of one way of moving the file, one figure per round (MiB/s).
#[derive(Default)]
struct Rates {
    up: Vec<f64>,
    down: Vec<f64>,
}

impl Rates {
    fn row(&self, name: &str) -> String {
        let list = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{x:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "| {name} | **{:.0}** ({}) | **{:.0}** ({}) |",
            median(self.up.clone()),
            list(&self.up),
            median(self.down.clone()),
            list(&self.down)
        )
    }

    /// Ratios of this one's medians to `other`'s, and the range of the per-round ratios.
    fn ratio(&self, other: &Self, name: &str) -> String {
        let per_round = |a: &[f64], b: &[f64]| {
            let r: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
            let lo = r.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = r.iter().copied().fold(0.0, f64::max);
            format!("{lo:.2}-{hi:.2}")
        };
        format!(
            "| {name} | **{:.2}x** (rounds {}) | **{:.2}x** (rounds {}) |",
            median(self.up.clone()) / median(other.up.clone()),
            per_round(&self.up, &other.up),
            median(self.down.clone()) / median(other.down.clone()),
            per_round(&self.down, &other.down)
        )
    }
}

const TABLE_HEAD: &str =
    "| | upload MiB/s, median (rounds) | download MiB/s, median (rounds) |\n|---|---:|---:|";

/// A release server on SQLite with `storage`, and a patient of it with `curl`.
async fn medvault(opts: &Options, storage: StorageConfig, max_file: u64) -> (ServerProcess, Curl) {
    let setup = ServerSetup {
        max_file_bytes: Some(max_file),
        storage: Some(storage),
    };
    let server = ServerProcess::start_with(&opts.server, Backend::Sqlite, &setup);
    let plan = SeedPlan {
        patients: 1,
        records_per_patient: 0,
        concurrency: 1,
        record_bytes: 0,
    };
    let seeded = seed(&Api::new(server.address.clone()), &plan).await;
    let curl = Curl {
        base: server.address.clone(),
        token: seeded.patients[0].token.clone(),
    };
    (server, curl)
}

/// Removes the previous download, so that no tool finds its file already there (`rclone
/// copyto` skips a destination of the same size and time: the previous round's).
fn fresh(back: &Path) -> &Path {
    match std::fs::remove_file(back) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("{}: {e}", back.display()),
        _ => back,
    }
}

/// The file round-tripped through `curl`: adds the rates to `rates`.
fn through_http(curl: &Curl, file: &Path, back: &Path, sha: &str, bytes: u64, rates: &mut Rates) {
    let (id, up) = curl.upload(file);
    let down = curl.download(&id, fresh(back));
    assert_eq!(sha256_file(back), sha, "medvault download differs");
    rates.up.push(mib_per_s(bytes, up));
    rates.down.push(mib_per_s(bytes, down));
}

/// Part 1: medvault on Garage against rclone crypt and bare rclone on the first bucket.
async fn garage(opts: &Options, work: &Path, file: &Path, sha: &str) -> [Rates; 3] {
    let storage = medvault_tests::s3_storage();
    let first = storage
        .buckets
        .iter()
        .find(|b| matches!(b, BucketConfig::S3 { .. }))
        .expect("an S3 bucket in the test configuration")
        .clone();
    let bytes = std::fs::metadata(file).expect("file").len();
    let (_server, curl) = medvault(opts, storage, bytes + MIB).await;
    let rclone = Rclone::on(&first, work);
    let back = work.join("back.pdf");
    let mut rates: [Rates; 3] = Default::default();
    for round in 0..opts.rounds {
        through_http(&curl, file, &back, sha, bytes, &mut rates[0]);
        for (encrypted, r) in [(true, 1), (false, 2)] {
            let remote = rclone.remote(encrypted, &format!("round{round}.pdf"));
            let up = rclone.copy(&file.display().to_string(), &remote);
            let down = rclone.copy(&remote, &fresh(&back).display().to_string());
            assert_eq!(sha256_file(&back), sha, "rclone download differs");
            rates[r].up.push(mib_per_s(bytes, up));
            rates[r].down.push(mib_per_s(bytes, down));
        }
        println!("garage round {} done", round + 1);
    }
    rclone.clean();
    rates
}

fn keys() -> KeyRing {
    KeyRing::parse("t:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("ring")
}

/// Part 2: medvault over HTTP on tmpfs directory buckets against the engine's put and get on
/// tmpfs directory buckets.
async fn tmpfs(opts: &Options, work: &Path, file: &Path, sha: &str) -> [Rates; 2] {
    let bytes = std::fs::metadata(file).expect("file").len();
    let on = |dir: &str| StorageConfig {
        buckets: dir_buckets(&work.join(dir)),
        ..StorageConfig::default()
    };
    let (_server, curl) = medvault(opts, on("server-buckets"), bytes + MIB).await;
    let engine = Engine::new(on("engine-buckets"), keys()).expect("engine");
    let back = work.join("back.pdf");
    let mut rates: [Rates; 2] = Default::default();
    for _ in 0..opts.rounds {
        through_http(&curl, file, &back, sha, bytes, &mut rates[0]);
        let id = Uuid::new_v4();
        let (m, w, up) = engine_put(&engine, id, file).await;
        let down = engine_get(&engine, &m, &w, id, fresh(&back)).await;
        assert_eq!(sha256_file(&back), sha, "engine get differs");
        engine.delete(&m).await.expect("delete");
        rates[1].up.push(mib_per_s(bytes, up));
        rates[1].down.push(mib_per_s(bytes, down));
    }
    rates
}

/// Part 3: `mib` MiB up and down through a fresh server on tmpfs; the server's resident memory
/// idle (after sign-in, before the transfer) and its peak, in MiB.
async fn memory(opts: &Options, work: &Path, mib: u64) -> (f64, f64) {
    let file = work.join("big.pdf");
    let sha = random_pdf(&file, mib * MIB);
    let storage = StorageConfig {
        buckets: dir_buckets(&work.join("rss-buckets")),
        ..StorageConfig::default()
    };
    let (server, curl) = medvault(opts, storage, mib * MIB + MIB).await;
    let idle = memory_mib(server.pid(), "VmRSS");
    let back = work.join("big-back.pdf");
    through_http(&curl, &file, &back, &sha, mib * MIB, &mut Rates::default());
    let peak = memory_mib(server.pid(), "VmHWM");
    for f in [&file, &back] {
        std::fs::remove_file(f).expect("remove");
    }
    (idle, peak)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "{} x {cpu}, load average {}",
        std::thread::available_parallelism().map_or(0, usize::from),
        load.join(" ")
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let opts = options();
    let work = tempfile::tempdir_in("/dev/shm").expect("a directory on tmpfs");
    let file = work.path().join("file.pdf");
    let sha = random_pdf(&file, opts.mib * MIB);
    println!(
        "transfer bench: {} MiB of random bytes, {} rounds; {}",
        opts.mib,
        opts.rounds,
        machine()
    );
    let garage_rates = if std::env::var_os("MEDVAULT_TEST_S3_CONFIG").is_some() {
        Some(garage(&opts, work.path(), &file, &sha).await)
    } else {
        println!("MEDVAULT_TEST_S3_CONFIG not set: Garage part skipped");
        None
    };
    let tmpfs_rates = tmpfs(&opts, work.path(), &file, &sha).await;
    std::fs::remove_file(&file).expect("remove");
    if let Some([medvault, crypt, plain]) = &garage_rates {
        println!(
            "\n{} MiB over Garage (3 instances on loopback)\n{TABLE_HEAD}",
            opts.mib
        );
        println!(
            "{}",
            medvault.row("medvault, HTTP (curl), k=4 m=2 over 6 buckets on 3 instances")
        );
        println!("{}", crypt.row("rclone crypt, 1 bucket of instance 1"));
        println!("{}", plain.row("rclone s3 (unencrypted), same bucket"));
        println!("{}", medvault.ratio(crypt, "medvault / rclone crypt"));
        println!("{}", medvault.ratio(plain, "medvault / rclone s3"));
    }
    let [http, engine] = &tmpfs_rates;
    println!(
        "\n{} MiB on directory buckets on tmpfs\n{TABLE_HEAD}",
        opts.mib
    );
    println!("{}", http.row("medvault, HTTP (curl)"));
    println!("{}", engine.row("engine put / get (files, in process)"));
    println!("{}", http.ratio(engine, "HTTP / engine"));
    if opts.rss_mib > 0 {
        let (idle, peak) = memory(&opts, work.path(), opts.rss_mib).await;
        println!(
            "\n{} MiB uploaded and downloaded through a server on tmpfs: RSS idle {idle:.1} MiB, \
             peak {peak:.1} MiB, {:.1} MiB above idle",
            opts.rss_mib,
            peak - idle
        );
    }
    println!("\nend: {}", machine());
}
