//! Patient: security. Change the password; set up an authenticator app (QR code, confirm with
//! a first code) whose codes then also unlock doctors' requests; remove it with a valid code.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::calls;
use crate::api::dto::TotpEnrollment;
use crate::logic::validate::{self, Checks};
use crate::pages::account::PasswordForm;
use crate::ui::form::{Field, FormState, Submit};
use crate::ui::widgets::{ErrorSlot, ErrorText, Loading};

/// `/patient/security`.
#[component]
pub fn Security() -> impl IntoView {
    let saved = RwSignal::new(false);
    view! {
        <h1>"Security"</h1>
        <Authenticator/>
        <section class="card" aria-labelledby="pw-h">
            <h2 id="pw-h">"Password"</h2>
            <Show when=move || saved.get()>
                <p class="notice success" role="status">"Your password has been changed."</p>
            </Show>
            <PasswordForm on_done=Callback::new(move |()| saved.set(true))/>
        </section>
    }
}

#[component]
fn Authenticator() -> impl IntoView {
    let version = RwSignal::new(0_u32);
    let status = LocalResource::new(move || {
        version.track();
        async move { calls::totp_status().await }
    });
    let enrollment = RwSignal::new(None::<TotpEnrollment>);
    let error = RwSignal::new(None::<String>);
    let starting = RwSignal::new(false);
    let reload = move || {
        enrollment.set(None);
        version.update(|v| *v += 1);
    };
    let start = move |_| {
        starting.set(true);
        error.set(None);
        spawn_local(async move {
            match calls::totp_enroll().await {
                Ok(e) => enrollment.set(Some(e)),
                Err(e) => error.set(Some(e.message)),
            }
            starting.set(false);
        });
    };
    view! {
        <section class="card" aria-labelledby="totp-h">
            <h2 id="totp-h">"Authenticator app"</h2>
            <p>"With an authenticator app (any TOTP app) you can give a doctor the 6-digit code it shows instead of the code in your requests inbox."</p>
            <ErrorSlot error=error/>
            <Transition fallback=|| view! { <Loading what="authenticator status"/> }>
                {move || status.get().map(|r| match r {
                    Err(e) => view! { <ErrorText error=e/> }.into_any(),
                    Ok(s) if s.enabled => view! {
                        <p class="ok">"✔ An authenticator app is set up."</p>
                        <CodeForm label="Remove authenticator" busy="Removing…" id="totp-remove-form" confirm=false
                            on_done=Callback::new(move |()| reload())/>
                    }.into_any(),
                    Ok(_) => match enrollment.get() {
                        None => view! {
                            <p>"No authenticator app is set up."</p>
                            <button type="button" class="primary" id="totp-start" disabled=move || starting.get() on:click=start>"Set up an authenticator app"</button>
                        }.into_any(),
                        Some(e) => view! {
                            <ol>
                                <li>"Scan this QR code with your authenticator app:"<br/>
                                    <img class="qr" src=format!("data:image/png;base64,{}", e.qr_png_base64) alt="QR code of your authenticator secret"/></li>
                                <li>"Or type this key: " <code class="mono" id="totp-secret">{e.secret_base32.clone()}</code></li>
                                <li>"Enter the 6-digit code the app now shows:"</li>
                            </ol>
                            <CodeForm label="Confirm" busy="Confirming…" id="totp-confirm-form" confirm=true
                                on_done=Callback::new(move |()| reload())/>
                        }.into_any(),
                    },
                })}
            </Transition>
        </section>
    }
}

/// A six-digit code form that confirms enrolment or removes the authenticator.
#[component]
fn CodeForm(
    label: &'static str,
    busy: &'static str,
    id: &'static str,
    /// Confirm enrolment (`true`) or remove (`false`).
    confirm: bool,
    on_done: Callback<()>,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let form = FormState::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Checks::new();
        let digits = c.check("code", validate::totp_code(&code.get_untracked()));
        if let Err(errs) = c.finish() {
            return form.invalid(errs);
        }
        if !form.start() {
            return;
        }
        let digits = digits.unwrap_or_default();
        spawn_local(async move {
            let r = if confirm {
                calls::totp_confirm(&digits).await
            } else {
                calls::totp_remove(&digits).await
            };
            match r {
                Ok(_) => {
                    form.done();
                    on_done.run(());
                }
                Err(e) => {
                    code.set(String::new());
                    form.fail(&e);
                }
            }
        });
    };
    view! {
        <form id=id on:submit=submit novalidate=true>
            <Field label="Code from your authenticator app" name="code" autocomplete="one-time-code" value=code form=form required=true/>
            <Submit label=label busy_label=busy form=form/>
        </form>
    }
}
