//! Records, consent, history and ledger DTOs, read from `crates/types` sources until that crate
//! exports them (then `api::dto` re-exports them from `medvault_types` and this file goes).

pub use crate::consent::*;
pub use crate::history::*;
pub use crate::ledger::*;
pub use crate::records::*;
