//! The API's request and answer shapes: all of them from `medvault-types`, so the SPA, the
//! server and the OpenAPI spec agree by construction.

pub use medvault_types::*;

pub use crate::types_pending::*;
