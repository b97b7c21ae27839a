//! The file name a download is saved under, read from the answer's `Content-Disposition`
//! (RFC 6266): `filename*=UTF-8''...` wins over `filename="..."`. Whatever comes back is
//! stripped of path separators and control characters before the browser sees it.

/// The file name in a `Content-Disposition` header, if any, made safe to save under.
pub fn file_name_from_disposition(header: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for part in split_params(header) {
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "filename*" => {
                let value = value.trim();
                if let Some((charset, rest)) = value.split_once('\'')
                    && charset.eq_ignore_ascii_case("utf-8")
                {
                    let encoded = rest.split_once('\'').map_or(rest, |(_, v)| v);
                    extended = percent_decode(encoded);
                }
            }
            "filename" => plain = Some(unquote(value.trim())),
            _ => {}
        }
    }
    extended
        .or(plain)
        .map(|n| sanitise(&n))
        .filter(|n| !n.is_empty())
}

/// Splits on `;` outside double quotes.
fn split_params(header: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in header.chars() {
        if escaped {
            current.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                current.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ';' if !quoted => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
}

fn unquote(value: &str) -> String {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Drops path separators, control characters and leading dots; caps the length.
fn sanitise(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if matches!(c, '/' | '\\') { '_' } else { c })
        .filter(|c| !c.is_control())
        .collect();
    cleaned
        .trim()
        .trim_start_matches('.')
        .chars()
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_quoted_names() {
        assert_eq!(
            file_name_from_disposition(r#"attachment; filename="blood test.pdf""#).as_deref(),
            Some("blood test.pdf")
        );
        assert_eq!(
            file_name_from_disposition("attachment; filename=scan.png").as_deref(),
            Some("scan.png")
        );
        assert_eq!(
            file_name_from_disposition(r#"attachment; filename="a \"q\"; b.txt""#).as_deref(),
            Some(r#"a "q"; b.txt"#)
        );
    }

    #[test]
    fn extended_name_wins_and_is_decoded() {
        let h = r#"attachment; filename="Rontgen.pdf"; filename*=UTF-8''R%C3%B6ntgen%20Brust.pdf"#;
        assert_eq!(
            file_name_from_disposition(h).as_deref(),
            Some("Röntgen Brust.pdf")
        );
    }

    #[test]
    fn paths_and_junk_are_neutralised() {
        assert_eq!(
            file_name_from_disposition(r#"attachment; filename="../../etc/passwd""#).as_deref(),
            Some("_.._etc_passwd")
        );
        assert_eq!(file_name_from_disposition("attachment"), None);
        assert_eq!(
            file_name_from_disposition(r#"attachment; filename="""#),
            None
        );
        assert_eq!(
            file_name_from_disposition("attachment; filename*=UTF-8''%ZZ; filename=x.txt")
                .as_deref(),
            Some("x.txt")
        );
    }
}
