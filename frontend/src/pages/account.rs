//! Screens every role shares: the start page and changing the password (forced or chosen).
//! Signing in is [`crate::pages::sign_in`].

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;

use crate::api::calls;
use crate::logic::validate::{self, Checks};
use crate::state::{landing_of, use_auth};
use crate::ui::form::{Field, FormState, Submit};
use crate::ui::shell::sign_out;

/// `/`: sends people where they must go first (see [`landing_of`]), or to sign-in.
#[component]
pub fn Home() -> impl IntoView {
    let auth = use_auth();
    move || {
        let path = auth.user.with(|u| u.as_ref().map_or("/login", landing_of));
        view! { <Redirect path=path/> }
    }
}

/// The password form shared by the forced and the chosen change (and the patient's security page).
#[component]
pub fn PasswordForm(
    /// Called after a successful change.
    on_done: Callback<()>,
) -> impl IntoView {
    let auth = use_auth();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let form = FormState::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Checks::new();
        c.check(
            "current_password",
            validate::required(&current.get_untracked(), 1024),
        );
        c.check(
            "new_password",
            validate::new_password(&new.get_untracked(), &confirm.get_untracked()),
        );
        if new.get_untracked() == current.get_untracked() {
            c.check::<()>(
                "new_password",
                Err("Choose a password different from the current one.".into()),
            );
        }
        if let Err(errs) = c.finish() {
            form.invalid(errs);
            return;
        }
        if !form.start() {
            return;
        }
        spawn_local(async move {
            match calls::change_password(&current.get_untracked(), &new.get_untracked()).await {
                Ok(_) => {
                    form.done();
                    current.set(String::new());
                    new.set(String::new());
                    confirm.set(String::new());
                    let updated = auth.user.get_untracked().map(|mut u| {
                        u.must_change_password = false;
                        u
                    });
                    if let Some(u) = &updated {
                        crate::api::transport::set_user(u);
                    }
                    auth.user.set(updated);
                    on_done.run(());
                }
                Err(e) => form.fail(&e),
            }
        });
    };
    view! {
        <form class="card narrow" id="password-form" on:submit=submit novalidate=true>
            <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" value=current form=form required=true/>
            <Field label="New password" name="new_password" kind="password" autocomplete="new-password" value=new form=form required=true
                hint="At least 12 characters. A few unrelated words work well."/>
            <Field label="New password again" name="confirm_password" kind="password" autocomplete="new-password" value=confirm form=form required=true/>
            <Submit label="Change password" busy_label="Changing…" form=form/>
        </form>
    }
}

/// `/change-password`: the first thing a new or reset account must do.
#[component]
pub fn ForcedPasswordChange() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let done = Callback::new(move |()| {
        if let Some(path) = auth.user.with_untracked(|u| u.as_ref().map(landing_of)) {
            navigate(path, NavigateOptions::default());
        }
    });
    move || {
        if auth.user.get().is_none() {
            return view! { <Redirect path="/login"/> }.into_any();
        }
        view! {
            <main id="main" class="auth-page">
                <h1 class="brand-big">"medvault"</h1>
                <section class="narrow">
                    <h2>"Choose your own password"</h2>
                    <p>"Your account has a temporary password. Choose a new one to continue."</p>
                    <PasswordForm on_done=done/>
                    <button type="button" class="link" on:click=move |_| sign_out()>"Sign out"</button>
                </section>
            </main>
        }
        .into_any()
    }
}

/// `/account/password`: change the password by choice.
#[component]
pub fn PasswordPage() -> impl IntoView {
    let saved = RwSignal::new(false);
    view! {
        <h1>"Change password"</h1>
        <p>"Changing it signs you out everywhere else."</p>
        <Show when=move || saved.get()>
            <p class="notice success" role="status">"Your password has been changed."</p>
        </Show>
        <PasswordForm on_done=Callback::new(move |()| saved.set(true))/>
    }
}
