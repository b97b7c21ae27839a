//! Pagination and search parameters, validated once for every list, and the [`Page`] they
//! produce. Every list endpoint of every domain pages through here.

use medvault_types::{ListQuery, Page};

diesel::define_sql_function! {
    /// SQL `lower(text)`, the same on PostgreSQL and SQLite.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

use crate::error::ApiError;
use crate::validate::Fields;

/// Default page size.
pub const DEFAULT_PER_PAGE: u32 = 20;
/// Largest page size; larger requests are capped.
pub const MAX_PER_PAGE: u32 = 100;
/// Highest page number accepted.
const MAX_PAGE: u32 = 1_000_000;
/// Longest search string.
const MAX_QUERY_CHARS: usize = 100;

/// A validated list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    /// 1-based page.
    pub page: u32,
    /// Page size, capped.
    pub per_page: u32,
    /// `LIKE` pattern (lower-case, wildcards escaped with `\`), when searching.
    pub pattern: Option<String>,
}

impl Paging {
    /// Validates `?page=&per_page=&q=`: 422 for out-of-range values.
    pub fn from_query(query: &ListQuery) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        let page = f.take(
            "page",
            match query.page.unwrap_or(1) {
                p @ 1..=MAX_PAGE => Ok(p),
                _ => Err(format!("must be between 1 and {MAX_PAGE}")),
            },
        );
        let per_page = f.take(
            "per_page",
            match query.per_page.unwrap_or(DEFAULT_PER_PAGE) {
                0 => Err("must be at least 1".to_string()),
                n => Ok(n.min(MAX_PER_PAGE)),
            },
        );
        let pattern = f.take(
            "q",
            match query.q.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(q) if q.chars().count() > MAX_QUERY_CHARS => {
                    Err(format!("must be at most {MAX_QUERY_CHARS} characters"))
                }
                Some(q) if q.chars().any(char::is_control) => {
                    Err("must not contain control characters".to_string())
                }
                Some(q) => Ok(Some(like_pattern(q))),
            },
        );
        f.finish()?;
        Ok(Self {
            page,
            per_page,
            pattern,
        })
    }

    /// Rows to skip.
    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }

    /// Rows to return.
    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }

    /// The first page of at most `per_page` items, without search: for the internal lists
    /// that show a bounded first page (the patient's timeline).
    pub fn first(per_page: u32) -> Self {
        Self {
            page: 1,
            per_page: per_page.clamp(1, MAX_PER_PAGE),
            pattern: None,
        }
    }

    /// This page's answer: `items` (already limited to this page) out of `total` matches.
    pub fn page<T>(&self, items: Vec<T>, total: i64) -> Page<T> {
        Page::new(
            items,
            u64::try_from(total).unwrap_or(0),
            self.page,
            self.per_page,
        )
    }
}

/// `%q%` in lower case with `\`, `%` and `_` escaped (use with `.escape('\\')`).
pub fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(page: Option<u32>, per_page: Option<u32>, q: Option<&str>) -> ListQuery {
        ListQuery {
            page,
            per_page,
            q: q.map(str::to_string),
        }
    }

    #[test]
    fn defaults_caps_and_errors() {
        let p = Paging::from_query(&q(None, None, None)).unwrap();
        assert_eq!((p.page, p.per_page, p.pattern), (1, 20, None));
        assert_eq!(
            Paging::from_query(&q(Some(3), Some(1000), None))
                .unwrap()
                .per_page,
            100
        );
        assert_eq!(
            Paging::from_query(&q(Some(3), Some(10), None))
                .unwrap()
                .offset(),
            20
        );
        assert!(Paging::from_query(&q(Some(0), None, None)).is_err());
        assert!(Paging::from_query(&q(None, Some(0), None)).is_err());
        assert!(Paging::from_query(&q(None, None, Some(&"x".repeat(101)))).is_err());
    }

    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(like_pattern("A_b%c\\"), "%a\\_b\\%c\\\\%");
    }
}
