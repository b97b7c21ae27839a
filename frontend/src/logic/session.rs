//! Session timing. Access tokens live minutes; the app renews one with the refresh token
//! shortly before it expires (so people are never logged out mid-form) and once more when a
//! request meets a 401 anyway (clock skew, a sleeping laptop).
//!
//! The server also ends a session after `idle_timeout_secs` without an API request (a renewal
//! is not activity). The app counts the same way, warns before that deadline and signs out at
//! it, so nobody meets a dead session mid-form. A sign-in's second step has its own short
//! deadline too.

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

/// The warning comes at most a minute before the idle deadline, or half the idle limit before
/// it when that is shorter (a short limit still leaves time to act before the warning).
pub fn idle_warning_secs(idle_secs: u64) -> u64 {
    (idle_secs / 2).min(60)
}

/// Instant (ms since the epoch) when a session last active at `last_activity_ms` ends for
/// inactivity.
pub fn idle_deadline_ms(last_activity_ms: f64, idle_secs: u64) -> f64 {
    last_activity_ms + secs_to_ms(idle_secs)
}

/// Instant (ms since the epoch) when the idle warning shows.
pub fn idle_warning_at_ms(last_activity_ms: f64, idle_secs: u64) -> f64 {
    idle_deadline_ms(last_activity_ms, idle_secs) - secs_to_ms(idle_warning_secs(idle_secs))
}

#[expect(
    clippy::cast_precision_loss,
    reason = "idle limits are far below 2^52 seconds"
)]
fn secs_to_ms(secs: u64) -> f64 {
    secs as f64 * 1000.0
}

/// Where a session stands against its idle limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    /// Recently active (or no idle limit known): nothing to show.
    Active,
    /// The warning is due: the session ends in `secs_left` seconds (rounded up) unless a
    /// request is made.
    Warning {
        /// Whole seconds left, at least 1.
        secs_left: u64,
    },
    /// The deadline has passed: sign out.
    Expired,
}

/// Where a session last active at `last_activity_ms`, ending after `idle_secs` without
/// activity, stands at `now_ms`. An idle limit of 0 means none is known (a session stored by
/// an older version of the app): always [`Idle::Active`].
pub fn idle_state(last_activity_ms: f64, idle_secs: u64, now_ms: f64) -> Idle {
    if idle_secs == 0 {
        return Idle::Active;
    }
    let deadline = idle_deadline_ms(last_activity_ms, idle_secs);
    if now_ms >= deadline {
        Idle::Expired
    } else if now_ms >= idle_warning_at_ms(last_activity_ms, idle_secs) {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "positive and at most the idle limit"
        )]
        let secs_left = ((deadline - now_ms) / 1000.0).ceil().max(1.0) as u64;
        Idle::Warning { secs_left }
    } else {
        Idle::Active
    }
}

/// The idle warning's text with `secs_left` seconds to go.
pub fn idle_warning_text(secs_left: u64) -> String {
    let unit = if secs_left == 1 { "second" } else { "seconds" };
    format!("You will be signed out in {secs_left} {unit} because of inactivity.")
}

/// What the sign-in screen says after the app signed someone out for `idle_secs` of
/// inactivity: whole minutes (rounded), or seconds for a limit under a minute.
pub fn idle_sign_out_message(idle_secs: u64) -> String {
    let span = if idle_secs < 60 {
        plural(idle_secs, "second")
    } else {
        plural((idle_secs + 30) / 60, "minute")
    };
    format!("You were signed out after {span} without activity.")
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// Whether a sign-in challenge received at `received_at_ms`, valid `expires_in` seconds, is
/// over at `now_ms` (the server answers a stale one like a wrong code, so the app tells them
/// apart by the clock and sends people back to the password step instead).
pub fn challenge_expired(received_at_ms: f64, expires_in: u64, now_ms: f64) -> bool {
    now_ms >= received_at_ms + secs_to_ms(expires_in)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: f64 = 1_700_000_000_000.0;

    #[test]
    fn warning_comes_a_minute_early_or_at_half_a_short_limit() {
        assert_eq!(idle_warning_secs(900), 60);
        assert_eq!(idle_warning_secs(1800), 60);
        assert_eq!(idle_warning_secs(120), 60);
        assert_eq!(idle_warning_secs(90), 45);
        assert_eq!(idle_warning_secs(20), 10);
        assert!((idle_deadline_ms(T0, 900) - (T0 + 900_000.0)).abs() < f64::EPSILON);
        assert!((idle_warning_at_ms(T0, 900) - (T0 + 840_000.0)).abs() < f64::EPSILON);
        assert!((idle_warning_at_ms(T0, 20) - (T0 + 10_000.0)).abs() < f64::EPSILON);
    }

    #[test]
    fn idle_state_moves_from_active_to_warning_to_expired() {
        assert_eq!(idle_state(T0, 900, T0 + 839_999.0), Idle::Active);
        assert_eq!(
            idle_state(T0, 900, T0 + 840_000.0),
            Idle::Warning { secs_left: 60 }
        );
        assert_eq!(
            idle_state(T0, 900, T0 + 899_100.0),
            Idle::Warning { secs_left: 1 }
        );
        assert_eq!(
            idle_state(T0, 900, T0 + 870_500.0),
            Idle::Warning { secs_left: 30 }
        );
        assert_eq!(idle_state(T0, 900, T0 + 900_000.0), Idle::Expired);
        // A laptop that slept through the warning wakes up past the deadline.
        assert_eq!(idle_state(T0, 900, T0 + 5_000_000.0), Idle::Expired);
    }

    #[test]
    fn no_known_idle_limit_never_expires() {
        assert_eq!(idle_state(0.0, 0, T0), Idle::Active);
    }

    #[test]
    fn sign_out_message_rounds_to_minutes_or_says_seconds() {
        assert_eq!(
            idle_sign_out_message(900),
            "You were signed out after 15 minutes without activity."
        );
        assert_eq!(
            idle_sign_out_message(1800),
            "You were signed out after 30 minutes without activity."
        );
        assert_eq!(
            idle_sign_out_message(89),
            "You were signed out after 1 minute without activity."
        );
        assert_eq!(
            idle_sign_out_message(90),
            "You were signed out after 2 minutes without activity."
        );
        assert_eq!(
            idle_sign_out_message(20),
            "You were signed out after 20 seconds without activity."
        );
        assert_eq!(
            idle_warning_text(42),
            "You will be signed out in 42 seconds because of inactivity."
        );
        assert_eq!(
            idle_warning_text(1),
            "You will be signed out in 1 second because of inactivity."
        );
    }

    #[test]
    fn challenge_expires_after_its_lifetime() {
        assert!(!challenge_expired(T0, 300, T0 + 299_999.0));
        assert!(challenge_expired(T0, 300, T0 + 300_000.0));
    }

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
