//! Field validation: pure rules returning a normalised value or a message, and [`Fields`],
//! which collects every message so a 422 names all bad fields at once.

use chrono::{NaiveDate, Utc};
use medvault_types::input::{self, TextRule};

use crate::error::{ApiError, FieldErrors};

/// Collects per-field failures.
#[derive(Debug, Default)]
pub struct Fields(FieldErrors);

impl Fields {
    /// Keeps `result`'s value, or records its message under `name` and returns a default
    /// (never used: [`Fields::finish`] fails first).
    pub fn take<T: Default>(&mut self, name: &str, result: Result<T, String>) -> T {
        result.unwrap_or_else(|message| {
            self.0.entry(name.to_string()).or_insert(message);
            T::default()
        })
    }

    /// For PATCH fields: absent stays absent, present values go through `rule`.
    pub fn patch<V, T: Default>(
        &mut self,
        name: &str,
        value: Option<V>,
        rule: impl FnOnce(V) -> Result<T, String>,
    ) -> Option<T> {
        value.map(|v| self.take(name, rule(v)))
    }

    /// 422 listing every failure, or `Ok` when there were none.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

fn has_control(s: &str, allow_newlines: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\t' || c == '\r')))
}

/// Refuses a value longer than `max` characters as sent (before trimming): the limit the
/// OpenAPI document states as `maxLength`.
fn at_most(value: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else {
        Ok(())
    }
}

/// A lower-cased, trimmed email address of ordinary shape ([`input::EMAIL_PATTERN`]).
pub fn email(value: &str) -> Result<String, String> {
    let bad = || Err("must be an email address like name@example.org".to_string());
    if at_most(value, input::EMAIL_MAX).is_err() {
        return bad();
    }
    let v = value.trim();
    let Some((local, domain)) = v.split_once('@') else {
        return bad();
    };
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(v.to_ascii_lowercase())
    } else {
        bad()
    }
}

/// A text under `rule` ([`TextRule`]), trimmed: at most `rule.max` characters as sent, at
/// least `rule.min` once trimmed, no control characters (but line breaks and tabs in a
/// multi-line text).
pub fn text(value: &str, rule: &TextRule) -> Result<String, String> {
    at_most(value, rule.max)?;
    let v = value.trim();
    if v.chars().count() < rule.min {
        return Err(if rule.min == 1 {
            "must not be empty".into()
        } else {
            format!("must be {} to {} characters", rule.min, rule.max)
        });
    }
    if has_control(v, rule.multiline) {
        return Err("must not contain control characters".into());
    }
    Ok(v.to_string())
}

/// An optional text under `rule`: absent, empty or blank means none; otherwise as [`text`].
pub fn opt_text(value: Option<String>, rule: &TextRule) -> Result<Option<String>, String> {
    let Some(v) = value else { return Ok(None) };
    if v.trim().is_empty() {
        return at_most(&v, rule.max).map(|()| None);
    }
    text(&v, rule).map(Some)
}

/// A date from 1900 up to `today` (reports, visits).
pub fn past_date(value: NaiveDate, today: NaiveDate) -> Result<NaiveDate, String> {
    if value > today {
        Err("must not be in the future".into())
    } else if value < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN) {
        Err("must be after 1900".into())
    } else {
        Ok(value)
    }
}

/// A phone number ([`input::PHONE_PATTERN`]): 7-15 digits, optional leading `+`, separators
/// ` -().`; blank means none.
pub fn phone(value: Option<String>) -> Result<Option<String>, String> {
    const PHONE: TextRule = TextRule {
        min: 0,
        max: input::PHONE_MAX,
        multiline: false,
    };
    let Some(v) = opt_text(value, &PHONE)? else {
        return Ok(None);
    };
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let body = v.strip_prefix('+').unwrap_or(&v);
    let chars_ok = body
        .chars()
        .all(|c| c.is_ascii_digit() || " -().".contains(c));
    if chars_ok && (7..=15).contains(&digits) {
        Ok(Some(v))
    } else {
        Err("must be a phone number of 7 to 15 digits, optionally starting with +".into())
    }
}

