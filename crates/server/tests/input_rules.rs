//! The OpenAPI document states each text input's rule as `maxLength` and a `pattern`
//! (`medvault_types::input`); the server's validators decide. These properties hold them to
//! one answer: a value matches the published pattern within the length exactly when the
//! validator accepts it, for strings drawn from the characters where the two could part
//! (white space that trimming removes or keeps, control characters, letters that change when
//! lower-cased) and for strings generated from the pattern itself.

use medvault_server::validate;
use medvault_types::input::{self, TextRule};
use proptest::prelude::*;
use regex::Regex;

/// Characters where a pattern and a validator could disagree.
const POOL: &[char] = &[
    'a', 'Z', '7', '0', ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{a0}', '\u{2003}',
    '\u{3000}', '\u{feff}', '\u{0}', '\u{1c}', '\u{7f}', '\u{9f}', 'é', '\u{212a}', '@', '.', '-',
    '+', '(', ')', '/', '_', '!',
];

/// Strings of `POOL` characters up to `max` long.
fn pooled(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(POOL), 0..=max)
        .prop_map(|cs| cs.into_iter().collect())
}

/// What the schema allows: the pattern, within `max` characters.
fn allowed(re: &Regex, max: usize, s: &str) -> bool {
    re.is_match(s) && s.chars().count() <= max
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the published pattern compiles")
}

/// One input rule: its schema (pattern and length) and the validator that enforces it.
struct Rule {
    name: &'static str,
    pattern: String,
    max: usize,
    accepts: fn(&str) -> bool,
}

fn text_rule(name: &'static str, rule: TextRule, accepts: fn(&str) -> bool) -> Rule {
    Rule {
        name,
        pattern: rule.pattern(),
        max: rule.max,
        accepts,
    }
}

fn rules() -> Vec<Rule> {
    vec![
        text_rule("name", input::NAME, |s| {
            validate::text(s, &input::NAME).is_ok()
        }),
        text_rule("address", input::ADDRESS, |s| {
            validate::opt_text(Some(s.to_owned()), &input::ADDRESS).is_ok()
        }),
        text_rule("reason", input::REASON, |s| {
            validate::text(s, &input::REASON).is_ok()
        }),
        text_rule("prescription", input::PRESCRIPTION, |s| {
            validate::text(s, &input::PRESCRIPTION).is_ok()
        }),
        text_rule("justification", input::JUSTIFICATION, |s| {
            validate::text(s, &input::JUSTIFICATION).is_ok()
        }),
        text_rule("record notes", input::RECORD_NOTES, |s| {
            validate::opt_text(Some(s.to_owned()), &input::RECORD_NOTES).is_ok()
        }),
        Rule {
            name: "email",
            pattern: input::EMAIL_PATTERN.to_owned(),
            max: input::EMAIL_MAX,
            accepts: |s| validate::email(s).is_ok(),
        },
        Rule {
            name: "licence",
            pattern: input::LICENCE_PATTERN.to_owned(),
            max: input::LICENCE_MAX,
            accepts: |s| validate::licence_number(s).is_ok(),
        },
        Rule {
            name: "phone",
            pattern: input::PHONE_PATTERN.to_owned(),
            max: input::PHONE_MAX,
            accepts: |s| validate::phone(Some(s.to_owned())).is_ok(),
        },
        Rule {
            name: "postal code",
            pattern: input::POSTAL_CODE_PATTERN.to_owned(),
            max: input::POSTAL_CODE_MAX,
            accepts: |s| validate::postal_code(Some(s.to_owned())).is_ok(),
        },
    ]
}

fn agree(rule: &Rule, re: &Regex, s: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        allowed(re, rule.max, s),
        (rule.accepts)(s),
        "{}: schema and server disagree on {:?}",
        rule.name,
        s
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Strings of the tricky characters, short enough to cross every limit of the short rules.
    #[test]
    fn schema_and_server_agree_on_tricky_strings(s in pooled(40)) {
        for rule in rules() {
            agree(&rule, &regex(&rule.pattern), &s)?;
        }
    }

    /// The same around the length limits: a run of one tricky character on either side of a
    /// body of the rule's maximum length, give or take.
    #[test]
    fn schema_and_server_agree_at_the_limits(
        pad in proptest::sample::select(POOL),
        body in proptest::sample::select(&['a', '7', '-', ' ', '\n'][..]),
        before in 0usize..3,
        after in 0usize..3,
        slack in 0usize..3,
    ) {
        for rule in rules() {
            let n = (rule.max + 1).saturating_sub(slack);
            let s: String = std::iter::repeat_n(pad, before)
                .chain(std::iter::repeat_n(body, n))
                .chain(std::iter::repeat_n(pad, after))
                .collect();
            agree(&rule, &regex(&rule.pattern), &s)?;
        }
    }
}

/// Values generated from each published pattern (as a client generating from the schema
/// would) are accepted whenever they are within the length.
#[test]
fn values_generated_from_the_patterns_are_accepted() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(512));
    for rule in rules() {
        let re = regex(&rule.pattern);
        // The generator takes no anchors; the patterns have exactly one at each end.
        let unanchored = rule.pattern.trim_start_matches('^').trim_end_matches('$');
        let strategy = proptest::string::string_regex(unanchored).expect("pattern strategy");
        runner
            .run(&strategy, |s| agree(&rule, &re, &s))
            .unwrap_or_else(|e| panic!("{}: {e}", rule.name));
    }
}
