//! One circuit breaker per provider, shared by uploads, downloads and the health probes, and
//! the hedge delays of downloads and uploads.
//!
//! A provider's breaker counts consecutive failed shard operations (a failed read or write, or
//! a read or write abandoned after the hedge delay because other shards of its stripe answered
//! first).
//! At `breaker_failures` it opens for `breaker_cooldown_secs`: uploads place no shard on the
//! provider and downloads read other shards first. After the cooldown it is half-open: one
//! operation is let through as a probe (the first caller to ask claims it; the others keep
//! avoiding the provider until the probe ends or a cooldown has passed without an answer);
//! the probe's success closes the breaker, its failure opens it again. A failed health probe opens it at once, a successful
//! one (every bucket of the provider answering) closes it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::FaultConfig;

/// What one provider's breaker says right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderStatus {
    /// The provider (failure domain), as in [`crate::BucketConfig::provider`].
    pub provider: String,
    /// Consecutive failures counted.
    pub failures: u32,
    /// Open: operations avoid the provider until the cooldown ends.
    pub open: bool,
    /// Times the breaker opened since the engine started.
    pub opened: u64,
}

#[derive(Debug, Default)]
struct State {
    failures: u32,
    open_until: Option<Instant>,
    /// Half-open: a probe was let through at this instant and has not answered yet.
    probe_since: Option<Instant>,
    opened: u64,
}

