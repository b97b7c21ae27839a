//! An error boundary around every routed page, so a failure that escapes a screen's own error
//! handling shows a readable message in that screen's place instead of a blank page, while the
//! header and navigation keep working.

use leptos::prelude::*;

/// Shows `children`, or, once something inside renders an error, what went wrong and what to
/// do about it. Adds no element of its own while all is well.
#[component]
pub fn PageBoundary(
    /// The page.
    children: Children,
) -> impl IntoView {
    view! {
        <ErrorBoundary fallback=|errors| view! {
            <div class="notice warn" role="alert">
                <p><strong>"This page could not be shown."</strong></p>
                <ul>
                    {move || errors.with(|list| {
                        list.iter().map(|(_, e)| view! { <li>{e.to_string()}</li> }).collect_view()
                    })}
                </ul>
                <p>"Reload the page or choose another one from the menu."</p>
            </div>
        }>
            {children()}
        </ErrorBoundary>
    }
}

/// A route's view: `page` inside its own [`PageBoundary`], so an error on one page stays there
/// and leaving the page clears it.
pub fn bounded<P, V>(page: P) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static
where
    P: Fn() -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    move || {
        let page = page.clone();
        view! { <PageBoundary>{page()}</PageBoundary> }.into_any()
    }
}
