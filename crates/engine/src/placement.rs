//! Where the shards of a stripe go: one rule for uploads, repair, drain and re-spreading.
//!
//! The shards of a stripe go to distinct buckets in distinct physical locations, and no more
//! than `cap` of them to one provider (failure domain), where
//! `cap = max(m, the smallest per-provider load the configured buckets allow)`. With enough
//! providers that is `m`, so losing a whole provider costs each stripe at most its parity:
//! surviving a provider outage needs at least `ceil((k + m) / m)` providers (3 for 4 + 2).
//! With fewer providers the rule spreads as evenly as the buckets allow.
//!
//! When an outage leaves fewer usable buckets than a stripe has shards, an upload may relax the
//! rule further ([`Spread::MayShare`]): a bucket then takes a second shard of the stripe under
//! another key (spread as evenly over providers and buckets as the usable ones allow). Such a
//! stripe breaks the rule, so it is "misplaced" and repair re-spreads it once buckets return.
//!
//! Within the rule the choice is random (a CSPRNG permutation), so bucket names say nothing
//! about a record. The constraint "at most `cap` per provider, one shard per bucket" is a
//! partition matroid, so taking buckets greedily in any order finds as many as any choice can.

use std::collections::HashMap;

use rand::rngs::OsRng;
use rand::seq::SliceRandom;

use crate::engine::Inner;

/// The largest number of shards of one stripe the rule puts on one provider.
pub(crate) fn provider_cap(providers: &[String], shards: usize, m: usize) -> usize {
    let mut per_provider: HashMap<&str, usize> = HashMap::new();
    for p in providers {
        *per_provider.entry(p.as_str()).or_default() += 1;
    }
    let fits = |load: usize| per_provider.values().map(|&n| n.min(load)).sum::<usize>() >= shards;
    let least = (1..=shards.max(1))
        .find(|&load| fits(load))
        .unwrap_or(shards);
    least.max(m).max(1)
}

/// Whether a choice may put two shards of a stripe in one bucket.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Spread {
    /// Never: a shard without a distinct bucket gets none (repair, drain).
    Distinct,
    /// As a last resort, when the usable buckets are fewer than the shards (uploads during an
    /// outage): the least loaded usable bucket of the least loaded provider.
    MayShare,
}

/// Chooses a bucket (store index) for each wanted shard.
///
/// `staying` are the stores already holding shards of the stripe that stay where they are;
/// `usable(store)` says whether a store may receive a shard now; `prefer[i]`, when set, is
/// tried first for wanted shard `i` (a damaged shard goes back to its own bucket when the rule
/// allows). Returns one entry per wanted shard: `None` when no bucket is left for it. The rule is
/// kept where possible; when it cannot be, the remaining shards still go to distinct buckets,
/// in distinct locations if there are enough (the stripe is then "misplaced", to be re-spread
/// later), and with [`Spread::MayShare`] in shared buckets, so an outage degrades placement
/// instead of refusing the write.
pub(crate) fn choose(
    inner: &Inner,
    staying: &[usize],
    usable: impl Fn(usize) -> bool,
    prefer: &[Option<usize>],
    spread: Spread,
) -> Vec<Option<usize>> {
    let mut state = Tally::new(inner);
    for &s in staying {
        state.take(s);
    }
    let mut out: Vec<Option<usize>> = vec![None; prefer.len()];
    for (slot, p) in out.iter_mut().zip(prefer) {
        if let Some(p) = *p
            && usable(p)
            && state.fits(p, Rule::Full)
        {
            state.take(p);
            *slot = Some(p);
        }
    }
    let mut order: Vec<usize> = (0..inner.stores.len()).collect();
    order.shuffle(&mut OsRng);
    for rule in [Rule::Full, Rule::Locations, Rule::Buckets] {
        for slot in out.iter_mut().filter(|s| s.is_none()) {
            if let Some(&pick) = order.iter().find(|&&i| usable(i) && state.fits(i, rule)) {
                state.take(pick);
                *slot = Some(pick);
            }
        }
    }
    if spread == Spread::MayShare {
        for slot in out.iter_mut().filter(|s| s.is_none()) {
            // `order` is random, so ties between equally loaded buckets are broken at random.
            if let Some(&pick) = order
                .iter()
                .filter(|&&i| usable(i))
                .min_by_key(|&&i| state.load(i))
            {
                state.take(pick);
                *slot = Some(pick);
            }
        }
    }
    out
}

