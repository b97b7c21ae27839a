//! The command line of the benchmarks (`tests/examples/*_bench.rs`): `--name value` options
//! and the release server binary they start.

use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A benchmark's arguments (the program name left out).
#[derive(Debug, Clone)]
pub struct BenchArgs {
    args: Vec<String>,
}

impl BenchArgs {
    /// The arguments of this process.
    #[must_use]
    pub fn from_env() -> Self {
        Self {
            args: std::env::args().skip(1).collect(),
        }
    }

    /// The value after `name`, if given.
    #[must_use]
    pub fn value(&self, name: &str) -> Option<String> {
        self.args
            .iter()
            .position(|a| a == name)
            .and_then(|i| self.args.get(i + 1))
            .cloned()
    }

    /// The number after `name`, or `default`.
    ///
    /// # Panics
    /// When the value given is not a number of that type.
    #[must_use]
    pub fn number<T>(&self, name: &str, default: T) -> T
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        self.value(name).map_or(default, |v| {
            v.parse().unwrap_or_else(|e| panic!("{name} {v}: {e}"))
        })
    }

    /// The medvault binary to start: `--server`, or the release build beside this example
    /// (`target/release/examples/x` -> `target/release/medvault`).
    ///
    /// # Panics
    /// When the binary is not there (the message says how to build it).
    #[must_use]
    pub fn server(&self) -> PathBuf {
        let server = self.value("--server").map_or_else(
            || {
                std::env::current_exe()
                    .expect("own path")
                    .parent()
                    .and_then(Path::parent)
                    .expect("target/release")
                    .join("medvault")
            },
            PathBuf::from,
        );
        assert!(
            server.is_file(),
            "{} not found: `cargo build --release -p medvault-server --bin medvault` first (make bench does)",
            server.display()
        );
        server
    }
}