/// The breakers and the moving average of shard read times.
#[derive(Debug)]
pub(crate) struct Breakers {
    threshold: u32,
    cooldown: Duration,
    hedge_min: Duration,
    hedge_max: Duration,
    states: Mutex<HashMap<String, State>>,
    /// Exponentially weighted moving average of the time of a successful shard read, in
    /// seconds; `None` before the first.
    read_secs: Mutex<Option<f64>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Breakers {
    pub(crate) fn new(cfg: &FaultConfig, providers: &[String]) -> Self {
        Self {
            threshold: cfg.breaker_failures,
            cooldown: Duration::from_secs(cfg.breaker_cooldown_secs),
            hedge_min: Duration::from_millis(cfg.hedge_min_ms),
            hedge_max: Duration::from_millis(cfg.hedge_max_ms),
            states: Mutex::new(
                providers
                    .iter()
                    .map(|p| (p.clone(), State::default()))
                    .collect(),
            ),
            read_secs: Mutex::new(None),
        }
    }

    /// The provider may be used now: closed, or half-open (cooldown over) with no probe in
    /// flight, in which case the caller's operation is the probe. A probe that has not
    /// answered within a cooldown no longer holds the slot.
    pub(crate) fn allows(&self, provider: &str) -> bool {
        let mut states = lock(&self.states);
        let Some(s) = states.get_mut(provider) else {
            return true;
        };
        let Some(until) = s.open_until else {
            return true;
        };
        let now = Instant::now();
        if now < until {
            return false;
        }
        if s.probe_since
            .is_some_and(|since| now.duration_since(since) < self.cooldown)
        {
            return false;
        }
        s.probe_since = Some(now);
        true
    }

    /// An operation on the provider succeeded: the breaker closes.
    pub(crate) fn success(&self, provider: &str) {
        if let Some(s) = lock(&self.states).get_mut(provider) {
            s.failures = 0;
            s.open_until = None;
            s.probe_since = None;
        }
    }

    /// An operation on the provider failed (or hung past the hedge delay).
    pub(crate) fn failure(&self, provider: &str) {
        if self.threshold == 0 {
            return;
        }
        if let Some(s) = lock(&self.states).get_mut(provider) {
            s.failures = s.failures.saturating_add(1);
            if s.failures >= self.threshold {
                self.open(provider, s);
            }
        }
    }

    /// The provider failed a health probe: open now.
    pub(crate) fn trip(&self, provider: &str) {
        if self.threshold == 0 {
            return;
        }
        if let Some(s) = lock(&self.states).get_mut(provider) {
            s.failures = s.failures.max(self.threshold);
            self.open(provider, s);
        }
    }

    fn open(&self, provider: &str, s: &mut State) {
        let now = Instant::now();
        if s.open_until.is_none_or(|until| now >= until) {
            s.opened += 1;
            tracing::warn!(
                %provider,
                failures = s.failures,
                cooldown_secs = self.cooldown.as_secs(),
                "circuit breaker open: the provider is avoided until the cooldown ends"
            );
        }
        s.open_until = Some(now + self.cooldown);
        s.probe_since = None;
    }

    /// Every provider's breaker, by provider name.
    pub(crate) fn status(&self) -> Vec<ProviderStatus> {
        let now = Instant::now();
        let mut out: Vec<ProviderStatus> = lock(&self.states)
            .iter()
            .map(|(p, s)| ProviderStatus {
                provider: p.clone(),
                failures: s.failures,
                open: s.open_until.is_some_and(|until| now < until),
                opened: s.opened,
            })
            .collect();
        out.sort_by(|a, b| a.provider.cmp(&b.provider));
        out
    }

    /// Records the time of a successful shard read.
    pub(crate) fn observe_read(&self, took: Duration) {
        let mut avg = lock(&self.read_secs);
        let x = took.as_secs_f64();
        *avg = Some(avg.map_or(x, |a| 0.8 * a + 0.2 * x));
    }

    /// How long an upload waits on a shard write that is still running after another write of
    /// its stripe succeeded, before it gives the write up and places the shard elsewhere:
    /// `hedge_max`, the longest read hedge. Writes wait longer than reads because giving one
    /// up costs more: the shard then shares a bucket (the record is misplaced until repaired).
    pub(crate) fn write_hedge_delay(&self) -> Duration {
        self.hedge_max
    }

    /// How long a download waits on a shard read before it starts reading another shard of
    /// the stripe: four times the average read, within `[hedge_min, hedge_max]` (`hedge_max`
    /// before the first read).
    pub(crate) fn hedge_delay(&self) -> Duration {
        lock(&self.read_secs).map_or(self.hedge_max, |a| {
            Duration::from_secs_f64(4.0 * a).clamp(self.hedge_min, self.hedge_max)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breakers(threshold: u32, cooldown_ms: u64) -> Breakers {
        let mut b = Breakers::new(
            &FaultConfig {
                breaker_failures: threshold,
                ..FaultConfig::default()
            },
            &["a".to_owned(), "b".to_owned()],
        );
        b.cooldown = Duration::from_millis(cooldown_ms);
        b
    }

    #[test]
    fn opens_after_consecutive_failures_and_a_success_resets() {
        let b = breakers(3, 60_000);
        b.failure("a");
        b.failure("a");
        b.success("a");
        b.failure("a");
        b.failure("a");
        assert!(b.allows("a"), "only two consecutive failures");
        b.failure("a");
        assert!(!b.allows("a"), "third consecutive failure opens");
        assert!(b.allows("b"), "other providers are not affected");
        let st = b.status();
        assert_eq!((st[0].open, st[0].opened, st[0].failures), (true, 1, 3));
        assert!(!st[1].open);
    }

    #[test]
    fn half_open_after_the_cooldown_one_failure_reopens_one_success_closes() {
        let b = breakers(2, 30);
        b.failure("a");
        b.failure("a");
        assert!(!b.allows("a"));
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.allows("a"), "half-open after the cooldown");
        b.failure("a");
        assert!(!b.allows("a"), "the probe failed: open again at once");
        assert_eq!(b.status()[0].opened, 2);
        std::thread::sleep(Duration::from_millis(40));
        b.success("a");
        b.failure("a");
        assert!(
            b.allows("a"),
            "closed by the success: one failure is not enough"
        );
    }

    #[test]
    fn half_open_admits_one_probe_at_a_time() {
        let b = breakers(2, 30);
        b.failure("a");
        b.failure("a");
        std::thread::sleep(Duration::from_millis(40));
        assert!(
            b.allows("a"),
            "the first caller after the cooldown is the probe"
        );
        assert!(
            !b.allows("a"),
            "a second caller waits while the probe is out"
        );
        assert!(!b.allows("a"));
        assert!(b.allows("b"), "other providers are not affected");
        std::thread::sleep(Duration::from_millis(40));
        assert!(
            b.allows("a"),
            "a probe that never answered frees the slot after a cooldown"
        );
        b.failure("a");
        assert!(!b.allows("a"), "the probe failed: open again");
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.allows("a"));
        b.success("a");
        assert!(b.allows("a") && b.allows("a"), "closed: everyone passes");
    }

    #[test]
    fn trip_opens_at_once_and_zero_threshold_never_opens() {
        let b = breakers(3, 60_000);
        b.trip("b");
        assert!(!b.allows("b"));
        let off = breakers(0, 60_000);
        for _ in 0..10 {
            off.failure("a");
        }
        off.trip("a");
        assert!(off.allows("a"));
    }

    #[test]
    fn hedge_delay_follows_reads_within_bounds() {
        let b = breakers(3, 1000);
        assert_eq!(b.hedge_delay(), Duration::from_secs(1), "no reads yet");
        b.observe_read(Duration::from_millis(5));
        assert_eq!(b.hedge_delay(), Duration::from_millis(100), "floor");
        for _ in 0..50 {
            b.observe_read(Duration::from_millis(60));
        }
        let d = b.hedge_delay();
        assert!(
            d > Duration::from_millis(230) && d < Duration::from_millis(250),
            "{d:?}"
        );
        for _ in 0..50 {
            b.observe_read(Duration::from_secs(2));
        }
        assert_eq!(b.hedge_delay(), Duration::from_secs(1), "ceiling");
    }
}
