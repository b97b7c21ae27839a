//! The rules of the API's text inputs, stated once: the server's validators take their limits
//! from here, and the OpenAPI document publishes each rule as a JSON Schema (`maxLength` and a
//! `pattern`) through `#[schema(schema_with = ...)]`, so that what the schema allows the
//! server accepts and what it refuses the server refuses.
//!
//! Every text is measured twice, in characters: as sent, against `max` (the schema's
//! `maxLength`), and after trimming surrounding white space, against the rule (the `pattern`
//! spells out "trimmed, then ..."). Control characters are refused inside the trimmed text
//! (multi-line texts allow tab, line feed and carriage return). Optional texts that are blank
//! count as absent.

use serde::{Deserialize, Deserializer};
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{Object, RefOr, Schema};

/// White space as the server trims it (Unicode `White_Space`, Rust's `str::trim`).
const WS: &str = r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// A character that is neither white space nor a control character.
const VISIBLE: &str = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// Any character of a single-line text (no control characters).
const LINE_CHAR: &str = r"[^\x00-\x1f\x7f-\x9f]";
/// Any character of a multi-line text (tab, line feed and carriage return allowed).
const MULTILINE_CHAR: &str = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]";

/// A free text: `min..=max` characters once trimmed, at most `max` as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    /// Fewest characters after trimming (0: may be blank).
    pub min: usize,
    /// Most characters, as sent and after trimming.
    pub max: usize,
    /// Line breaks and tabs allowed.
    pub multiline: bool,
}

impl TextRule {
    /// The regular expression (ECMA-262 and Python `re` alike) of a value that obeys the rule
    /// once trimmed; the length limit is the schema's `maxLength`.
    #[must_use]
    pub fn pattern(&self) -> String {
        let any = if self.multiline {
            MULTILINE_CHAR
        } else {
            LINE_CHAR
        };
        let trimmed = match self.min {
            0 => format!("(?:{VISIBLE}(?:{any}*{VISIBLE})?)?"),
            1 => format!("{VISIBLE}(?:{any}*{VISIBLE})?"),
            n => format!("{VISIBLE}{any}{{{},}}{VISIBLE}", n - 2),
        };
        format!("^{WS}*{trimmed}{WS}*$")
    }

    fn schema(&self, nullable: bool) -> Object {
        string(nullable, self.max, &self.pattern())
    }
}

/// A person's given, family or full name, or a doctor's specialty.
pub const NAME: TextRule = TextRule {
    min: 1,
    max: 100,
    multiline: false,
};
/// A street address or an emergency contact.
pub const ADDRESS: TextRule = TextRule {
    min: 0,
    max: 200,
    multiline: false,
};
/// A city or a state.
pub const PLACE: TextRule = TextRule {
    min: 0,
    max: 100,
    multiline: false,
};
/// Known allergies.
pub const ALLERGIES: TextRule = TextRule {
    min: 0,
    max: 1_000,
    multiline: true,
};
/// A visit note's symptoms or diagnosis.
pub const FINDING: TextRule = TextRule {
    min: 1,
    max: 4_000,
    multiline: true,
};
/// A visit note's prescription.
pub const PRESCRIPTION: TextRule = TextRule {
    min: 0,
    max: 4_000,
    multiline: true,
};
/// A visit note's free notes.
pub const VISIT_NOTES: TextRule = TextRule {
    min: 0,
    max: 10_000,
    multiline: true,
};
/// A doctor's reason for an access request.
pub const REASON: TextRule = TextRule {
    min: 3,
    max: 500,
    multiline: true,
};
/// A doctor's justification of emergency access.
pub const JUSTIFICATION: TextRule = TextRule {
    min: 20,
    max: 2_000,
    multiline: true,
};
/// An admin's review comment on an emergency access.
pub const REVIEW_COMMENT: TextRule = TextRule {
    min: 3,
    max: 2_000,
    multiline: true,
};

