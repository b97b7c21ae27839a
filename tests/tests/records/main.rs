//! Records, OTP consent, clinical history and the ledger over the API (issue 4), against the
//! real server on SQLite + directory buckets and on PostgreSQL + S3.

// The production allocator (as in the server binary): the server processes this binary runs
// (see `crash::crash_server_process`) are measured for memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod concurrency;
mod consent;
mod consent_locks;
mod consent_model;
mod crash;
mod db_faults;
mod email;
mod emergency;
mod faults;
mod journey;
mod ledger;
mod limits;
mod matrix;
mod panics;
mod races;
mod storage;
mod two_servers;
mod uploads;
