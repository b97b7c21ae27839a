//! Small pieces every screen uses: loading and error notices, a modal dialog, the one-time
//! temporary password notice, a pager, the patient's emergency-access badge and a clock that
//! ticks for "time left" displays.

use leptos::prelude::*;
use leptos::{ev, html};
use wasm_bindgen::JsCast;

use crate::logic::errors::ApiError;

/// A polite loading notice for screen readers and eyes.
#[component]
pub fn Loading(
    /// What is loading.
    #[prop(optional)]
    what: Option<&'static str>,
) -> impl IntoView {
    view! {
        <p class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            {format!("Loading {}…", what.unwrap_or(""))}
        </p>
    }
}

/// An API error next to what caused it.
#[component]
pub fn ErrorText(
    /// The error.
    error: ApiError,
) -> impl IntoView {
    view! { <p class="form-error" role="alert">{error.message}</p> }
}

/// An error message held in a signal, shown while set.
#[component]
pub fn ErrorSlot(
    /// The message.
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <p class="form-error" role="alert">{move || error.get()}</p>
        </Show>
    }
}

/// A modal dialog: labelled, traps attention visually, closes on Escape, and moves focus to
/// its first input (or button) when it opens. While open, Tab and Shift+Tab go round its own
/// controls only; when it closes, focus goes back to whatever had it before (the button that
/// opened it, as a rule).
#[component]
pub fn Dialog(
    /// Heading (also the dialog's accessible name).
    title: String,
    /// Called on Escape or the close button.
    on_close: Callback<()>,
    /// A fixed element id for the dialog (for browser tests) instead of a generated one.
    #[prop(optional)]
    id: Option<&'static str>,
    /// Content.
    children: Children,
) -> impl IntoView {
    let id = id.map_or_else(|| crate::ui::form::unique_id("dlg"), str::to_string);
    let title_id = format!("{id}-title");
    let panel: NodeRef<html::Div> = NodeRef::new();
    // Runs before the dialog is in the page, so this is still what opened it.
    let opener = StoredValue::new_local(document().active_element());
    Effect::new(move |_| {
        if let Some(panel) = panel.get() {
            let target = panel
                .query_selector("input, textarea, select, button.primary")
                .ok()
                .flatten();
            if let Some(el) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = el.focus();
            }
        }
    });
    // On the window, not the overlay: a click on the backdrop leaves focus on the page's body.
    let keys = window_event_listener(ev::keydown, move |ev| match ev.key().as_str() {
        "Escape" => on_close.run(()),
        "Tab" => {
            if let Some(panel) = panel.get_untracked() {
                keep_tab_inside(&panel, &ev);
            }
        }
        _ => {}
    });
    on_cleanup(move || {
        keys.remove();
        opener.with_value(|el| {
            if let Some(el) = el
                .as_ref()
                .and_then(|e| e.dyn_ref::<web_sys::HtmlElement>())
            {
                let _ = el.focus();
            }
        });
    });
    view! {
        <div class="overlay">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby=title_id.clone() node_ref=panel id=id>
                <div class="dialog-head">
                    <h2 id=title_id.clone()>{title}</h2>
                    <button type="button" class="link" aria-label="Close" on:click=move |_| on_close.run(())>"×"</button>
                </div>
                {children()}
            </div>
        </div>
    }
}

/// What Tab can reach inside a dialog (disabled controls it skips).
const FOCUSABLE: &str = "a[href], button:not(:disabled), input:not(:disabled):not([type=hidden]), \
    select:not(:disabled), textarea:not(:disabled), [tabindex]:not([tabindex=\"-1\"])";

/// Moves focus round to the dialog's first (or, with Shift, last) control instead of letting
/// Tab leave `panel`.
fn keep_tab_inside(panel: &web_sys::Element, ev: &web_sys::KeyboardEvent) {
    let Ok(nodes) = panel.query_selector_all(FOCUSABLE) else {
        return;
    };
    let items: Vec<web_sys::HtmlElement> = (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|n| n.dyn_into().ok())
        .collect();
    let active = document().active_element();
    let current = active.and_then(|a| items.iter().position(|e| **e == a));
    if let Some(i) = crate::logic::focus::wrapped_tab_target(items.len(), current, ev.shift_key()) {
        ev.prevent_default();
        let _ = items[i].focus();
    }
}

/// A new or reset account's temporary password as the server handed it over: (whose, the
/// password shown once; `None` when the server e-mailed it to them instead).
pub type HandedOver = (String, Option<String>);

/// The temporary password of a new or reset account: shown once, to hand over now, or (when
/// the server has SMTP) a note that it went to the user's e-mail.
#[component]
pub fn TemporaryPasswordNotice(
    /// Whose password it is.
    who: String,
    /// The password, or `None` when it was e-mailed.
    password: Option<String>,
) -> impl IntoView {
    match password {
        Some(password) => view! {
            <div class="notice success" role="status">
                <p>
                    "Temporary password for " <strong>{who}</strong>
                    ". It is shown only this once: hand it over now. They must change it when they first sign in."
                </p>
                <p><code class="secret temp-password">{password}</code></p>
            </div>
        }
        .into_any(),
        None => view! {
            <div class="notice success" role="status">
                <p class="temp-password-emailed">
                    "A temporary password was e-mailed to " <strong>{who}</strong>
                    ". Nobody else sees it; it works once, for 24 hours, and must be changed at the first sign-in."
                </p>
            </div>
        }
        .into_any(),
    }
}

/// How many emergency accesses to the patient's records need their attention (live, or not
/// yet reviewed), as a badge with the number in words for screen readers; nothing when none.
#[component]
pub fn EmergencyBadge(
    /// How many.
    count: usize,
) -> impl IntoView {
    (count > 0).then(|| {
        view! {
            <span class="badge badge-emergency" aria-hidden="true">{count}</span>
            <span class="sr-only">{format!(" ({})", crate::logic::emergency::attention_words(count))}</span>
        }
    })
}

/// Previous/next paging over `total` items, `per_page` at a time.
#[component]
pub fn Pager(
    /// 1-based page.
    page: RwSignal<u32>,
    /// Items in total.
    total: u64,
    /// Page size.
    per_page: u32,
) -> impl IntoView {
    let pages = u32::try_from(total.div_ceil(u64::from(per_page.max(1))))
        .unwrap_or(u32::MAX)
        .max(1);
    view! {
        <nav class="pager" aria-label="Pages">
            <button type="button" disabled=move || { page.get() <= 1 } on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))>"Previous"</button>
            <span>{move || format!("Page {} of {pages} ({total} in all)", page.get())}</span>
            <button type="button" disabled=move || { page.get() >= pages } on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
        </nav>
    }
}

/// Now, from the browser's clock (`chrono`'s own clock does not exist on wasm32).
pub fn utc_now() -> chrono::DateTime<chrono::Utc> {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "milliseconds since 1970 fit an i64 for the next 290 million years"
    )]
    let ms = js_sys::Date::now() as i64;
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The current time as a signal, for "time left" displays that count down on their own.
pub type Clock = RwSignal<chrono::DateTime<chrono::Utc>>;

/// The current time, ticking every second while the component using it lives.
pub fn ticking_now() -> Clock {
    let now = RwSignal::new(utc_now());
    if let Ok(handle) = set_interval_with_handle(
        move || now.set(utc_now()),
        std::time::Duration::from_secs(1),
    ) {
        on_cleanup(move || handle.clear());
    }
    now
}

/// Today's date in UTC (for "not in the future" checks and form defaults).
pub fn today() -> chrono::NaiveDate {
    utc_now().date_naive()
}
