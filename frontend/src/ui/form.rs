//! Form plumbing shared by every screen: labelled inputs with their error underneath, and the
//! state of one form (busy, errors by field, an error for the whole form).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::logic::errors::ApiError;

static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// A fresh element id (labels need unique `for` targets).
pub fn unique_id(prefix: &str) -> String {
    format!("{prefix}-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed))
}

/// `id` when the page fixed one, else a fresh one for `name`.
fn id_or_unique(id: Option<&'static str>, name: &str) -> String {
    id.map_or_else(|| unique_id(name), str::to_string)
}

/// The state of one form.
#[derive(Clone, Copy)]
pub struct FormState {
    /// A request is out: the submit button is disabled and says so.
    pub busy: RwSignal<bool>,
    /// Messages by field name, shown under the inputs.
    pub errors: RwSignal<BTreeMap<String, String>>,
    /// A message for the whole form, shown next to its button.
    pub error: RwSignal<Option<String>>,
}

impl FormState {
    /// A form at rest.
    pub fn new() -> Self {
        Self {
            busy: RwSignal::new(false),
            errors: RwSignal::new(BTreeMap::new()),
            error: RwSignal::new(None),
        }
    }

    /// Local validation failed: show the messages, send nothing.
    pub fn invalid(&self, errors: BTreeMap<String, String>) {
        self.errors.set(errors);
        self.error
            .set(Some("Please correct the fields marked below.".into()));
    }

    /// Starts a request unless one is already out; clears old messages.
    pub fn start(&self) -> bool {
        if self.busy.get_untracked() {
            return false;
        }
        self.busy.set(true);
        self.errors.set(BTreeMap::new());
        self.error.set(None);
        true
    }

    /// The request failed: field messages under their fields, the rest next to the button.
    pub fn fail(&self, e: &ApiError) {
        self.busy.set(false);
        self.errors.set(e.fields.clone());
        self.error.set(Some(e.message.clone()));
    }

    /// The request succeeded.
    pub fn done(&self) {
        self.busy.set(false);
    }

    /// Submits a form: shows the field errors of a `body` that failed validation and sends
    /// nothing; otherwise, unless a request is already out, sends `request(body)` and hands its
    /// answer to `on_done`, or shows its error.
    pub fn send<B, T, Fut>(
        self,
        body: Result<B, BTreeMap<String, String>>,
        request: impl FnOnce(B) -> Fut + 'static,
        on_done: Callback<T>,
    ) where
        B: 'static,
        T: 'static,
        Fut: Future<Output = Result<T, ApiError>> + 'static,
    {
        let body = match body {
            Ok(b) => b,
            Err(errs) => return self.invalid(errs),
        };
        if !self.start() {
            return;
        }
        spawn_local(async move {
            match request(body).await {
                Ok(answer) => {
                    self.done();
                    on_done.run(answer);
                }
                Err(e) => self.fail(&e),
            }
        });
    }
}

impl FormState {
    /// Submits a form whose one input, named `code`, holds a code: checks it with `check`,
    /// then sends `request(code)` as [`send`](Self::send) does. A refused code is emptied, so
    /// the next one can be typed straight away.
    pub fn send_code<T, Fut>(
        self,
        code: RwSignal<String>,
        check: impl FnOnce(&str) -> Result<String, String>,
        request: impl FnOnce(String) -> Fut + 'static,
        on_done: Callback<T>,
    ) where
        T: 'static,
        Fut: Future<Output = Result<T, ApiError>> + 'static,
    {
        let body = check(&code.get_untracked())
            .map_err(|message| BTreeMap::from([("code".to_string(), message)]));
        let request = move |digits: String| async move {
            let answer = request(digits).await;
            if answer.is_err() {
                code.set(String::new());
            }
            answer
        };
        self.send(body, request, on_done);
    }
}

impl Default for FormState {
    fn default() -> Self {
        Self::new()
    }
}

/// A labelled text input bound to `value`; its error (from `form.errors[name]`) is announced
/// to screen readers and tied to the input with `aria-describedby`.
#[component]
pub fn Field(
    /// Visible label.
    label: &'static str,
    /// API field name (also the input's `name`).
    name: &'static str,
    /// The value.
    value: RwSignal<String>,
    /// The form it belongs to.
    form: FormState,
    /// Input type (`text` by default).
    #[prop(optional)]
    kind: Option<&'static str>,
    /// Browser autofill hint.
    #[prop(optional)]
    autocomplete: Option<&'static str>,
    /// Must be filled.
    #[prop(optional)]
    required: bool,
    /// A hint under the label.
    #[prop(optional)]
    hint: Option<&'static str>,
    /// A fixed element id (for links and browser tests) instead of a generated one.
    #[prop(optional)]
    id: Option<&'static str>,
) -> impl IntoView {
    let id = id_or_unique(id, name);
    let err_id = format!("{id}-err");
    let hint_id = format!("{id}-hint");
    let error = move || form.errors.with(|e| e.get(name).cloned());
    let described = {
        let err_id = err_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error().is_some() {
                ids.push(err_id.clone());
            }
            ids.join(" ")
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}{required.then_some(view! { <span aria-hidden="true">" *"</span> })}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <input
                id=id
                name=name
                type=kind.unwrap_or("text")
                autocomplete=autocomplete.unwrap_or("off")
                required=required
                aria-invalid=move || if error().is_some() { "true" } else { "false" }
                aria-describedby=described
                bind:value=value
            />
            <Show when=move || error().is_some()>
                <p class="field-error" id=err_id.clone() role="alert">{error}</p>
            </Show>
        </div>
    }
}

