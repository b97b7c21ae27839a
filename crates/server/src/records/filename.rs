//! File names from uploads: sanitised for storage and for RFC 6266 `Content-Disposition`.

use std::fmt::Write as _;

/// Longest stored file name, in characters.
pub const MAX_NAME_CHARS: usize = 120;

/// Reduces a client-supplied file name to a safe display name: the last path component only
/// (both `/` and `\` separate), no control or quoting characters, no leading dots, trimmed,
/// at most [`MAX_NAME_CHARS`] characters (the extension kept when cutting). An empty result
/// becomes `record` plus the extension for `content_type`.
pub fn sanitise(raw: &str, content_type: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*' | ';'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_owned();
    if cleaned.is_empty() {
        return format!("record.{}", extension_for(content_type));
    }
    if cleaned.chars().count() <= MAX_NAME_CHARS {
        return cleaned;
    }
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && e.chars().count() <= 10 => (s.to_owned(), format!(".{e}")),
        _ => (cleaned.clone(), String::new()),
    };
    let keep = MAX_NAME_CHARS - ext.chars().count();
    let stem: String = stem.chars().take(keep).collect();
    format!("{stem}{ext}")
}

/// The usual extension for a stored content type.
pub fn extension_for(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "application/dicom" => "dcm",
        "text/csv" => "csv",
        "application/json" => "json",
        "text/plain" => "txt",
        _ => "bin",
    }
}

/// An RFC 6266 `attachment` disposition: an ASCII fallback `filename` and the exact name as
/// RFC 8187 `filename*` (UTF-8, percent-encoded).
pub fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .filter(|c| *c != '"' && *c != '\\')
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            let _ = write!(encoded, "%{b:02X}");
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_paths_and_dangerous_characters() {
        assert_eq!(sanitise("../../etc/passwd", "text/plain"), "passwd");
        assert_eq!(sanitise("C:\\Users\\x\\scan.png", "image/png"), "scan.png");
        assert_eq!(sanitise("a\"b\r\nc;d.pdf", "application/pdf"), "abcd.pdf");
        assert_eq!(sanitise("...hidden", "text/plain"), "hidden");
        assert_eq!(sanitise("", "application/pdf"), "record.pdf");
        assert_eq!(sanitise("dir/", "image/png"), "record.png");
        assert_eq!(sanitise("\u{0}\u{7}", "text/csv"), "record.csv");
    }

    #[test]
    fn long_names_keep_their_extension() {
        let long = format!("{}.pdf", "x".repeat(5000));
        let s = sanitise(&long, "application/pdf");
        assert_eq!(s.chars().count(), MAX_NAME_CHARS);
        assert_eq!(s.rsplit_once('.').map(|(_, e)| e), Some("pdf"));
        let multibyte = "é".repeat(500);
        assert_eq!(
            sanitise(&multibyte, "text/plain").chars().count(),
            MAX_NAME_CHARS
        );
    }

    #[test]
    fn disposition_has_ascii_fallback_and_utf8_name() {
        assert_eq!(
            content_disposition("Résultats 2026.pdf"),
            "attachment; filename=\"R_sultats 2026.pdf\"; filename*=UTF-8''R%C3%A9sultats%202026.pdf"
        );
        assert!(!content_disposition("a\"b").contains("a\"b"));
    }
}
