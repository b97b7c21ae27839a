//! The patient's screens.

mod access_log;
mod care;
mod details;
mod grants;
mod history;
mod records;
mod requests;
mod security;
mod upload;

pub use access_log::AccessLog;
pub use care::MyDoctors;
pub use details::Details;
pub use grants::Grants;
pub use history::HistoryPage;
pub use records::Records;
pub use requests::Requests;
pub use security::Security;
