//! Load bench (issue 15): a release `medvault serve` in its own process on SQLite and on
//! PostgreSQL (directory buckets), seeded through the API with 1,000 patients and 10,000
//! records, under `hey -z 30s -c 200` on `GET /api/v1/me`, `GET /api/v1/records` (ledgered: a
//! `record.list` entry per call) and `GET /api/v1/me/access-log`, median of three rounds, beside a
//! bare actix-web handler returning a JSON body of the size of `/me` (this binary re-run with
//! `--bare-json`, in its own process too). Then sign-in: p50 at 2 connections and throughput at
//! 20 against `cores / (one argon2id verify)` measured here. Prints a table per backend and the
//! issue's ratios.
//!
//! ```sh
//! cargo build --release -p medvault-server --bin medvault
//! cargo run --release -p medvault-tests --example load_bench -- \
//!     [--backend sqlite|postgres|both] [--secs 30] [--runs 3] [--connections 200] \
//!     [--patients 1000] [--records-per-patient 10] [--server target/release/medvault]
//! ```

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use medvault_tests::bench_args::BenchArgs;
use medvault_tests::load::{
    Api, Hey, HeyReport, Load, SeedPlan, ServerProcess, json_body_of_len, seed, serve_bare_json,
};
use medvault_tests::{Backend, USER_PASSWORD};

/// Workers of both servers (medvault's default: one per core).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

struct Options {
    backends: Vec<Backend>,
    secs: u64,
    runs: usize,
    connections: usize,
    patients: usize,
    records_per_patient: usize,
    server: PathBuf,
}

fn options() -> Options {
    let args = BenchArgs::from_env();
    let number = |name: &str, default: usize| args.number(name, default);
    let backends = match args.value("--backend").as_deref() {
        None | Some("both") => vec![Backend::Sqlite, Backend::Postgres],
        Some("sqlite") => vec![Backend::Sqlite],
        Some("postgres") => vec![Backend::Postgres],
        Some(other) => panic!("--backend {other}: sqlite, postgres or both"),
    };
    Options {
        backends,
        secs: args.number("--secs", 30),
        runs: number("--runs", 3),
        connections: number("--connections", 200),
        patients: number("--patients", 1_000),
        records_per_patient: number("--records-per-patient", 10),
        server: args.server(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--bare-json") {
        // The bare handler's process: `--bare-json <port> <body bytes>`.
        let port: u16 = args[2].parse().expect("port");
        let len: usize = args[3].parse().expect("length");
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
        serve_bare_json(listener, json_body_of_len(len), cores()).expect("bare server");
        return;
    }
    let options = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench(&options));
}

/// A child process killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_bare(len: usize) -> (Child, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = std::process::Command::new(std::env::current_exe().expect("own path"))
        .args(["--bare-json", &port.to_string(), &len.to_string()])
        .spawn()
        .expect("bare server");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
        assert!(Instant::now() < deadline, "bare server did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Child(child), format!("http://127.0.0.1:{port}/"))
}

/// CPU seconds (user + system) `pid` has used, from `/proc/<pid>/stat`.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the ")" closing the command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Clock ticks are 100 per second on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The median runs of one endpoint, and what they all add up to.
struct Summary {
    name: &'static str,
    requests_per_sec: f64,
    p50: Duration,
    p99: Duration,
    errors: u64,
    non_2xx: u64,
    responses: u64,
    /// The server's CPU use during the runs, in cores (None for the bare server's, not sampled).
    server_cores: Option<f64>,
}

fn median<T: PartialOrd + Copy>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    v[v.len() / 2]
}

impl Summary {
    fn of(name: &'static str, runs: &[HeyReport], server_cores: Option<f64>) -> Self {
        Self {
            name,
            requests_per_sec: median(runs.iter().map(|r| r.requests_per_sec).collect()),
            p50: median(runs.iter().map(|r| r.p50).collect()),
            p99: median(runs.iter().map(|r| r.p99).collect()),
            errors: runs.iter().map(|r| r.errors).sum(),
            non_2xx: runs.iter().map(HeyReport::non_2xx).sum(),
            responses: runs.iter().map(HeyReport::responses).sum(),
            server_cores,
        }
    }

