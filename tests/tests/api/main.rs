//! Black-box API tests: every test runs against the real server on SQLite and on PostgreSQL.

mod accounts;
mod auth;
mod errors;
mod jwt;
mod matrix;
mod openapi;
