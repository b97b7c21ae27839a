//! Ids as the database stores them (hyphenated UUID text) back into their types. A stored id
//! that does not parse is a server bug (500), never a client error.

use medvault_types::{EmergencyAccessId, GrantId, NoteId, RecordId, RequestId, SessionId, UserId};
use uuid::Uuid;

use crate::error::ApiError;

/// An id type read back from a text column.
pub trait StoredId: Sized {
    /// Parses the stored text; malformed text is a 500.
    fn from_stored(text: &str) -> Result<Self, ApiError>;
}

macro_rules! stored_id {
    ($($ty:ty),*) => {$(
        impl StoredId for $ty {
            fn from_stored(text: &str) -> Result<Self, ApiError> {
                text.parse()
                    .map_err(|_| ApiError::internal("malformed id in database"))
            }
        }
    )*};
}

stored_id!(
    Uuid,
    UserId,
    RecordId,
    RequestId,
    GrantId,
    NoteId,
    SessionId,
    EmergencyAccessId
);

/// A fresh random (version 4) id of any id type: new rows get theirs here, on the server
/// (the shared types crate stays free of a random source).
pub trait FreshId: From<Uuid> {
    /// A new random id.
    fn fresh() -> Self {
        Self::from(Uuid::new_v4())
    }
}

impl<T: From<Uuid>> FreshId for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_ids_parse_or_fail_as_internal() {
        let id = UserId::fresh();
        assert_eq!(UserId::from_stored(&id.to_string()).unwrap(), id);
        assert!(matches!(
            RecordId::from_stored("nope"),
            Err(ApiError::Internal(_))
        ));
    }
}
