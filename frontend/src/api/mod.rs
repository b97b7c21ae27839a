//! The one typed client of the medvault API: every screen calls the functions here, never
//! `fetch` directly. [`transport`] carries requests (tokens, renewal, uploads, downloads);
//! [`calls`] names each endpoint with its request and answer types from [`dto`].

pub mod calls;
pub mod dto;
pub mod transport;

pub use crate::logic::errors::ApiError;
