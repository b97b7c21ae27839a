//! Property tests of the parsers that read what clients and operators send: magic-byte
//! detection, file names and the `Content-Disposition` built from them, the configuration
//! file and the JWT path. No input panics, and every output keeps its invariant. (The
//! manifest decoder's properties live in the engine, `manifest::tests`; multipart framing is
//! actix-multipart's, and the upload suites send it malformed bodies.)

use actix_web::http::header::HeaderValue;
use medvault_server::auth::JwtKeys;
use medvault_server::config::Config;
use medvault_server::records::filename::{MAX_NAME_CHARS, content_disposition, sanitise};
use medvault_server::records::sniff::{self, DEFAULT_ALLOWED};
use medvault_types::Role;
use proptest::prelude::*;
use secrecy::SecretString;

/// Percent-decodes an RFC 8187 value.
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
            out.push(u8::from_str_radix(hex, 16).expect("hex"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fn keys() -> JwtKeys {
    JwtKeys::new(
        &SecretString::from("a-test-signing-key-of-forty-bytes-length!".to_owned()),
        "medvault",
        900,
    )
    .expect("keys")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Detection and resolution take any bytes and any declaration; what they accept is on
    /// the allowlist.
    #[test]
    fn sniffing_takes_any_bytes(
        head in proptest::collection::vec(any::<u8>(), 0..600),
        declared in ".{0,80}",
    ) {
        let _ = sniff::detect(&head);
        let allowed: Vec<String> = DEFAULT_ALLOWED.iter().map(|s| (*s).to_owned()).collect();
        if let Ok(t) = sniff::resolve(&head, &declared, &allowed) {
            prop_assert!(allowed.iter().any(|a| a == t));
        }
    }

    /// A sanitised name is never empty, never long, never a path, never hidden, and holds no
    /// control or quoting character.
    #[test]
    fn sanitised_names_are_safe(raw in any::<String>(), ct in "[a-z/]{0,20}") {
        let name = sanitise(&raw, &ct);
        prop_assert!(!name.is_empty());
        prop_assert!(name.chars().count() <= MAX_NAME_CHARS.max(20));
        prop_assert!(!name.contains(['/', '\\', '"', '<', '>', ':', '|', '?', '*', ';']));
        prop_assert!(!name.chars().any(char::is_control));
        prop_assert!(!name.starts_with('.'));
    }

    /// The disposition is always a valid ASCII header value, and its `filename*` decodes back
    /// to exactly the name.
    #[test]
    fn dispositions_are_valid_headers_that_round_trip(raw in any::<String>()) {
        let name = sanitise(&raw, "application/pdf");
        let value = content_disposition(&name);
        prop_assert!(value.is_ascii());
        prop_assert!(HeaderValue::from_str(&value).is_ok());
        let (_, encoded) = value.split_once("filename*=UTF-8''").expect("filename*");
        prop_assert_eq!(percent_decode(encoded), name.as_bytes().to_vec());
    }

    /// Any text as a configuration file: parsing and validating never panic.
    #[test]
    fn any_configuration_text_is_refused_or_accepted_cleanly(text in ".{0,300}") {
        if let Ok(cfg) = toml::from_str::<Config>(&text) {
            let _ = cfg.validate();
        }
    }

    /// Configuration values of the wrong shape or out of range are refused, never accepted
    /// silently or with a panic.
    #[test]
    fn configuration_numbers_anywhere(
        table in prop::sample::select(vec!["records", "consent", "limits", "scrub", "http"]),
        key in prop::sample::select(vec![
            "max_file_bytes", "quota_bytes", "max_attempts", "max_transfers",
            "interval_secs", "json_limit_bytes", "workers", "downloads_per_grant",
        ]),
        value in prop_oneof![
            any::<i64>().prop_map(|v| v.to_string()),
            Just("-1".to_owned()),
            Just("1e400".to_owned()),
            Just("\"12\"".to_owned()),
            Just("[]".to_owned()),
        ],
    ) {
        let text = format!("[{table}]\n{key} = {value}\n");
        if let Ok(cfg) = toml::from_str::<Config>(&text) {
            let _ = cfg.validate();
        }
    }

    /// Any string as a bearer token is refused without a panic.
    #[test]
    fn arbitrary_tokens_are_refused(token in ".{0,300}") {
        prop_assert!(keys().verify(&token).is_err());
    }

    /// A real token with any one character changed is refused.
    #[test]
    fn tampered_tokens_are_refused(at in any::<prop::sample::Index>(), c in any::<char>()) {
        let keys = keys();
        let token = keys
            .issue(uuid::Uuid::new_v4(), Role::Patient, uuid::Uuid::new_v4())
            .expect("token");
        let i = at.index(token.len());
        let mut tampered: String = token.chars().take(i).collect();
        tampered.push(c);
        tampered.extend(token.chars().skip(i + 1));
        if tampered != token {
            prop_assert!(keys.verify(&tampered).is_err());
        }
    }
}
