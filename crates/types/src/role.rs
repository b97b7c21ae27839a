//! The closed set of roles. Written once; everything else derives from [`Role::ALL`].

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a user may do. Authorization is decided by role, then by object ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages doctors and patients; reads the ledger.
    Admin,
    /// Adds and views patients in their care; reads records with consent.
    Doctor,
    /// Owns their records and decides who sees them.
    Patient,
}

impl Role {
    /// Every role, the single list the server, the SPA and the tests iterate over.
    pub const ALL: [Self; 3] = [Self::Admin, Self::Doctor, Self::Patient];

    /// The wire and database name (`admin`, `doctor`, `patient`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Doctor => "doctor",
            Self::Patient => "patient",
        }
    }

    /// Parses the wire/database name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