/// A postal code ([`input::POSTAL_CODE_PATTERN`]): 3-10 letters, digits, spaces or `-`,
/// upper-cased; blank means none.
pub fn postal_code(value: Option<String>) -> Result<Option<String>, String> {
    const POSTAL_CODE: TextRule = TextRule {
        min: 0,
        max: input::POSTAL_CODE_MAX,
        multiline: false,
    };
    let Some(v) = opt_text(value, &POSTAL_CODE)? else {
        return Ok(None);
    };
    let ok = v.chars().count() >= 3
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
    if ok {
        Ok(Some(v.to_uppercase()))
    } else {
        Err("must be 3 to 10 letters, digits, spaces or hyphens".into())
    }
}

/// A licence number ([`input::LICENCE_PATTERN`]): 3-32 letters, digits, `-` or `/`.
pub fn licence_number(value: &str) -> Result<String, String> {
    let v = value.trim();
    if at_most(value, input::LICENCE_MAX).is_ok()
        && (3..=32).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/')
    {
        Ok(v.to_string())
    } else {
        Err("must be 3 to 32 letters, digits, '-' or '/'".into())
    }
}

/// A date of birth between 1900-01-01 and today.
pub fn date_of_birth(value: NaiveDate) -> Result<NaiveDate, String> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    if value < earliest {
        Err("must not be before 1900-01-01".into())
    } else if value > Utc::now().date_naive() {
        Err("must not be in the future".into())
    } else {
        Ok(value)
    }
}

/// An optional finite number within `min..=max`.
pub fn opt_range(value: Option<f64>, min: f64, max: f64) -> Result<Option<f64>, String> {
    match value {
        Some(v) if !v.is_finite() || v < min || v > max => {
            Err(format!("must be between {min} and {max}"))
        }
        other => Ok(other),
    }
}

/// A new password: 12-128 characters, not blank, not the email.
pub fn new_password(value: &str, email: &str) -> Result<String, String> {
    let len = value.chars().count();
    if !(12..=128).contains(&len) {
        return Err("must be 12 to 128 characters".into());
    }
    if value.trim().is_empty() || value.trim().eq_ignore_ascii_case(email) {
        return Err("must not be blank or your email address".into());
    }
    strong_enough(value, email)?;
    Ok(value.to_string())
}

