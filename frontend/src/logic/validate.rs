//! Form validation done before anything is sent, mirroring the server's rules so people see the
//! problem next to the field at once. The server validates again; this only saves a round trip.

use chrono::NaiveDate;

/// Shortest password the server accepts.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest password the server accepts (argon2 input bound).
pub const MAX_PASSWORD_LEN: usize = 128;

/// A non-empty trimmed value of at most `max` characters.
pub fn required(value: &str, max: usize) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        Err("This field is required.".into())
    } else if v.chars().count() > max {
        Err(format!("Use at most {max} characters."))
    } else {
        Ok(())
    }
}

/// A trimmed value of `min` to `max` characters, returned trimmed.
pub fn length(value: &str, min: usize, max: usize) -> Result<String, String> {
    let v = value.trim();
    let n = v.chars().count();
    if n < min {
        Err(format!("Use at least {min} characters."))
    } else if n > max {
        Err(format!("Use at most {max} characters."))
    } else {
        Ok(v.to_string())
    }
}

/// An optional value: empty is fine, otherwise at most `max` characters.
pub fn optional(value: &str, max: usize) -> Result<(), String> {
    if value.trim().chars().count() > max {
        Err(format!("Use at most {max} characters."))
    } else {
        Ok(())
    }
}

/// A plausible e-mail address: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn email(value: &str) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("Enter an e-mail address.".into());
    }
    if v.len() > 254 {
        return Err("That e-mail address is too long.".into());
    }
    let ok = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !v.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err("Enter an e-mail address like name@example.org.".into())
    }
}

/// A new password: long enough, not too long, and typed the same twice.
pub fn new_password(password: &str, confirm: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        Err(format!("Use at least {MIN_PASSWORD_LEN} characters."))
    } else if n > MAX_PASSWORD_LEN {
        Err(format!("Use at most {MAX_PASSWORD_LEN} characters."))
    } else if password != confirm {
        Err("The two passwords differ.".into())
    } else {
        Ok(())
    }
}

/// A calendar date written `YYYY-MM-DD` (what `<input type="date">` produces), not after `today`.
pub fn past_date(value: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let date = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| "Enter a date (YYYY-MM-DD).".to_string())?;
    if date > today {
        Err("The date cannot be in the future.".into())
    } else if date < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN) {
        Err("The date is too far in the past.".into())
    } else {
        Ok(date)
    }
}

/// An optional whole number in `min..=max`; empty means `None`.
pub fn optional_number(value: &str, min: u32, max: u32) -> Result<Option<u32>, String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    match v.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(format!("Enter a whole number from {min} to {max}.")),
    }
}

/// A phone number: optional; digits, spaces and `+()-` only, 7 to 15 digits (the server's rule).
pub fn phone(value: &str) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(());
    }
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let allowed = v.chars().all(|c| c.is_ascii_digit() || " +()-".contains(c));
    if allowed && (7..=15).contains(&digits) {
        Ok(())
    } else {
        Err("Enter a phone number (digits, spaces, + - ( ) only).".into())
    }
}

/// A one-time code as read out by a patient: 6 (authenticator) or 8 (per-request) digits.
/// Spaces and dashes people type while listening are dropped. Returns the digits.
pub fn one_time_code(value: &str) -> Result<String, String> {
    let digits: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.chars().all(|c| c.is_ascii_digit()) && (digits.len() == 6 || digits.len() == 8) {
        Ok(digits)
    } else {
        Err("Enter the 6- or 8-digit code the patient reads to you.".into())
    }
}

/// A six-digit authenticator code.
pub fn totp_code(value: &str) -> Result<String, String> {
    let digits: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err("Enter the 6-digit code from your authenticator app.".into())
    }
}

/// A sign-in second-factor code: six digits from the authenticator app, or a recovery code
/// (16 letters and digits, usually typed in groups of four: `ABCD-EFGH-JKMN-PQRS`). Spaces are
/// dropped; the server normalises a recovery code's case and dashes itself.
pub fn sign_in_code(value: &str) -> Result<String, String> {
    let code: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let is_totp = code.len() == 6 && code.chars().all(|c| c.is_ascii_digit());
    let plain: Vec<char> = code.chars().filter(|c| *c != '-').collect();
    let is_recovery = plain.len() == 16 && plain.iter().all(char::is_ascii_alphanumeric);
    if is_totp || is_recovery {
        Ok(code)
    } else {
        Err(
            "Enter the 6-digit code from your authenticator app, or a recovery code (XXXX-XXXX-XXXX-XXXX)."
                .into(),
        )
    }
}

/// [`sign_in_code`] for a field that may stay empty (accounts without an authenticator app):
/// `None` when empty.
pub fn optional_sign_in_code(value: &str) -> Result<Option<String>, String> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        sign_in_code(value).map(Some)
    }
}

