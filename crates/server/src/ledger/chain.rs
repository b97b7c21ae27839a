//! The hash chain itself, with no database: how an entry is encoded, hashed and checked.
//!
//! `hash = SHA-256(prev_hash || canonical(entry))` where `prev_hash` is the previous entry's
//! 32-byte hash (32 zero bytes before the first entry) and `canonical(entry)` is
//!
//! ```text
//! "medvault-ledger-v1"
//! u64 BE  seq
//! field   at        RFC 3339 UTC with exactly 6 fractional digits, e.g. 2026-11-24T01:02:03.000004Z
//! field   actor     user id (hyphenated lower-case UUID) or empty for the system
//! field   action    e.g. "record.upload"
//! field   subject   e.g. "record:<uuid>"
//! field   payload   the stored payload text (JSON with sorted keys), byte for byte
//! ```
//!
//! where each `field` is a u32 BE length followed by that many UTF-8 bytes. Length prefixes
//! make the encoding unambiguous; hashing the stored text (not a re-serialisation) makes it
//! independent of any JSON library's key order.
//!
//! **Format v2** covers every field that decides who sees an entry: it is v1 with the domain
//! `"medvault-ledger-v2"` and one more field, `patient` (the patient id the entry is filed
//! under, empty for none), between `subject` and `payload`. The switch is itself an entry
//! (action [`SWITCH_ACTION`], hashed in the form before it): every entry after the first switch
//! is v2, every entry up to it v1. The verifier derives each entry's form from the switch's
//! position, never from anything an editor could change without breaking a hash.

use chrono::{DateTime, SubsecRound, Utc};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry: 32 zero bytes, hex.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The action of the entry that switches the chain to format v2.
pub const SWITCH_ACTION: &str = "ledger.format";

/// The canonical form an entry is hashed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Seq, time, actor, action, subject, payload.
    V1,
    /// V1 plus the patient id the entry is filed under.
    V2,
}

impl Format {
    const fn domain(self) -> &'static [u8] {
        match self {
            Self::V1 => b"medvault-ledger-v1",
            Self::V2 => b"medvault-ledger-v2",
        }
    }

    /// The form of the entry that follows one in this form with action `action`.
    #[must_use]
    pub fn after(self, action: &str) -> Self {
        if action == SWITCH_ACTION {
            Self::V2
        } else {
            self
        }
    }
}

/// One entry's hashed content, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryContent<'a> {
    /// Position in the chain (from 1).
    pub seq: i64,
    /// Time of writing, microsecond precision.
    pub at: DateTime<Utc>,
    /// Acting user id as stored (hyphenated UUID), or `None` for the system.
    pub actor: Option<&'a str>,
    /// Action name.
    pub action: &'a str,
    /// Subject reference.
    pub subject: &'a str,
    /// Payload text exactly as stored.
    pub payload: &'a str,
    /// Patient the entry is filed under, as stored (hashed in v2 only).
    pub patient: Option<&'a str>,
    /// The canonical form.
    pub format: Format,
}

/// Truncates a timestamp to what both databases store exactly (microseconds).
pub fn ledger_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

fn put_field(hasher: &mut Sha256, bytes: &[u8]) {
    // Every field is bounded far below 4 GiB by the callers' validation; saturate rather
    // than wrap if that ever changed, which would only make the entry unverifiable.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    hasher.update(len.to_be_bytes());
    hasher.update(bytes);
}

/// Computes an entry's hash (hex) from the previous hash (hex) and the entry's content.
/// A malformed `prev_hash` hashes as its raw text, so it can never match a real link.
pub fn entry_hash(prev_hash: &str, entry: &EntryContent<'_>) -> String {
    let mut hasher = Sha256::new();
    match hex::decode(prev_hash) {
        Ok(prev) if prev.len() == 32 => hasher.update(&prev),
        _ => hasher.update(prev_hash.as_bytes()),
    }
    hasher.update(entry.format.domain());
    hasher.update(entry.seq.to_be_bytes());
    put_field(
        &mut hasher,
        entry
            .at
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string()
            .as_bytes(),
    );
    put_field(&mut hasher, entry.actor.unwrap_or("").as_bytes());
    put_field(&mut hasher, entry.action.as_bytes());
    put_field(&mut hasher, entry.subject.as_bytes());
    if entry.format == Format::V2 {
        put_field(&mut hasher, entry.patient.unwrap_or("").as_bytes());
    }
    put_field(&mut hasher, entry.payload.as_bytes());
    hex::encode(hasher.finalize())
}

/// A stored entry as the verifier reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// Position in the chain.
    pub seq: i64,
    /// Time of writing.
    pub at: DateTime<Utc>,
    /// Acting user id, if any.
    pub actor: Option<String>,
    /// Action name.
    pub action: String,
    /// Subject reference.
    pub subject: String,
    /// Payload text.
    pub payload: String,
    /// Patient the entry is filed under.
    pub patient: Option<String>,
    /// Stored previous hash.
    pub prev_hash: String,
    /// Stored hash.
    pub hash: String,
}

