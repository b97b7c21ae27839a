//! Authentication and authorization: password hashing, access tokens, refresh sessions,
//! sign-in throttling, and the typed role extractors handlers declare.

pub mod credentials;
pub mod extract;
pub mod jwt;
pub mod mfa;
pub mod one_time;
pub mod password;
pub mod recent;
pub mod second_factor;
pub mod sessions;
pub mod throttle;

pub use extract::{
    AdminUser, AnyUser, AuthUser, ClinicalUser, DoctorUser, PasswordSet, PatientUser, SignedIn,
};
pub use jwt::JwtKeys;
pub use password::PasswordHasher;