/// A record's title, given at upload.
pub const TITLE: TextRule = TextRule {
    min: 1,
    max: 200,
    multiline: false,
};
/// A record's notes, given at upload.
pub const RECORD_NOTES: TextRule = TextRule {
    min: 0,
    max: 2_000,
    multiline: true,
};

/// Longest e-mail address, in characters as sent.
pub const EMAIL_MAX: usize = 254;
/// An e-mail address: `local@domain`, the local part dot-separated atoms of letters, digits
/// and ``!#$%&'*+/=?^_`{|}~-``, the domain two or more labels of letters, digits and inner
/// hyphens (1-63 characters each); compared without case.
pub const EMAIL_PATTERN: &str = concat!(
    r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*",
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+",
    r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$",
);

/// Longest licence number, in characters as sent.
pub const LICENCE_MAX: usize = 32;
/// A doctor's licence number: 3-32 letters, digits, `-` or `/`.
pub const LICENCE_PATTERN: &str = concat!(
    r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"[A-Za-z0-9/-]{3,32}",
    r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$",
);

/// Longest phone number, in characters as sent.
pub const PHONE_MAX: usize = 32;
/// A phone number: an optional leading `+`, then 7-15 digits with spaces, `-`, `.`, `(` or `)`
/// between them; blank means none.
pub const PHONE_PATTERN: &str = concat!(
    r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"(?:\+?[ ().-]*(?:[0-9][ ().-]*){7,15})?",
    r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$",
);

/// Longest postal code, in characters as sent.
pub const POSTAL_CODE_MAX: usize = 10;
/// A postal code: 3-10 letters, digits, inner spaces or `-`; blank means none.
pub const POSTAL_CODE_PATTERN: &str = concat!(
    r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"(?:[A-Za-z0-9-][A-Za-z0-9 -]{1,8}[A-Za-z0-9-])?",
    r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$",
);