/// Why a link is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// An entry is missing before this one (deleted row) or the sequence does not start at 1.
    Gap {
        /// The seq that was expected here.
        expected: i64,
    },
    /// `prev_hash` does not equal the previous entry's hash.
    PrevMismatch,
    /// The entry's content does not hash to its stored hash (edited row).
    HashMismatch,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Gap { expected } => write!(f, "entry {expected} is missing"),
            Self::PrevMismatch => f.write_str("prev_hash does not match the previous entry"),
            Self::HashMismatch => f.write_str("content does not match its hash"),
        }
    }
}

/// Incremental verifier: feed entries in `seq` order, in batches of any size, so memory stays
/// bounded whatever the ledger's length.
#[derive(Debug, Clone)]
pub struct Verifier {
    expected_seq: i64,
    prev_hash: String,
    format: Format,
    checked: u64,
    broken: Option<(i64, Break)>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            format: Format::V1,
            checked: 0,
            broken: None,
        }
    }
}

impl Verifier {
    /// A verifier expecting the chain from its first entry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next entry. Returns `false` once a broken link has been found (later
    /// entries are not checked: the first break is what the admin needs).
    pub fn feed(&mut self, e: &StoredEntry) -> bool {
        if self.broken.is_some() {
            return false;
        }
        self.checked += 1;
        let fault = if e.seq != self.expected_seq {
            Some(Break::Gap {
                expected: self.expected_seq,
            })
        } else if e.prev_hash != self.prev_hash {
            Some(Break::PrevMismatch)
        } else {
            let content = EntryContent {
                seq: e.seq,
                at: e.at,
                actor: e.actor.as_deref(),
                action: &e.action,
                subject: &e.subject,
                payload: &e.payload,
                patient: e.patient.as_deref(),
                format: self.format,
            };
            let computed = entry_hash(&self.prev_hash, &content);
            // Hashes are public values: no constant-time need here.
            (computed != e.hash).then_some(Break::HashMismatch)
        };
        if let Some(fault) = fault {
            self.broken = Some((e.seq, fault));
            return false;
        }
        self.expected_seq = e.seq + 1;
        self.prev_hash.clone_from(&e.hash);
        self.format = self.format.after(&e.action);
        true
    }

    /// Entries looked at so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The first broken link, if any.
    pub fn broken(&self) -> Option<&(i64, Break)> {
        self.broken.as_ref()
    }

