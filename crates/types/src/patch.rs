//! Serde plumbing for PATCH bodies: tell "field absent" from "field set to null".

use serde::{Deserialize, Deserializer};

/// Use with `#[serde(default, deserialize_with = "medvault_types::patch::nullable")]` on an
/// `Option<Option<T>>`: absent -> `None` (leave unchanged), `null` -> `Some(None)` (clear),
/// a value -> `Some(Some(v))` (set).
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[expect(clippy::option_option, reason = "the three states of a PATCH field")]
    struct Body {
        #[serde(default, deserialize_with = "super::nullable")]
        phone: Option<Option<String>>,
    }

    #[test]
    fn absent_null_and_value_are_distinct() {
        let absent: Body = serde_json::from_str("{}").unwrap();
        assert_eq!(absent.phone, None);
        let null: Body = serde_json::from_str(r#"{"phone":null}"#).unwrap();
        assert_eq!(null.phone, Some(None));
        let set: Body = serde_json::from_str(r#"{"phone":"+1 555"}"#).unwrap();
        assert_eq!(set.phone, Some(Some("+1 555".into())));
    }
}
