//! Typed ids: one newtype per kind of object, so a record id can never be passed where a user
//! id is expected. On the wire each is a plain UUID string (`#[serde(transparent)]`), so the
//! JSON API is unchanged; a malformed id in a path or body fails to deserialize.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The UUID inside.
            #[must_use]
            pub const fn as_uuid(self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A user: admin, doctor or patient (doctors and patients are users with a role).
    UserId
);
id_type!(
    /// A stored health record.
    RecordId
);
id_type!(
    /// A doctor's access request to a patient's records.
    RequestId
);
id_type!(
    /// A grant: consented, scoped, expiring access.
    GrantId
);
id_type!(
    /// A visit note a doctor wrote.
    NoteId
);
id_type!(
    /// An emergency (break-glass) access to one patient's records.
    EmergencyAccessId
);
id_type!(
    /// A sign-in session (the refresh-token family behind an access token).
    SessionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_uuid_strings_on_the_wire() {
        let raw = Uuid::from_u128(0x6d65_6476_6175_6c74_0000_0000_0000_0001);
        let id = RecordId::from(raw);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{raw}\""));
        let back: RecordId = serde_json::from_str(&format!("\"{raw}\"")).unwrap();
        assert_eq!(back, id);
        assert_eq!(id.to_string().parse::<RecordId>().unwrap(), id);
        assert!(serde_json::from_str::<UserId>("\"not-a-uuid\"").is_err());
        assert!("../etc".parse::<UserId>().is_err());
    }
}
