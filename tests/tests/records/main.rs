//! Records, OTP consent, clinical history and the ledger over the API (issue 4), against the
//! real server on SQLite + directory buckets and on PostgreSQL + S3.

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
