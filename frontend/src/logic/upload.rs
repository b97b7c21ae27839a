//! Checks on a chosen file before it is uploaded, so a too-large or unsupported file is refused
//! at once with a clear message instead of after minutes of uploading. The server decides in the
//! end (it sniffs the bytes); these checks only use what the browser knows: size, type, name.

use crate::logic::format;

/// The server's default limits (largest file, accepted content types), from the shared types so
/// the server and this app read one list; used until the server reports the limits in force.
pub use medvault_types::{DEFAULT_ALLOWED_TYPES, DEFAULT_MAX_FILE_BYTES};

/// The type a file name's extension implies, for browsers that report no type (DICOM, often).
pub fn type_from_name(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "dcm" | "dicom" => "application/dicom",
        "txt" | "text" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        _ => return None,
    })
}

/// Whether a file of `size` bytes named `name`, which the browser says is `browser_type`, may be
/// uploaded given the server's `max_bytes` and `allowed` types. An empty file is refused too.
pub fn check_file(
    name: &str,
    browser_type: &str,
    size: u64,
    max_bytes: u64,
    allowed: &[String],
) -> Result<(), String> {
    if size == 0 {
        return Err("The file is empty.".into());
    }
    if size > max_bytes {
        return Err(format!(
            "The file is too large ({}); the largest accepted is {}.",
            format::bytes(size),
            format::bytes(max_bytes)
        ));
    }
    let base = browser_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let by_type = !base.is_empty() && allowed.contains(&base);
    let by_name = type_from_name(name).is_some_and(|t| allowed.iter().any(|a| a == t));
    if by_type || by_name {
        Ok(())
    } else {
        Err(format!(
            "This kind of file is not accepted. Upload one of: {}.",
            readable_types(allowed)
        ))
    }
}

/// Allowed types as people know them ("PDF, PNG, JPEG").
pub fn readable_types(allowed: &[String]) -> String {
    allowed
        .iter()
        .map(|t| match t.as_str() {
            "application/pdf" => "PDF",
            "image/png" => "PNG",
            "image/jpeg" => "JPEG",
            "application/dicom" => "DICOM",
            "text/plain" => "plain text",
            "text/csv" => "CSV",
            "application/json" => "JSON",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A title to suggest for a chosen file: its name without the extension, at most 200
/// characters (the longest title the form accepts).
pub fn title_from_file_name(name: &str) -> String {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    stem.chars().take(200).collect()
}

/// The default allowlist as owned strings.
pub fn default_allowed() -> Vec<String> {
    DEFAULT_ALLOWED_TYPES
        .iter()
        .map(|s| (*s).to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_allowed_files_by_type_or_extension() {
        let allowed = default_allowed();
        assert!(check_file("scan.pdf", "application/pdf", 10, 100, &allowed).is_ok());
        assert!(check_file("img.DCM", "", 10, 100, &allowed).is_ok());
        assert!(check_file("notes.txt", "text/plain; charset=utf-8", 10, 100, &allowed).is_ok());
    }

    #[test]
    fn refuses_empty_oversized_and_unsupported() {
        let allowed = default_allowed();
        assert_eq!(
            check_file("a.pdf", "application/pdf", 0, 100, &allowed),
            Err("The file is empty.".into())
        );
        let too_big = check_file("a.pdf", "application/pdf", 2048, 1024, &allowed).unwrap_err();
        assert!(too_big.contains("too large (2.0 KiB)"), "{too_big}");
        assert!(too_big.contains("1.0 KiB"), "{too_big}");
        let bad = check_file("run.exe", "application/x-msdownload", 10, 100, &allowed).unwrap_err();
        assert!(
            bad.contains("PDF, PNG, JPEG, DICOM, plain text, CSV, JSON"),
            "{bad}"
        );
    }

    #[test]
    fn suggested_title_drops_the_extension_and_stays_short() {
        assert_eq!(
            title_from_file_name("blood-test.march.pdf"),
            "blood-test.march"
        );
        assert_eq!(title_from_file_name("README"), "README");
        assert_eq!(title_from_file_name(&"é".repeat(300)).chars().count(), 200);
    }

    #[test]
    fn a_narrower_server_allowlist_wins() {
        let only_pdf = vec!["application/pdf".to_string()];
        assert!(check_file("x.png", "image/png", 10, 100, &only_pdf).is_err());
        assert_eq!(type_from_name("noext"), None);
    }
}
