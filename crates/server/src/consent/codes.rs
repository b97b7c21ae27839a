//! One-time codes for consent, with no database: the per-request code and the patient's TOTP.
//!
//! * Per-request codes are 8 decimal digits drawn uniformly from the OS CSPRNG.
//! * TOTP is RFC 6238 (SHA-1, 6 digits, 30 s steps) over a 160-bit secret, accepting the
//!   previous, current and next step (skew 1). A code is accepted only for a step later than
//!   the last step accepted for that patient, so the same code is never accepted twice.
//! * Every comparison of a submitted code with a secret one is constant-time.

use rand::Rng;
use rand::rngs::OsRng;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

/// Digits of a per-request code.
pub const REQUEST_CODE_DIGITS: usize = 8;
/// Digits of a TOTP code.
pub const TOTP_DIGITS: usize = 6;
/// TOTP time step in seconds.
pub const TOTP_STEP_SECS: u64 = 30;
/// TOTP secret length in bytes (160 bits, RFC 4226's recommendation).
pub const TOTP_SECRET_BYTES: usize = 20;

/// A fresh per-request code: `REQUEST_CODE_DIGITS` uniform decimal digits.
pub fn generate_request_code() -> Zeroizing<String> {
    let mut rng = OsRng;
    let mut code = Zeroizing::new(String::with_capacity(REQUEST_CODE_DIGITS));
    for _ in 0..REQUEST_CODE_DIGITS {
        let d: u8 = rng.gen_range(0..10);
        code.push(char::from(b'0' + d));
    }
    code
}

/// A fresh 160-bit TOTP secret.
pub fn generate_totp_secret() -> Zeroizing<Vec<u8>> {
    let mut secret = Zeroizing::new(vec![0u8; TOTP_SECRET_BYTES]);
    OsRng.fill(secret.as_mut_slice());
    secret
}

/// True when `code` is exactly `digits` ASCII digits (checked before any secret is touched).
pub fn is_well_formed(code: &str, digits: usize) -> bool {
    code.len() == digits && code.bytes().all(|b| b.is_ascii_digit())
}

/// Constant-time equality of two codes (lengths are not secret).
pub fn codes_equal(submitted: &str, expected: &str) -> bool {
    submitted.as_bytes().ct_eq(expected.as_bytes()).into()
}

/// Builds the RFC 6238 generator for a secret. `account` labels the entry in the app.
pub fn totp(secret: &[u8], account: &str) -> Result<TOTP, totp_rs::TotpUrlError> {
    // `:` separates issuer and account in otpauth URIs; keep labels unambiguous.
    let account = account.replace(':', "_");
    TOTP::new(
        Algorithm::SHA1,
        TOTP_DIGITS,
        1,
        TOTP_STEP_SECS,
        secret.to_vec(),
        Some("medvault".to_owned()),
        account,
    )
}

/// Checks a TOTP code at `now` (unix seconds) with skew 1 and replay protection.
///
/// Returns the time step the code belongs to when it matches one of the steps
/// `now-1 ..= now+1` and that step is later than `last_used_step`; the caller stores the
/// returned step as the new `last_used_step` in the same transaction that accepts the code.
/// All three candidate steps are compared every time, so timing does not reveal which matched.
pub fn check_totp(totp: &TOTP, code: &str, now: u64, last_used_step: Option<i64>) -> Option<i64> {
    if !is_well_formed(code, TOTP_DIGITS) {
        return None;
    }
    let current = now / TOTP_STEP_SECS;
    let mut matched: Option<u64> = None;
    for step in current.saturating_sub(1)..=current + 1 {
        let expected = Zeroizing::new(totp.generate(step * TOTP_STEP_SECS));
        if codes_equal(code, &expected) && matched.is_none() {
            matched = Some(step);
        }
    }
    let step = i64::try_from(matched?).ok()?;
    match last_used_step {
        Some(last) if step <= last => None,
        _ => Some(step),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_codes_are_eight_digits_and_vary() {
        let codes: std::collections::HashSet<String> = (0..200)
            .map(|_| generate_request_code().to_string())
            .collect();
        assert!(codes.iter().all(|c| is_well_formed(c, 8)));
        // 200 draws from 10^8 values: a repeat would mean a broken generator.
        assert_eq!(codes.len(), 200);
    }

    #[test]
    fn request_code_digits_are_roughly_uniform() {
        let mut counts = [0u32; 10];
        for _ in 0..2_000 {
            for b in generate_request_code().bytes() {
                counts[usize::from(b - b'0')] += 1;
            }
        }
        // 16,000 digits, 1,600 expected per digit; 5 sigma is about 190.
        assert!(
            counts.iter().all(|&c| (1_400..=1_800).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn well_formed_rejects_non_digits_and_wrong_length() {
        assert!(is_well_formed("12345678", 8));
        assert!(!is_well_formed("1234567", 8));
        assert!(!is_well_formed("1234567a", 8));
        assert!(!is_well_formed("１２３４５６７８", 8));
        assert!(!is_well_formed("", 6));
    }

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T = 59 s -> 94287082 (8
        // digits); the 6-digit code is its last six digits.
        let t = totp(b"12345678901234567890", "p@example.org").unwrap();
        assert_eq!(t.generate(59), "287082");
        assert_eq!(t.generate(1_111_111_109), "081804");
    }

    #[test]
    fn totp_accepts_skew_one_and_never_twice() {
        let secret = generate_totp_secret();
        let t = totp(&secret, "p@example.org").unwrap();
        let now = 1_800_000_000;
        let step = i64::try_from(now / TOTP_STEP_SECS).unwrap();
        let current = t.generate(now);
        assert_eq!(check_totp(&t, &current, now, None), Some(step));
        // Replay of the same code: refused.
        assert_eq!(check_totp(&t, &current, now, Some(step)), None);
        // Previous and next step accepted once each, in order.
        let prev = t.generate(now - TOTP_STEP_SECS);
        assert_eq!(check_totp(&t, &prev, now, None), Some(step - 1));
        let next = t.generate(now + TOTP_STEP_SECS);
        assert_eq!(check_totp(&t, &next, now, Some(step)), Some(step + 1));
        // An older step after a newer one was used: refused.
        assert_eq!(check_totp(&t, &prev, now, Some(step)), None);
        // Two steps away: refused.
        let far = t.generate(now + 2 * TOTP_STEP_SECS);
        assert_eq!(check_totp(&t, &far, now, None), None);
        assert_eq!(check_totp(&t, "abcdef", now, None), None);
    }

    #[test]
    fn codes_equal_is_exact() {
        assert!(codes_equal("12345678", "12345678"));
        assert!(!codes_equal("12345678", "12345679"));
        assert!(!codes_equal("1234567", "12345678"));
    }
}
