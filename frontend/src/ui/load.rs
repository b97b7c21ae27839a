//! Loading what the API answers, written once: the loading / error / empty scaffold every
//! screen shows around its data, and the reload that fetches an answer again after a change.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::api::dto::{History, Page};
use crate::ui::widgets::{ErrorText, Loading};

/// Fetches API answers again on demand: the resources made by [`Reload::load`] fetch once and
/// then each time [`Reload::reload`] runs (after a save, a delete, a "Refresh" click), so a
/// screen never has to keep its own version counter.
#[derive(Clone, Copy)]
pub struct Reload(Trigger);

impl Reload {
    /// A reload nothing has asked for yet.
    pub fn new() -> Self {
        Self(Trigger::new())
    }

    /// A resource that runs `fetch` now and again on every [`reload`](Self::reload) (and when
    /// any signal `fetch` reads changes).
    pub fn load<T, Fut>(self, fetch: impl Fn() -> Fut + 'static) -> LocalResource<T>
    where
        T: 'static,
        Fut: Future<Output = T> + 'static,
    {
        LocalResource::new(move || {
            self.0.track();
            fetch()
        })
    }

    /// Fetches every resource of this reload again.
    pub fn reload(self) {
        self.0.notify();
    }

    /// [`reload`](Self::reload) as a callback, for a child's "saved" or "done" event.
    pub fn callback(self) -> Callback<()> {
        Callback::new(move |()| self.reload())
    }
}

impl Default for Reload {
    fn default() -> Self {
        Self::new()
    }
}

/// An answer that can hold nothing to show, so [`AsyncList`] can say so instead of drawing an
/// empty table.
pub trait Listing {
    /// Nothing to show.
    fn is_empty(&self) -> bool;
}

impl<T> Listing for Vec<T> {
    fn is_empty(&self) -> bool {
        Vec::is_empty(self)
    }
}

impl<T> Listing for Page<T> {
    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl Listing for History {
    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The one scaffold behind [`AsyncView`] and [`AsyncList`]: a polite loading notice until the
/// first answer (a reload keeps the last answer on screen), the error in words where the data
/// would be, else `ok(data)`.
fn scaffold<T, F>(
    resource: LocalResource<Result<T, ApiError>>,
    what: &'static str,
    error_heading: Option<&'static str>,
    ok: F,
) -> impl IntoView
where
    T: Clone + 'static,
    F: Fn(T) -> AnyView + Send + Sync + 'static,
{
    view! {
        <Transition fallback=move || view! { <Loading what=what/> }>
            {move || resource.get().map(|r| match (r, error_heading) {
                (Ok(data), _) => ok(data),
                (Err(e), None) => view! { <ErrorText error=e/> }.into_any(),
                (Err(e), Some(h)) => view! { <h1>{h}</h1><ErrorText error=e/> }.into_any(),
            })}
        </Transition>
    }
}

/// Shows one API answer: "Loading {what}…" while it is out, the error when it failed, and
/// `children` with the data when it came. A reload keeps the old data until the new arrives.
#[component]
pub fn AsyncView<T, V, F>(
    /// The answer, from [`Reload::load`] or `LocalResource::new`.
    resource: LocalResource<Result<T, ApiError>>,
    /// What is loading, for the notice.
    what: &'static str,
    /// A heading to show above the error, for a page whose own heading comes from the data.
    #[prop(optional)]
    error_heading: Option<&'static str>,
    /// The view of the data.
    children: F,
) -> impl IntoView
where
    T: Clone + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
{
    scaffold(resource, what, error_heading, move |data| {
        children(data).into_any()
    })
}

/// [`AsyncView`] for a list: when the answer holds nothing, `empty` in a paragraph instead of
/// `children`.
#[component]
pub fn AsyncList<T, V, F>(
    /// The answer.
    resource: LocalResource<Result<T, ApiError>>,
    /// What is loading, for the notice.
    what: &'static str,
    /// What to say when there is nothing to show.
    empty: &'static str,
    /// The view of a list with something in it.
    children: F,
) -> impl IntoView
where
    T: Listing + Clone + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
{
    scaffold(resource, what, None, move |data| {
        if data.is_empty() {
            view! { <p>{empty}</p> }.into_any()
        } else {
            children(data).into_any()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_empty_by_its_items_not_by_its_total() {
        let page = |items: Vec<u8>| Page {
            items,
            total: 3,
            page: 2,
            per_page: 20,
        };
        assert!(Listing::is_empty(&page(vec![])));
        assert!(!Listing::is_empty(&page(vec![1])));
        assert!(Listing::is_empty(&Vec::<u8>::new()));
        assert!(Listing::is_empty(&History { items: vec![] }));
    }
}
