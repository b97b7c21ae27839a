//! Black-box API tests: every test runs against the real server on SQLite and on PostgreSQL.

mod accounts;
mod auth;
mod errors;
mod jwt;
mod lockout;
mod matrix;
mod mfa;
mod openapi;
mod sessions;
mod transport;