/// A labelled multi-line input.
#[component]
pub fn TextArea(
    /// Visible label.
    label: &'static str,
    /// API field name.
    name: &'static str,
    /// The value.
    value: RwSignal<String>,
    /// The form it belongs to.
    form: FormState,
    /// Must be filled.
    #[prop(optional)]
    required: bool,
    /// A fixed element id instead of a generated one.
    #[prop(optional)]
    id: Option<&'static str>,
    /// A class on the textarea (for rows that repeat one form).
    #[prop(optional)]
    class: Option<&'static str>,
) -> impl IntoView {
    let id = id_or_unique(id, name);
    let err_id = format!("{id}-err");
    let error = move || form.errors.with(|e| e.get(name).cloned());
    view! {
        <div class="field">
            <label for=id.clone()>{label}{required.then_some(view! { <span aria-hidden="true">" *"</span> })}</label>
            <textarea
                id=id
                class=class
                name=name
                rows="3"
                required=required
                aria-invalid=move || if error().is_some() { "true" } else { "false" }
                aria-describedby=err_id.clone()
                bind:value=value
            ></textarea>
            <Show when=move || error().is_some()>
                <p class="field-error" id=err_id.clone() role="alert">{error}</p>
            </Show>
        </div>
    }
}

/// A labelled `<select>` over `(value, label)` options.
#[component]
pub fn Select(
    /// Visible label.
    label: &'static str,
    /// API field name.
    name: &'static str,
    /// The chosen value.
    value: RwSignal<String>,
    /// The choices.
    options: Vec<(String, String)>,
    /// The form it belongs to.
    form: FormState,
    /// A fixed element id instead of a generated one.
    #[prop(optional)]
    id: Option<&'static str>,
    /// A class on the select (for rows that repeat one form).
    #[prop(optional)]
    class: Option<&'static str>,
) -> impl IntoView {
    let id = id_or_unique(id, name);
    let error = move || form.errors.with(|e| e.get(name).cloned());
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select
                id=id
                class=class
                name=name
                on:change=move |ev| value.set(event_target_value(&ev))
                prop:value=move || value.get()
            >
                {options
                    .into_iter()
                    .map(|(v, l)| {
                        let selected = value.get_untracked() == v;
                        view! { <option value=v selected=selected>{l}</option> }
                    })
                    .collect_view()}
            </select>
            <Show when=move || error().is_some()>
                <p class="field-error" role="alert">{error}</p>
            </Show>
        </div>
    }
}

/// The form's submit button and its form-wide error right next to it.
#[component]
pub fn Submit(
    /// Button text.
    label: &'static str,
    /// Text while the request is out.
    busy_label: &'static str,
    /// The form.
    form: FormState,
    /// A fixed id for the button.
    #[prop(optional)]
    id: Option<&'static str>,
    /// A class on the button besides `primary` (for rows that repeat one form).
    #[prop(optional)]
    class: Option<&'static str>,
) -> impl IntoView {
    let class = class.map_or_else(|| "primary".to_string(), |c| format!("primary {c}"));
    view! {
        <div class="actions">
            <button type="submit" id=id class=class disabled=move || form.busy.get() aria-busy=move || form.busy.get().to_string()>
                {move || if form.busy.get() { busy_label } else { label }}
            </button>
            <Show when=move || form.error.get().is_some()>
                <p class="form-error" role="alert">{move || form.error.get()}</p>
            </Show>
        </div>
    }
}

/// A labelled checkbox bound to `value`, with an optional hint tied to it.
#[component]
pub fn Checkbox(
    /// Visible label (next to the box).
    label: &'static str,
    /// API field name (also the input's `name`).
    name: &'static str,
    /// Ticked or not.
    value: RwSignal<bool>,
    /// A hint under the label.
    #[prop(optional)]
    hint: Option<&'static str>,
) -> impl IntoView {
    let id = unique_id(name);
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field checkbox">
            <input
                id=id.clone()
                name=name
                type="checkbox"
                aria-describedby=hint.map(|_| hint_id.clone())
                bind:checked=value
            />
            <label for=id>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
        </div>
    }
}
