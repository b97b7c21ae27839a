//! Pagination: one query shape and one answer shape for every list.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `?page=&per_page=&q=` accepted by every list endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u32>,
    /// Items per page (default 20; values above 100 are capped to 100).
    #[param(minimum = 1, maximum = 4_294_967_295_u64, format = Int64)]
    pub per_page: Option<u32>,
    /// Case-insensitive search in name and email (at most 100 characters, no control
    /// characters).
    #[param(max_length = 100, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub q: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Number of items matching the query across all pages.
    pub total: u64,
    /// This page's number (1-based).
    pub page: u32,
    /// Page size used.
    pub per_page: u32,
}

impl<T> Page<T> {
    /// A page holding `items` out of `total` matches.
    pub fn new(items: Vec<T>, total: u64, page: u32, per_page: u32) -> Self {
        Self {
            items,
            total,
            page,
            per_page,
        }
    }
}