    /// The hash of the last good entry (the head when the chain is intact).
    pub fn head_hash(&self) -> Option<&str> {
        (self.expected_seq > 1).then_some(self.prev_hash.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const PATIENT: &str = "8f0e2c1a-0000-4000-8000-0000000000aa";

    /// A chain of `n` entries; entry `switch_at` (if any) is the switch to v2.
    fn chain_switching(n: i64, switch_at: Option<i64>) -> Vec<StoredEntry> {
        let mut prev = GENESIS_HASH.to_owned();
        let mut format = Format::V1;
        (1..=n)
            .map(|seq| {
                let at = Utc.timestamp_opt(1_700_000_000 + seq, 123_456_000).unwrap();
                let payload = format!("{{\"n\":{seq}}}");
                let actor =
                    (seq % 2 == 0).then(|| "8f0e2c1a-0000-4000-8000-000000000001".to_owned());
                let action = if switch_at == Some(seq) {
                    SWITCH_ACTION
                } else {
                    "record.upload"
                };
                let patient = (seq % 3 != 0).then(|| PATIENT.to_owned());
                let content = EntryContent {
                    seq,
                    at,
                    actor: actor.as_deref(),
                    action,
                    subject: "record:x",
                    payload: &payload,
                    patient: patient.as_deref(),
                    format,
                };
                let hash = entry_hash(&prev, &content);
                format = format.after(action);
                let e = StoredEntry {
                    seq,
                    at,
                    actor,
                    action: action.into(),
                    subject: "record:x".into(),
                    payload,
                    patient,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    fn chain(n: i64) -> Vec<StoredEntry> {
        chain_switching(n, None)
    }

    fn verify(entries: &[StoredEntry]) -> Verifier {
        let mut v = Verifier::new();
        for e in entries {
            if !v.feed(e) {
                break;
            }
        }
        v
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(10);
        let v = verify(&c);
        assert!(v.broken().is_none());
        assert_eq!(v.checked(), 10);
        assert_eq!(v.head_hash(), Some(c[9].hash.as_str()));
    }

    #[test]
    fn empty_chain_verifies_with_no_head() {
        let v = verify(&[]);
        assert!(v.broken().is_none());
        assert_eq!(v.head_hash(), None);
    }

    #[test]
    fn edited_payload_is_named() {
        let mut c = chain(10);
        c[4].payload = "{\"n\":99}".into();
        assert_eq!(verify(&c).broken(), Some(&(5, Break::HashMismatch)));
    }

    #[test]
    fn edited_time_actor_action_subject_are_named() {
        for field in 0..4 {
            let mut c = chain(6);
            match field {
                0 => c[2].at += chrono::Duration::microseconds(1),
                1 => c[2].actor = Some("someone-else".into()),
                2 => c[2].action = "record.delete".into(),
                _ => c[2].subject = "record:y".into(),
            }
            assert_eq!(
                verify(&c).broken(),
                Some(&(3, Break::HashMismatch)),
                "field {field}"
            );
        }
    }

    #[test]
    fn deleted_row_is_a_gap() {
        let mut c = chain(10);
        c.remove(6);
        assert_eq!(verify(&c).broken(), Some(&(8, Break::Gap { expected: 7 })));
    }

    #[test]
    fn deleted_first_row_is_a_gap() {
        let mut c = chain(3);
        c.remove(0);
        assert_eq!(verify(&c).broken(), Some(&(2, Break::Gap { expected: 1 })));
    }

    #[test]
    fn rehashed_edit_still_breaks_the_next_link() {
        // An attacker who edits entry 5 and recomputes its hash breaks entry 6's prev link.
        let mut c = chain(10);
        c[4].payload = "{\"n\":99}".into();
        let content = EntryContent {
            seq: 5,
            at: c[4].at,
            actor: c[4].actor.as_deref(),
            action: &c[4].action,
            subject: &c[4].subject,
            payload: &c[4].payload,
            patient: c[4].patient.as_deref(),
            format: Format::V1,
        };
        c[4].hash = entry_hash(&c[4].prev_hash, &content);
        assert_eq!(verify(&c).broken(), Some(&(6, Break::PrevMismatch)));
    }

    #[test]
    fn a_chain_that_switches_to_v2_verifies() {
        let c = chain_switching(10, Some(4));
        let v = verify(&c);
        assert!(v.broken().is_none(), "{:?}", v.broken());
        assert_eq!(v.checked(), 10);
    }

    #[test]
    fn v1_ignores_the_patient_but_v2_commits_to_it() {
        // Before the switch the patient id is outside the hash (the old form's known gap).
        let mut c = chain_switching(10, Some(4));
        c[1].patient = None;
        assert!(verify(&c).broken().is_none());
        // After it, editing, adding or removing the patient id breaks the entry.
        // (seq 6 has no patient, seq 7 and 8 have one)
        for (i, edit) in [(5, Some(PATIENT)), (6, None), (7, Some("other"))] {
            let mut c = chain_switching(10, Some(4));
            c[i].patient = edit.map(str::to_owned);
            assert_eq!(
                verify(&c).broken(),
                Some(&(i64::try_from(i).unwrap() + 1, Break::HashMismatch)),
                "entry {}",
                i + 1
            );
        }
    }

    #[test]
    fn an_entry_cannot_pass_for_the_old_form_after_the_switch() {
        // An editor who rehashes an entry after the switch in the v1 form (to drop the patient
        // id from the hash) breaks that entry: the verifier knows which form it must be in.
        let mut c = chain_switching(10, Some(4));
        c[6].patient = None;
        let content = EntryContent {
            seq: 7,
            at: c[6].at,
            actor: c[6].actor.as_deref(),
            action: &c[6].action,
            subject: &c[6].subject,
            payload: &c[6].payload,
            patient: None,
            format: Format::V1,
        };
        c[6].hash = entry_hash(&c[6].prev_hash, &content);
        assert_eq!(verify(&c).broken(), Some(&(7, Break::HashMismatch)));
    }

    #[test]
    fn the_forms_hash_differently() {
        let at = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let mut e = EntryContent {
            seq: 1,
            at,
            actor: None,
            action: "a",
            subject: "b",
            payload: "{}",
            patient: None,
            format: Format::V1,
        };
        let v1 = entry_hash(GENESIS_HASH, &e);
        e.format = Format::V2;
        assert_ne!(v1, entry_hash(GENESIS_HASH, &e));
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let at = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let a = EntryContent {
            seq: 1,
            at,
            actor: None,
            action: "ab",
            subject: "c",
            payload: "{}",
            patient: None,
            format: Format::V1,
        };
        let b = EntryContent {
            seq: 1,
            at,
            actor: None,
            action: "a",
            subject: "bc",
            payload: "{}",
            patient: None,
            format: Format::V1,
        };
        assert_ne!(entry_hash(GENESIS_HASH, &a), entry_hash(GENESIS_HASH, &b));
    }

    #[test]
    fn time_is_truncated_to_micros() {
        let at = Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(ledger_time(at).timestamp_subsec_nanos(), 123_456_000);
    }
}
