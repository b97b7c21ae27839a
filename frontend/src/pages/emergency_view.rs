//! How one emergency access reads, the same for its doctor, its patient and the reviewing
//! administrator: whether it still gives access, and its review.

use leptos::prelude::*;

use crate::api::dto::EmergencyReview;
use crate::logic::emergency;

/// "Active" or "Ended" as a badge.
#[component]
pub fn EmergencyStatus(
    /// Whether it still gives access.
    active: bool,
) -> impl IntoView {
    let class = if active { "badge live" } else { "badge ended" };
    view! { <span class=class>{emergency::status(active)}</span> }
}

/// "Awaiting review", or the outcome and the reviewer's comment (`review-outcome-shown`).
#[component]
pub fn ReviewLine(
    /// The review, once done.
    review: Option<EmergencyReview>,
) -> impl IntoView {
    let (class, text) = match review {
        Some(r) => ("review-outcome-shown", emergency::review_text(Some(&r))),
        None => ("review-pending", emergency::review_text(None)),
    };
    view! { <span class=class>{text}</span> }
}
