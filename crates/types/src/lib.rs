//! Request/response DTOs shared by the medvault server, its SPA and its tests.
//!
//! No logic lives here: only the shapes that travel over the JSON API, with serde and
//! `utoipa::ToSchema` derives, so the server, the browser client and the OpenAPI spec agree by
//! construction. The crate builds for `wasm32-unknown-unknown`.

pub mod accounts;
pub mod auth;
pub mod consent;
pub mod emergency;
pub mod error;
pub mod health;
pub mod history;
pub mod ids;
pub mod input;
pub mod ledger;
pub mod page;
pub mod patch;
pub mod records;
pub mod role;
pub mod storage;

pub use accounts::*;
pub use auth::*;
pub use consent::*;
pub use emergency::*;
pub use error::{ErrorBody, ErrorDetail};
pub use health::Health;
pub use history::*;
pub use ids::{EmergencyAccessId, GrantId, NoteId, RecordId, RequestId, SessionId, UserId};
pub use ledger::*;
pub use page::{ListQuery, Page};
pub use records::*;
pub use role::Role;
pub use storage::*;