    fn tail(&self) -> f64 {
        self.p99.as_secs_f64() / self.p50.as_secs_f64().max(1e-9)
    }

    fn row(&self) -> String {
        format!(
            "| {} | {:.0} | {:.1} | {:.1} | {:.2} | {} | {} | {} | {} |",
            self.name,
            self.requests_per_sec,
            ms(self.p50),
            ms(self.p99),
            self.tail(),
            self.errors,
            self.non_2xx,
            self.responses,
            self.server_cores
                .map_or_else(|| "-".to_owned(), |c| format!("{c:.2}")),
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// Median time of one argon2id verify at the server's settings, on one thread.
fn argon2_verify_time() -> Duration {
    let hasher = medvault_server::auth::password::PasswordHasher::new(
        &medvault_server::config::AuthConfig::default(),
    )
    .expect("hasher");
    let hash = hasher.hash_blocking(USER_PASSWORD).expect("hash");
    let times: Vec<Duration> = (0..15)
        .map(|_| {
            let t = Instant::now();
            assert!(hasher.verify_blocking(USER_PASSWORD, &hash));
            t.elapsed()
        })
        .collect();
    median(times)
}

#[expect(
    clippy::too_many_lines,
    reason = "the bench's steps in order, one script"
)]
async fn bench(options: &Options) {
    let hey = Hey::require();
    let duration = Duration::from_secs(options.secs);
    println!(
        "load bench: hey -z {}s -c {}, median of {} rounds; {} cores; load average at start {}",
        options.secs,
        options.connections,
        options.runs,
        cores(),
        load_average()
    );
    for &backend in &options.backends {
        let server = ServerProcess::start(&options.server, backend);
        let api = Api::new(server.address.clone());
        let plan = SeedPlan {
            patients: options.patients,
            records_per_patient: options.records_per_patient,
            concurrency: 8,
            record_bytes: 1024,
        };
        let seeded = seed(&api, &plan).await;
        server.analyze();
        println!(
            "\n## {backend:?}: seeded {} patients and {} records (1 KiB PDFs) in {:.1} s",
            seeded.patients.len(),
            seeded.records,
            seeded.elapsed.as_secs_f64()
        );
        let patient = seeded.patients.first().expect("a patient");
        let token = api.login(&patient.email, USER_PASSWORD).await.access_token;
        let me_len = api.get_ok("/api/v1/me", &token).await;
        let records_len = api.get_ok("/api/v1/records", &token).await;
        let log_len = api.get_ok("/api/v1/me/access-log", &token).await;
        println!(
            "bodies: /me {me_len} B, /records {records_len} B, /me/access-log {log_len} B; bare handler {me_len} B"
        );
        let (_bare, bare_url) = start_bare(me_len);
        let endpoints = [
            ("bare actix-web", bare_url),
            ("GET /api/v1/me", api.url("/api/v1/me")),
            ("GET /api/v1/records", api.url("/api/v1/records")),
            (
                "GET /api/v1/me/access-log",
                api.url("/api/v1/me/access-log"),
            ),
        ];
        let mut reports: Vec<Vec<HeyReport>> = vec![Vec::new(); endpoints.len()];
        let mut cpu = vec![0.0; endpoints.len()];
        let mut wall = vec![0.0; endpoints.len()];
        // Rounds interleave the endpoints, so a change in the machine's load hits all alike.
        for round in 0..options.runs {
            for (i, (name, url)) in endpoints.iter().enumerate() {
                let token = (i > 0).then_some(token.as_str());
                let before = cpu_secs(server.pid());
                let t = Instant::now();
                let report = hey
                    .run(&Load::get(
                        url.clone(),
                        token,
                        options.connections,
                        duration,
                    ))
                    .await;
                wall[i] += t.elapsed().as_secs_f64();
                cpu[i] += cpu_secs(server.pid()) - before;
                println!(
                    "round {} {name}: {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, errors {}, non-2xx {}{}",
                    round + 1,
                    report.requests_per_sec,
                    ms(report.p50),
                    ms(report.p99),
                    report.errors,
                    report.non_2xx(),
                    report
                        .error_lines
                        .first()
                        .map(|l| format!(" ({l})"))
                        .unwrap_or_default()
                );
                reports[i].push(report);
            }
        }
        let summaries: Vec<Summary> = endpoints
            .iter()
            .zip(&reports)
            .enumerate()
            .map(|(i, ((name, _), runs))| {
                Summary::of(name, runs, (i > 0).then(|| cpu[i] / wall[i].max(1e-9)))
            })
            .collect();

        // Sign-in, against the argon2id verify time measured now.
        let verify = argon2_verify_time();
        let login = serde_json::json!({"email": patient.email, "password": USER_PASSWORD});
        let login_url = api.url("/api/v1/auth/login");
        let c2 = hey
            .run(&Load::post_json(login_url.clone(), &login, 2, duration))
            .await;
        let c20 = hey
            .run(&Load::post_json(login_url, &login, 20, duration))
            .await;
        #[expect(clippy::cast_precision_loss, reason = "a core count")]
        let ceiling = cores() as f64 / verify.as_secs_f64();

        println!(
            "\n| {backend:?} | req/s | p50 ms | p99 ms | p99/p50 | errors | non-2xx | responses | server CPU (cores) |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for s in &summaries {
            println!("{}", s.row());
        }
        for (name, r) in [("sign-in c=2", &c2), ("sign-in c=20", &c20)] {
            println!(
                "| {name} | {:.1} | {:.1} | {:.1} | {:.2} | {} | {} | {} | - |",
                r.requests_per_sec,
                ms(r.p50),
                ms(r.p99),
                r.tail_ratio(),
                r.errors,
                r.non_2xx(),
                r.responses()
            );
        }
        let (bare, me, records, log) = (&summaries[0], &summaries[1], &summaries[2], &summaries[3]);
        let dirty: u64 = summaries[1..]
            .iter()
            .map(|s| s.errors + s.non_2xx)
            .sum::<u64>()
            + c2.errors
            + c2.non_2xx()
            + c20.errors
            + c20.non_2xx();
        let me_vs_bare = me.requests_per_sec / bare.requests_per_sec;
        let signin_ratio = c20.requests_per_sec / ceiling;
        println!("\nratios ({backend:?}):");
        println!(
            "  /me throughput vs bare handler: {me_vs_bare:.2} (target >= 0.5: {})",
            verdict(me_vs_bare >= 0.5)
        );
        println!(
            "  /me p99/p50: {:.2} (target <= 2: {})",
            me.tail(),
            verdict(me.tail() <= 2.0)
        );
        println!(
            "  /records (ledgered) p99/p50: {:.2} (target <= 3: {}); throughput vs /me {:.2}",
            records.tail(),
            verdict(records.tail() <= 3.0),
            records.requests_per_sec / me.requests_per_sec
        );
        println!(
            "  /me/access-log (unledgered) p99/p50: {:.2} (target <= 2: {}); throughput vs /me {:.2}",
            log.tail(),
            verdict(log.tail() <= 2.0),
            log.requests_per_sec / me.requests_per_sec
        );
        println!("  bare handler p99/p50: {:.2}", bare.tail());
        println!(
            "  sign-in p50 at c=2: {:.1} ms (target < 40 ms: {}); one argon2id verify {:.1} ms",
            ms(c2.p50),
            verdict(ms(c2.p50) < 40.0),
            ms(verify)
        );
        println!(
            "  sign-in at c=20: {:.1}/s vs cores/verify {ceiling:.1}/s = {signin_ratio:.2} (target >= 0.8: {})",
            c20.requests_per_sec,
            verdict(signin_ratio >= 0.8)
        );
        println!(
            "  errors + non-2xx over every medvault run: {dirty} (target 0: {})",
            verdict(dirty == 0)
        );
        if dirty > 0 {
            let log = server.log();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            println!(
                "server log (last lines, newest first):\n{}",
                tail.join("\n")
            );
        }
    }
    println!("\nload average at end {}", load_average());
}
