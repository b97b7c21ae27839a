//! Content-type detection from a file's first bytes (magic numbers), never from the client's
//! claim, and the check of that claim against what the bytes are.

/// How many leading bytes detection needs (DICOM's marker sits at offset 128..132; text
/// detection looks at up to this many bytes).
pub const SNIFF_LEN: usize = 8192;

/// A type medvault knows how to recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// `application/pdf`
    Pdf,
    /// `image/png`
    Png,
    /// `image/jpeg`
    Jpeg,
    /// `application/dicom` (Part 10 file: 128-byte preamble then `DICM`)
    Dicom,
    /// UTF-8 text without binary control bytes; refined to plain, CSV or JSON by the claim.
    Text,
}

/// Content types in the default upload allowlist (the one list, shared with the SPA).
pub use medvault_types::DEFAULT_ALLOWED_TYPES as DEFAULT_ALLOWED;

/// Detects the type of a file from its first bytes (`head` holds up to [`SNIFF_LEN`] bytes,
/// fewer only when the file is shorter). `None`: not a type medvault recognises.
pub fn detect(head: &[u8]) -> Option<Detected> {
    if head.starts_with(b"%PDF-") {
        return Some(Detected::Pdf);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Detected::Png);
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Detected::Jpeg);
    }
    if head.len() >= 132 && &head[128..132] == b"DICM" {
        return Some(Detected::Dicom);
    }
    if !head.is_empty() && is_text(head) {
        return Some(Detected::Text);
    }
    None
}

/// UTF-8 (a multi-byte character cut by the end of the window is fine) with no control bytes
/// other than tab, CR, LF and form feed.
fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        // Only an incomplete sequence at the very end (cut by the window) is acceptable.
        Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => {
            match std::str::from_utf8(&head[..e.valid_up_to()]) {
                Ok(s) => s,
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    let text = valid.strip_prefix('\u{feff}').unwrap_or(valid);
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\u{0c}'))
}

/// Normalises a declared type: lower case, parameters (`; charset=...`) dropped.
fn essence(declared: &str) -> String {
    declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Declared types that say nothing (browsers send these for unknown extensions).
fn is_unspecific(essence: &str) -> bool {
    essence.is_empty() || essence == "application/octet-stream"
}

/// Why an upload's type is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeError {
    /// The bytes are not a type medvault recognises.
    Unrecognised,
    /// The bytes are of one type and the client declared another.
    Mismatch {
        /// What the bytes are.
        detected: &'static str,
    },
    /// Recognised, but not on the configured allowlist.
    NotAllowed(&'static str),
}

/// Resolves the content type to store: what the bytes are, refined by the declaration only
/// within the text family (plain / CSV / JSON share no magic number). A declaration that
/// contradicts the bytes is refused, as is a type outside `allowed`.
pub fn resolve(head: &[u8], declared: &str, allowed: &[String]) -> Result<&'static str, TypeError> {
    let detected = detect(head).ok_or(TypeError::Unrecognised)?;
    let declared = essence(declared);
    let resolved = match detected {
        Detected::Pdf => "application/pdf",
        Detected::Png => "image/png",
        Detected::Jpeg => "image/jpeg",
        Detected::Dicom => "application/dicom",
        Detected::Text => match declared.as_str() {
            "text/csv" => "text/csv",
            "application/json" => {
                if looks_like_json(head) {
                    "application/json"
                } else {
                    return Err(TypeError::Mismatch {
                        detected: "text/plain",
                    });
                }
            }
            _ => "text/plain",
        },
    };
    let compatible = is_unspecific(&declared)
        || declared == resolved
        || (resolved == "image/jpeg" && declared == "image/jpg")
        || (resolved == "text/plain" && declared.starts_with("text/"));
    if !compatible {
        return Err(TypeError::Mismatch { detected: resolved });
    }
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(resolved)) {
        return Err(TypeError::NotAllowed(resolved));
    }
    Ok(resolved)
}

fn looks_like_json(head: &[u8]) -> bool {
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| head[i]);
    matches!(start, Some(b'{' | b'['))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<String> {
        DEFAULT_ALLOWED.iter().map(|s| (*s).to_owned()).collect()
    }

    fn dicom() -> Vec<u8> {
        let mut d = vec![0u8; 128];
        d.extend_from_slice(b"DICM\x02\x00");
        d
    }

    #[test]
    fn detects_each_magic_number() {
        assert_eq!(detect(b"%PDF-1.7\n"), Some(Detected::Pdf));
        assert_eq!(detect(b"\x89PNG\r\n\x1a\n...."), Some(Detected::Png));
        assert_eq!(detect(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Detected::Jpeg));
        assert_eq!(detect(&dicom()), Some(Detected::Dicom));
        assert_eq!(detect(b"glucose,5.4\n"), Some(Detected::Text));
        assert_eq!(
            detect("Hémoglobine 13 g/dL".as_bytes()),
            Some(Detected::Text)
        );
        assert_eq!(detect(b"MZ\x90\x00\x03\x00"), None);
        assert_eq!(detect(b""), None);
        assert_eq!(detect(b"abc\x00def"), None);
    }

    #[test]
    fn utf8_cut_at_window_end_is_text() {
        let mut s = "a".repeat(10).into_bytes();
        s.extend_from_slice(&"é".as_bytes()[..1]);
        assert_eq!(detect(&s), Some(Detected::Text));
        // ...but invalid UTF-8 in the middle is not.
        let mut bad = b"abc".to_vec();
        bad.push(0xC3);
        bad.extend_from_slice(b"xyz");
        assert_eq!(detect(&bad), None);
    }

    #[test]
    fn resolves_and_refuses_mismatch() {
        let a = all();
        assert_eq!(
            resolve(b"%PDF-1.4", "application/pdf", &a),
            Ok("application/pdf")
        );
        assert_eq!(
            resolve(b"%PDF-1.4", "application/octet-stream", &a),
            Ok("application/pdf")
        );
        assert_eq!(resolve(b"%PDF-1.4", "", &a), Ok("application/pdf"));
        assert_eq!(
            resolve(b"%PDF-1.4", "image/png", &a),
            Err(TypeError::Mismatch {
                detected: "application/pdf"
            })
        );
        assert_eq!(
            resolve(b"hello", "image/png", &a),
            Err(TypeError::Mismatch {
                detected: "text/plain"
            })
        );
        assert_eq!(
            resolve(b"a,b\n1,2\n", "text/csv; charset=utf-8", &a),
            Ok("text/csv")
        );
        assert_eq!(
            resolve(b" {\"a\":1}", "application/json", &a),
            Ok("application/json")
        );
        assert_eq!(
            resolve(b"not json", "application/json", &a),
            Err(TypeError::Mismatch {
                detected: "text/plain"
            })
        );
        assert_eq!(resolve(b"notes", "text/markdown", &a), Ok("text/plain"));
        assert_eq!(
            resolve(&[0xFF, 0xD8, 0xFF, 0xDB], "image/jpg", &a),
            Ok("image/jpeg")
        );
        assert_eq!(
            resolve(b"\x7fELF\x02", "application/pdf", &a),
            Err(TypeError::Unrecognised)
        );
    }

    #[test]
    fn allowlist_is_enforced() {
        let only_pdf = vec!["application/pdf".to_owned()];
        assert_eq!(resolve(b"%PDF-1.4", "", &only_pdf), Ok("application/pdf"));
        assert_eq!(
            resolve(b"\x89PNG\r\n\x1a\n", "image/png", &only_pdf),
            Err(TypeError::NotAllowed("image/png"))
        );
    }
}
