//! When to renew the session. Access tokens live minutes; the app renews one with the refresh
//! token shortly before it expires (so people are never logged out mid-form) and once more when
//! a request meets a 401 anyway (clock skew, a sleeping laptop).

/// Renew this many seconds before the access token expires.
pub const REFRESH_MARGIN_SECS: f64 = 60.0;
/// Never schedule a renewal sooner than this after getting a token (no refresh storms).
pub const MIN_REFRESH_DELAY_SECS: f64 = 5.0;

/// Seconds to wait, counted from when the token was issued, before renewing a token valid for
/// `expires_in` seconds: [`REFRESH_MARGIN_SECS`] before expiry, or at 80% of the lifetime when
/// that is later (short-lived tokens do not renew in a loop), never sooner than
/// [`MIN_REFRESH_DELAY_SECS`]. A renewal that comes too late is caught by the retry on 401.
pub fn refresh_delay_secs(expires_in: u64) -> f64 {
    #[expect(
        clippy::cast_precision_loss,
        reason = "token lifetimes are far below 2^52 seconds"
    )]
    let life = expires_in as f64;
    let by_margin = life - REFRESH_MARGIN_SECS;
    let by_fraction = life * 0.8;
    by_margin.max(by_fraction).max(MIN_REFRESH_DELAY_SECS)
}

/// Instant (ms since the epoch) when a token issued at `issued_at_ms` and valid `expires_in`
/// seconds should be renewed.
pub fn refresh_at_ms(issued_at_ms: f64, expires_in: u64) -> f64 {
    issued_at_ms + refresh_delay_secs(expires_in) * 1000.0
}

/// Whether a token issued at `issued_at_ms`, valid `expires_in` seconds, is due for renewal at
/// `now_ms` (used before long requests such as uploads, so they start with a fresh token).
pub fn is_due(issued_at_ms: f64, expires_in: u64, now_ms: f64) -> bool {
    now_ms >= refresh_at_ms(issued_at_ms, expires_in)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifteen_minute_token_renews_a_minute_early() {
        assert!((refresh_delay_secs(900) - 840.0).abs() < f64::EPSILON);
    }

    #[test]
    fn long_tokens_renew_a_minute_early() {
        assert!((refresh_delay_secs(86_400) - 86_340.0).abs() < f64::EPSILON);
    }

    #[test]
    fn short_tokens_renew_at_eighty_percent_but_not_instantly() {
        assert!((refresh_delay_secs(100) - 80.0).abs() < f64::EPSILON);
        assert!((refresh_delay_secs(60) - 48.0).abs() < f64::EPSILON);
        assert!((refresh_delay_secs(3) - MIN_REFRESH_DELAY_SECS).abs() < f64::EPSILON);
        assert!((refresh_delay_secs(0) - MIN_REFRESH_DELAY_SECS).abs() < f64::EPSILON);
    }

    #[test]
    fn due_only_after_the_scheduled_instant() {
        let issued = 1_000_000.0;
        assert!(!is_due(issued, 900, issued + 839_000.0));
        assert!(is_due(issued, 900, issued + 840_000.0));
        assert!((refresh_at_ms(issued, 900) - (issued + 840_000.0)).abs() < f64::EPSILON);
    }
}