/// Hours a grant should last: 1 to `cap`.
pub fn duration_hours(value: &str, cap: u32) -> Result<u32, String> {
    match value.trim().parse::<u32>() {
        Ok(h) if (1..=cap).contains(&h) => Ok(h),
        _ => Err(format!("Choose from 1 to {cap} hours.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_codes_are_six_digits_or_a_recovery_code() {
        assert_eq!(sign_in_code(" 123 456 ").as_deref(), Ok("123456"));
        assert_eq!(
            sign_in_code("abcd-efgh-jkmn-pqrs").as_deref(),
            Ok("abcd-efgh-jkmn-pqrs")
        );
        assert_eq!(
            sign_in_code("ABCDEFGHJKMNPQRS").as_deref(),
            Ok("ABCDEFGHJKMNPQRS")
        );
        assert!(sign_in_code("").is_err());
        assert!(sign_in_code("12345").is_err());
        assert!(sign_in_code("1234567").is_err());
        assert!(sign_in_code("ABCD-EFGH-JKMN").is_err());
        assert!(sign_in_code("ABCD-EFGH-JKMN-PQR!").is_err());
        assert_eq!(optional_sign_in_code("  "), Ok(None));
        assert_eq!(optional_sign_in_code("123456"), Ok(Some("123456".into())));
        assert!(optional_sign_in_code("12").is_err());
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn email_accepts_ordinary_addresses_and_rejects_broken_ones() {
        assert!(email("dr.who@clinic.example.org").is_ok());
        assert!(email("  a@b.co ").is_ok());
        for bad in [
            "",
            "plain",
            "@x.org",
            "a@b",
            "a@.org",
            "a@org.",
            "a b@x.org",
            "a@b@c.org",
        ] {
            assert!(email(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn new_password_checks_length_and_confirmation() {
        assert!(new_password("correct horse battery", "correct horse battery").is_ok());
        assert_eq!(
            new_password("short", "short"),
            Err("Use at least 12 characters.".into())
        );
        assert_eq!(
            new_password("long enough pw", "long enough pW"),
            Err("The two passwords differ.".into())
        );
        let huge = "x".repeat(129);
        assert!(new_password(&huge, &huge).is_err());
    }

    #[test]
    fn required_counts_characters_not_bytes() {
        assert!(required("ééé", 3).is_ok());
        assert!(required("éééé", 3).is_err());
        assert!(required("   ", 3).is_err());
        assert!(optional("", 3).is_ok());
        assert!(optional("abcd", 3).is_err());
        assert_eq!(length("  éé  ", 2, 3), Ok("éé".into()));
        assert_eq!(
            length(" a ", 2, 3),
            Err("Use at least 2 characters.".into())
        );
        assert!(length("abcd", 2, 3).is_err());
    }

    #[test]
    fn past_date_refuses_future_and_garbage() {
        let today = day(2026, 11, 24);
        assert_eq!(past_date("2026-11-24", today), Ok(today));
        assert!(past_date("2026-11-25", today).is_err());
        assert!(past_date("24/11/2026", today).is_err());
        assert!(past_date("1850-01-01", today).is_err());
    }

    #[test]
    fn numbers_and_phones() {
        assert_eq!(optional_number("", 30, 250), Ok(None));
        assert_eq!(optional_number(" 180 ", 30, 250), Ok(Some(180)));
        assert!(optional_number("12", 30, 250).is_err());
        assert!(optional_number("1.8", 30, 250).is_err());
        assert!(phone("").is_ok());
        assert!(phone("+1 (555) 010-2030").is_ok());
        assert!(phone("call me").is_err());
        assert!(phone("12").is_err());
        assert!(phone("1234567890123456").is_err());
    }

    #[test]
    fn codes_are_normalised_digits() {
        assert_eq!(one_time_code("1234 5678"), Ok("12345678".into()));
        assert_eq!(one_time_code("123-456"), Ok("123456".into()));
        assert!(one_time_code("1234567").is_err());
        assert!(one_time_code("12345a78").is_err());
        assert_eq!(totp_code(" 123456 "), Ok("123456".into()));
        assert!(totp_code("12345678").is_err());
    }

    #[test]
    fn duration_is_bounded() {
        assert_eq!(duration_hours("24", 168), Ok(24));
        assert!(duration_hours("0", 168).is_err());
        assert!(duration_hours("169", 168).is_err());
        assert!(duration_hours("x", 168).is_err());
    }
}

/// Collects field errors of one form: each check's message lands under the field's name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Checks {
    errors: std::collections::BTreeMap<String, String>,
}

impl Checks {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `result`'s error under `field`; passes the value on when it is fine.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.entry(field.to_string()).or_insert(e);
                None
            }
        }
    }

    /// `Ok` when every check passed, else the errors by field.
    pub fn finish(self) -> Result<(), std::collections::BTreeMap<String, String>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// `None` for a blank input, the trimmed text otherwise (optional API fields).
pub fn blank_to_none(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_string())
}

#[cfg(test)]
mod checks_tests {
    use super::*;

    #[test]
    fn checks_collect_first_error_per_field() {
        let mut c = Checks::new();
        assert_eq!(c.check("email", email("x@y.org")), Some(()));
        assert_eq!(c.check("email", email("nope")), None);
        assert_eq!(c.check("email", required("", 3)), None);
        let errs = c.finish().unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs["email"].contains("name@example.org"));
        assert!(Checks::new().finish().is_ok());
        assert_eq!(blank_to_none("  "), None);
        assert_eq!(blank_to_none(" a "), Some("a".into()));
    }
}

/// An optional decimal number in `min..=max` (height, weight); empty means `None`.
pub fn optional_decimal(value: &str, min: f64, max: f64) -> Result<Option<f64>, String> {
    let v = value.trim().replace(',', ".");
    if v.is_empty() {
        return Ok(None);
    }
    match v.parse::<f64>() {
        Ok(n) if n.is_finite() && (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(format!("Enter a number from {min} to {max}.")),
    }
}

#[cfg(test)]
mod decimal_tests {
    use super::*;

    #[test]
    fn decimals_accept_comma_and_bounds() {
        assert_eq!(optional_decimal("", 20.0, 300.0), Ok(None));
        assert_eq!(optional_decimal("72,5", 0.2, 700.0), Ok(Some(72.5)));
        assert!(optional_decimal("19.9", 20.0, 300.0).is_err());
        assert!(optional_decimal("NaN", 0.2, 700.0).is_err());
        assert!(optional_decimal("abc", 0.2, 700.0).is_err());
    }
}
