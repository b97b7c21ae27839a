//! Account data access: users, doctor and patient profiles, care relations. Synchronous
//! diesel code, called only from inside [`crate::db::run`].

pub mod care;
pub mod doctors;
pub mod patients;
pub mod search;
pub mod users;
