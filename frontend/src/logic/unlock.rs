//! Reading the unlock code that the lock-out e-mail's link carries in its fragment
//! (`/unlock#<code>`), so the page can offer it without the user copying it by hand.

/// The code in a URL fragment: without the leading `#` and surrounding whitespace, or an
/// empty string when the link carried none.
pub fn code_from_fragment(fragment: &str) -> String {
    let trimmed = fragment.trim();
    trimmed
        .strip_prefix('#')
        .unwrap_or(trimmed)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::code_from_fragment;

    #[test]
    fn the_code_comes_without_hash_or_whitespace() {
        assert_eq!(code_from_fragment("#abc123"), "abc123");
        assert_eq!(code_from_fragment("  # abc123 \n"), "abc123");
        assert_eq!(code_from_fragment("abc123"), "abc123");
        assert_eq!(code_from_fragment("#"), "");
        assert_eq!(code_from_fragment(""), "");
    }

    #[test]
    fn only_one_leading_hash_is_stripped() {
        assert_eq!(code_from_fragment("##x"), "#x");
    }
}
