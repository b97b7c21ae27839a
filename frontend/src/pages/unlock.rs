//! `/unlock`: lifts the sign-in locks of an account with the code from the lock-out e-mail.
//! The e-mail's link carries the code in the fragment (`/unlock#<code>`), which fills the
//! input, so the user only has to press the button.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::calls;
use crate::logic::unlock::code_from_fragment;
use crate::logic::validate;
use crate::ui::form::{Field, FormState, Submit};

/// Said under the form when the server refuses the code.
const REFUSED: &str = "This code is unknown, already used or expired.";
/// The longest code the input accepts before asking the server (the API's limit).
const MAX_CODE: usize = 128;

/// `/unlock`: the code from the e-mail (prefilled from the link), then word that the account
/// is unlocked with the way to sign in. Open to anyone: the user cannot sign in yet.
#[component]
pub fn Unlock() -> impl IntoView {
    let location = use_location();
    let code = RwSignal::new(code_from_fragment(&location.hash.get_untracked()));
    let form = FormState::new();
    let unlocked = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = code.get_untracked().trim().to_string();
        let body = validate::required(&typed, MAX_CODE)
            .map(|()| typed)
            .map_err(|message| BTreeMap::from([("token".to_string(), message)]));
        let request = |token: String| async move {
            calls::unlock(&token).await.map_err(|mut e| {
                if e.status == 401 {
                    e.message = REFUSED.into();
                }
                e
            })
        };
        form.send(body, request, Callback::new(move |()| unlocked.set(true)));
    };
    view! {
        <main id="main" class="auth-page">
            <h1 class="brand-big">"medvault"</h1>
            <Show
                when=move || unlocked.get()
                fallback=move || view! {
                    <form class="card narrow" id="unlock-form" on:submit=submit novalidate=true>
                        <h2>"Unlock your account"</h2>
                        <p>"After several failed sign-ins your account is locked for a while. The e-mail we sent holds a code that lifts the lock."</p>
                        <Field label="Code from the e-mail" name="token" id="unlock-code"
                            autocomplete="one-time-code" value=code form=form required=true/>
                        <Submit label="Unlock" busy_label="Unlocking…" form=form id="unlock-submit"/>
                        <p><a href="/login">"Back to sign-in"</a></p>
                    </form>
                }
            >
                <section class="card narrow">
                    <h2>"Unlock your account"</h2>
                    <p class="notice info" role="status" id="unlock-done">"Your account is unlocked. You can sign in now."</p>
                    <p><a href="/login" id="unlock-sign-in">"Sign in"</a></p>
                </section>
            </Show>
        </main>
    }
}
