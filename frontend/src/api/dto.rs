//! The API's request and answer shapes, all from the shared types crate, so the SPA, the
//! server and the `OpenAPI` spec agree by construction.

pub use medvault_types::*;