fn string(nullable: bool, max: usize, pattern: &str) -> Object {
    let ty = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::new(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(ty)
        .max_length(Some(max))
        .pattern(Some(pattern))
        .build()
}

fn schema(object: Object) -> RefOr<Schema> {
    RefOr::T(Schema::Object(object))
}

/// Schema of a [`NAME`].
#[must_use]
pub fn name_schema() -> RefOr<Schema> {
    schema(NAME.schema(false))
}
/// Schema of an optional [`NAME`] (`null` keeps or clears, as the operation says).
#[must_use]
pub fn opt_name_schema() -> RefOr<Schema> {
    schema(NAME.schema(true))
}
/// Schema of an optional [`ADDRESS`].
#[must_use]
pub fn address_schema() -> RefOr<Schema> {
    schema(ADDRESS.schema(true))
}
/// Schema of an optional [`PLACE`].
#[must_use]
pub fn place_schema() -> RefOr<Schema> {
    schema(PLACE.schema(true))
}
/// Schema of optional [`ALLERGIES`].
#[must_use]
pub fn allergies_schema() -> RefOr<Schema> {
    schema(ALLERGIES.schema(true))
}
/// Schema of a [`FINDING`].
#[must_use]
pub fn finding_schema() -> RefOr<Schema> {
    schema(FINDING.schema(false))
}
/// Schema of a [`PRESCRIPTION`].
#[must_use]
pub fn prescription_schema() -> RefOr<Schema> {
    schema(PRESCRIPTION.schema(false))
}
/// Schema of [`VISIT_NOTES`].
#[must_use]
pub fn visit_notes_schema() -> RefOr<Schema> {
    schema(VISIT_NOTES.schema(false))
}
/// Schema of a [`REASON`].
#[must_use]
pub fn reason_schema() -> RefOr<Schema> {
    schema(REASON.schema(false))
}
/// Schema of a [`JUSTIFICATION`].
#[must_use]
pub fn justification_schema() -> RefOr<Schema> {
    schema(JUSTIFICATION.schema(false))
}
/// Schema of a [`REVIEW_COMMENT`].
#[must_use]
pub fn review_comment_schema() -> RefOr<Schema> {
    schema(REVIEW_COMMENT.schema(false))
}
/// Schema of an e-mail address ([`EMAIL_PATTERN`]).
#[must_use]
pub fn email_schema() -> RefOr<Schema> {
    schema(string(false, EMAIL_MAX, EMAIL_PATTERN))
}
/// Schema of an optional e-mail address.
#[must_use]
pub fn opt_email_schema() -> RefOr<Schema> {
    schema(string(true, EMAIL_MAX, EMAIL_PATTERN))
}
/// Schema of a licence number ([`LICENCE_PATTERN`]).
#[must_use]
pub fn licence_schema() -> RefOr<Schema> {
    schema(string(false, LICENCE_MAX, LICENCE_PATTERN))
}
/// Schema of an optional licence number.
#[must_use]
pub fn opt_licence_schema() -> RefOr<Schema> {
    schema(string(true, LICENCE_MAX, LICENCE_PATTERN))
}
/// Schema of an optional phone number ([`PHONE_PATTERN`]).
#[must_use]
pub fn phone_schema() -> RefOr<Schema> {
    schema(string(true, PHONE_MAX, PHONE_PATTERN))
}
/// Schema of an optional postal code ([`POSTAL_CODE_PATTERN`]).
#[must_use]
pub fn postal_code_schema() -> RefOr<Schema> {
    schema(string(true, POSTAL_CODE_MAX, POSTAL_CODE_PATTERN))
}
/// Schema of a [`TITLE`].
#[must_use]
pub fn title_schema() -> RefOr<Schema> {
    schema(TITLE.schema(false))
}
/// Schema of optional [`RECORD_NOTES`].
#[must_use]
pub fn record_notes_schema() -> RefOr<Schema> {
    schema(RECORD_NOTES.schema(true))
}

/// A whole number of JSON Schema's `integer` type, which includes numbers written with a zero
/// fraction (`24.0`): serde's `u32` refuses those, so integer fields of request bodies take
/// `#[serde(deserialize_with = "medvault_types::input::whole")]`.
///
/// # Errors
/// A number with a fraction, out of `u32`'s range, or not a number.
pub fn whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    struct Whole;
    impl serde::de::Visitor<'_> for Whole {
        type Value = u32;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number from 0 to 4294967295")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u32, E> {
            u32::try_from(v).map_err(|_| E::custom("out of range"))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u32, E> {
            u32::try_from(v).map_err(|_| E::custom("out of range"))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<u32, E> {
            if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "a whole number within u32's range, checked above"
                )]
                Ok(v as u32)
            } else {
                Err(E::invalid_value(serde::de::Unexpected::Float(v), &self))
            }
        }
    }
    deserializer.deserialize_any(Whole)
}

/// [`whole`] for an optional field (`null` or absent: `None`).
///
/// # Errors
/// As [`whole`].
pub fn opt_whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "whole")] u32);
    Option::<Wrapped>::deserialize(deserializer).map(|w| w.map(|Wrapped(n)| n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Body {
        #[serde(deserialize_with = "whole")]
        hours: u32,
        #[serde(default, deserialize_with = "opt_whole")]
        minutes: Option<u32>,
    }

    #[test]
    fn whole_numbers_with_or_without_a_zero_fraction() {
        let b: Body = serde_json::from_str(r#"{"hours": 24.0, "minutes": 30}"#).unwrap();
        assert_eq!((b.hours, b.minutes), (24, Some(30)));
        let b: Body = serde_json::from_str(r#"{"hours": 24, "minutes": null}"#).unwrap();
        assert_eq!(b.minutes, None);
        let b: Body = serde_json::from_str(r#"{"hours": 1e2}"#).unwrap();
        assert_eq!((b.hours, b.minutes), (100, None));
        for bad in [
            r#"{"hours": 24.5}"#,
            r#"{"hours": -1}"#,
            r#"{"hours": 4294967296}"#,
            r#"{"hours": "24"}"#,
            r#"{"hours": 1, "minutes": 0.5}"#,
        ] {
            assert!(serde_json::from_str::<Body>(bad).is_err(), "{bad}");
        }
    }
}