/// The offline strength estimate (zxcvbn, which knows common passwords, names, keyboard
/// patterns, dates and l33t substitutions, and is told the account's e-mail): a new password
/// must score at least 3 of 4, about 10^10 guesses. The message says why, in zxcvbn's words.
fn strong_enough(value: &str, email: &str) -> Result<(), String> {
    let local = email.split('@').next().unwrap_or(email);
    let estimate = zxcvbn::zxcvbn(value, &[email, local, "medvault"]);
    if estimate.score() >= zxcvbn::Score::Three {
        return Ok(());
    }
    let mut message = String::from("is too easy to guess");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            message.push_str(": ");
            message.push_str(&warning.to_string());
        }
        let tips: Vec<String> = feedback
            .suggestions()
            .iter()
            .map(ToString::to_string)
            .collect();
        if !tips.is_empty() {
            message.push_str(" (");
            message.push_str(&tips.join(" "));
            message.push(')');
        }
    }
    message.push_str(". A few unrelated words make a strong password.");
    Err(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            email(" Ann.Lee@Example.ORG ").unwrap(),
            "ann.lee@example.org"
        );
        for bad in [
            "",
            "a",
            "a@b",
            "@b.org",
            "a@@b.org",
            "a b@c.org",
            "a@-b.org",
            "a..b@c.org",
            "a@b..org",
        ] {
            assert!(email(bad).is_err(), "{bad} accepted");
        }
        // Over 254 characters as sent (white space counts), and a letter that only becomes
        // ASCII when lower-cased (the Kelvin sign), are refused.
        assert!(email(&format!("{}@b.org", "a".repeat(250))).is_err());
        assert!(email(&format!("a@b.org{}", " ".repeat(250))).is_err());
        assert!(email("\u{212a}@b.org").is_err());
    }

    #[test]
    fn texts_and_phones() {
        let line = |min, max| TextRule {
            min,
            max,
            multiline: false,
        };
        let lines = |min, max| TextRule {
            min,
            max,
            multiline: true,
        };
        assert_eq!(text("  Ann ", &line(1, 10)).unwrap(), "Ann");
        assert!(text("   ", &line(1, 10)).is_err());
        assert!(text(&"x".repeat(11), &line(1, 10)).is_err());
        assert!(text("a\u{0}b", &line(1, 10)).is_err());
        // The limit holds as sent, surrounding white space included.
        assert!(text(&format!("{}Ann", " ".repeat(8)), &line(1, 10)).is_err());
        assert!(text(" ab ", &lines(3, 10)).is_err());
        assert_eq!(text(" abc ", &lines(3, 10)).unwrap(), "abc");
        assert_eq!(text("  ", &lines(0, 10)).unwrap(), "");
        assert_eq!(opt_text(Some("  ".into()), &line(0, 5)).unwrap(), None);
        assert!(opt_text(Some(" ".repeat(6)), &line(0, 5)).is_err());
        assert!(opt_text(Some("a\nb".into()), &line(0, 5)).is_err());
        assert_eq!(
            opt_text(Some("a\nb".into()), &lines(0, 5))
                .unwrap()
                .unwrap(),
            "a\nb"
        );
        assert_eq!(
            phone(Some("+1 (555) 010-2030".into())).unwrap().unwrap(),
            "+1 (555) 010-2030"
        );
        assert!(phone(Some("12345".into())).is_err());
        assert!(phone(Some("call me".into())).is_err());
        assert!(phone(Some("1+5550102030".into())).is_err());
        assert_eq!(
            postal_code(Some("sw1a 1aa".into())).unwrap().unwrap(),
            "SW1A 1AA"
        );
        assert!(postal_code(Some("--".into())).is_err());
        assert!(postal_code(Some("12345678901".into())).is_err());
        assert!(licence_number("MD-12/34").is_ok());
        assert!(licence_number("x").is_err());
    }

    #[test]
    fn dates_ranges_passwords() {
        assert!(date_of_birth(NaiveDate::from_ymd_opt(1899, 12, 31).unwrap()).is_err());
        assert!(date_of_birth(Utc::now().date_naive() + chrono::Duration::days(1)).is_err());
        assert!(date_of_birth(NaiveDate::from_ymd_opt(1980, 2, 29).unwrap()).is_ok());
        assert!(opt_range(Some(f64::NAN), 1.0, 2.0).is_err());
        assert!(opt_range(Some(3.0), 1.0, 2.0).is_err());
        assert_eq!(opt_range(None, 1.0, 2.0).unwrap(), None);
        assert!(new_password("short", "a@b.org").is_err());
        assert!(new_password("a@b.org12345", "a@b.org12345").is_err());
        assert!(new_password("a long enough passphrase", "a@b.org").is_ok());
        // Long enough but common or patterned: refused with a reason.
        for weak in [
            "password1234",
            "qwertyuiop123",
            "aaaaaaaaaaaa",
            "123456789012",
            "iloveyou1234",
        ] {
            let err = new_password(weak, "ann.lee@example.org").expect_err(weak);
            assert!(err.starts_with("is too easy to guess"), "{weak}: {err}");
        }
        // The passwords the test suites use are strong enough.
        for strong in [
            "a sound passphrase 42",
            "admin password for tests",
            "another long passphrase",
            "another long passphrase 7",
            "correct horse battery staple",
            "doctor passphrase 2026",
            "patient passphrase 2026",
        ] {
            assert!(
                new_password(strong, "ann.lee@example.org").is_ok(),
                "{strong}"
            );
        }
    }

    #[test]
    fn fields_collects_all() {
        let mut f = Fields::default();
        let a: String = f.take("a", Err("bad a".into()));
        let b: String = f.take("b", Ok("fine".into()));
        let c: Option<String> = f.patch("c", Some("x"), |_| Err("bad c".into()));
        assert_eq!(
            (a.as_str(), b.as_str(), c),
            ("", "fine", Some(String::new()))
        );
        let Err(ApiError::Validation(map)) = f.finish() else {
            panic!("expected 422")
        };
        assert_eq!(map.len(), 2);
    }
}