/// Of the shards of a stripe (their stores, in shard order), the positions that break the rule
/// (a second shard in one location, or more than the cap on one provider): moving those, and
/// only those, re-spreads the stripe. Empty when the stripe is well placed.
pub(crate) fn misplaced(inner: &Inner, stores: &[usize]) -> Vec<usize> {
    let mut state = Tally::new(inner);
    let mut out = Vec::new();
    for (pos, &s) in stores.iter().enumerate() {
        if state.fits(s, Rule::Full) {
            state.take(s);
        } else {
            out.push(pos);
        }
    }
    out
}

/// How much of the rule a choice must keep.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Distinct buckets and locations, at most the cap per provider.
    Full,
    /// Distinct buckets and locations.
    Locations,
    /// Distinct buckets.
    Buckets,
}

/// What a stripe already occupies: stores, locations and per-provider counts.
struct Tally<'a> {
    inner: &'a Inner,
    stores: Vec<usize>,
    locations: Vec<&'a str>,
    per_provider: HashMap<&'a str, usize>,
}

impl<'a> Tally<'a> {
    fn new(inner: &'a Inner) -> Self {
        Self {
            inner,
            stores: Vec::new(),
            locations: Vec::new(),
            per_provider: HashMap::new(),
        }
    }

    fn fits(&self, store: usize, rule: Rule) -> bool {
        let location = self.inner.locations[store].as_str();
        let provider = self.inner.providers[store].as_str();
        let load = self.per_provider.get(provider).copied().unwrap_or(0);
        !self.stores.contains(&store)
            && (rule == Rule::Buckets || !self.locations.contains(&location))
            && (rule != Rule::Full || load < self.inner.provider_cap)
    }

    /// Shards of the stripe already on the store's provider, then on the store itself.
    fn load(&self, store: usize) -> (usize, usize) {
        let provider = self.inner.providers[store].as_str();
        (
            self.per_provider.get(provider).copied().unwrap_or(0),
            self.stores.iter().filter(|&&s| s == store).count(),
        )
    }

    fn take(&mut self, store: usize) {
        self.stores.push(store);
        self.locations.push(self.inner.locations[store].as_str());
        *self
            .per_provider
            .entry(self.inner.providers[store].as_str())
            .or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::provider_cap;

    fn providers(spec: &[(&str, usize)]) -> Vec<String> {
        spec.iter()
            .flat_map(|(p, n)| std::iter::repeat_n((*p).to_owned(), *n))
            .collect()
    }

    #[test]
    fn cap_is_m_when_providers_allow_it_and_the_least_possible_otherwise() {
        // Three providers with two buckets each, 4 + 2: two per provider.
        assert_eq!(
            provider_cap(&providers(&[("a", 2), ("b", 2), ("c", 2)]), 6, 2),
            2
        );
        // Six single-bucket providers: still m (never below it; distinct buckets do the rest).
        let singles = [("a", 1), ("b", 1), ("c", 1), ("d", 1), ("e", 1), ("f", 1)];
        assert_eq!(provider_cap(&providers(&singles), 6, 2), 2);
        // Two providers of three buckets: 3 per provider is the best possible.
        assert_eq!(provider_cap(&providers(&[("a", 3), ("b", 3)]), 6, 2), 3);
        // One provider: everything on it.
        assert_eq!(provider_cap(&providers(&[("a", 6)]), 6, 2), 6);
        // A fourth provider added: 2 stays the cap.
        assert_eq!(
            provider_cap(&providers(&[("a", 2), ("b", 2), ("c", 2), ("d", 2)]), 6, 2),
            2
        );
        // m = 0: one shard per provider where there are enough.
        assert_eq!(provider_cap(&providers(&singles[..4]), 3, 0), 1);
    }
}
