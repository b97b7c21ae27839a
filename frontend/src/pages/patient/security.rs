//! Patient: security. Change the password; set up an authenticator app (QR code, confirm with
//! a first code) whose codes then also unlock doctors' requests; remove it with a valid code.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::calls;
use crate::api::dto::TotpEnrollment;
use crate::logic::{format, validate};
use crate::pages::account::PasswordForm;
use crate::ui::authenticator::EnrolmentSteps;
use crate::ui::form::{Field, FormState, Submit};
use crate::ui::load::{AsyncView, Reload};
use crate::ui::widgets::ErrorSlot;

/// `/patient/security`.
#[component]
pub fn Security() -> impl IntoView {
    let saved = RwSignal::new(false);
    view! {
        <h1>"Security"</h1>
        <Activation/>
        <Authenticator/>
        <CodeLocks/>
        <section class="card" aria-labelledby="pw-h">
            <h2 id="pw-h">"Password"</h2>
            <Show when=move || saved.get()>
                <p class="notice success" role="status">"Your password has been changed."</p>
            </Show>
            <PasswordForm on_done=Callback::new(move |()| saved.set(true))/>
        </section>
    }
}

/// When the account got its first own password: a staff member who used the temporary
/// password first would show up here as an activation the patient did not make.
#[component]
fn Activation() -> impl IntoView {
    let reload = Reload::new();
    let me = reload.load(|| async { calls::me().await });
    let error = RwSignal::new(None::<String>);
    let confirm = move |_| {
        spawn_local(async move {
            match calls::confirm_email().await {
                Ok(_) => {
                    error.set(None);
                    reload.reload();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="activation-h">
            <h2 id="activation-h">"Account"</h2>
            <ErrorSlot error=error/>
            <AsyncView resource=me what="account" let:u>
                {u.email_changed_by_staff_at.map(|at| view! {
                    <p class="notice warning" role="status" id="email-changed">{format!("Staff changed your e-mail address to {} on {}. Until you confirm it, consent codes are not e-mailed to it for 24 hours (they are always in your requests inbox).", u.email, format::datetime(at))}</p>
                    <button type="button" id="confirm-email" on:click=confirm>"This is my address"</button>
                })}
                {match u.activated_at {
                    Some(at) => view! {
                        <p id="activated-at">{format!("Your account was activated on {}, when its first own password was set.", format::datetime(at))}</p>
                        <p class="small">"If you did not set your first password yourself at that time, tell your clinic: someone else may have used your temporary password."</p>
                    }.into_any(),
                    None => view! { <p id="activated-at">"Activated before activation times were recorded."</p> }.into_any(),
                }}
            </AsyncView>
        </section>
    }
}

/// Doctors locked out of the patient's authenticator codes after too many wrong ones, and the
/// delay every doctor must wait; the patient lifts both here.
#[component]
fn CodeLocks() -> impl IntoView {
    let reload = Reload::new();
    let locks = reload.load(|| async { calls::consent_locks().await });
    let error = RwSignal::new(None::<String>);
    let lift = move |_| {
        spawn_local(async move {
            match calls::lift_consent_locks().await {
                Ok(_) => {
                    error.set(None);
                    reload.reload();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="locks-h" id="code-locks">
            <h2 id="locks-h">"Wrong authenticator codes"</h2>
            <ErrorSlot error=error/>
            <AsyncView resource=locks what="authenticator-code locks" let:l>
                {if l.locked.is_empty() && l.delay_until.is_none() {
                    view! { <p class="ok">{format!("No locks. Wrong authenticator codes in the last 24 hours: {}.", l.recent_failures)}</p> }.into_any()
                } else {
                    view! {
                        <p class="notice warning" role="status">"Someone gave wrong authenticator codes for your consent. Doctors below can no longer use your authenticator codes (their requests' own codes and your approval still work)."</p>
                        <ul class="locked-doctors">
                            {l.locked.iter().map(|d| view! {
                                <li>{format!("{} — {} wrong codes, locked {}", d.doctor_name, d.failures, format::datetime(d.locked_at))}</li>
                            }).collect_view()}
                        </ul>
                        {l.delay_until.map(|until| view! { <p class="small">{format!("Every doctor must wait until {} before trying another authenticator code.", format::datetime(until))}</p> })}
                        <button type="button" id="lift-locks" on:click=lift>"Lift the locks"</button>
                    }.into_any()
                }}
            </AsyncView>
        </section>
    }
}

#[component]
fn Authenticator() -> impl IntoView {
    let reload = Reload::new();
    let status = reload.load(|| async { calls::totp_status().await });
    let enrollment = RwSignal::new(None::<TotpEnrollment>);
    let error = RwSignal::new(None::<String>);
    let starting = RwSignal::new(false);
    let done = Callback::new(move |()| {
        enrollment.set(None);
        reload.reload();
    });
    view! {
        <section class="card" aria-labelledby="totp-h">
            <h2 id="totp-h">"Authenticator app"</h2>
            <p>"With an authenticator app (any TOTP app) you can give a doctor the 6-digit code it shows instead of the code in your requests inbox."</p>
            <ErrorSlot error=error/>
            <AsyncView resource=status what="authenticator status" let:s>
                {if s.enabled {
                    view! {
                        <p class="ok">"✔ An authenticator app is set up."</p>
                        <CodeForm label="Remove authenticator" busy="Removing…" id="totp-remove-form" confirm=false on_done=done/>
                    }.into_any()
                } else {
                    match enrollment.get() {
                        None => view! { <StartEnrolment enrollment=enrollment error=error starting=starting/> }.into_any(),
                        Some(e) => view! { <ConfirmEnrolment enrollment=e on_done=done/> }.into_any(),
                    }
                }}
            </AsyncView>
        </section>
    }
}

/// "No authenticator app is set up" and the button that starts setting one up.
#[component]
fn StartEnrolment(
    /// Where the secret and QR code go once the server made them.
    enrollment: RwSignal<Option<TotpEnrollment>>,
    /// Where a failure goes.
    error: RwSignal<Option<String>>,
    /// The request is out (the button waits); kept by the parent, which outlives this view.
    starting: RwSignal<bool>,
) -> impl IntoView {
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
        <p>"No authenticator app is set up."</p>
        <button type="button" class="primary" id="totp-start" disabled=move || starting.get() on:click=start>"Set up an authenticator app"</button>
    }
}

/// The QR code and key of a new secret, and the form that confirms it with a first code.
#[component]
fn ConfirmEnrolment(enrollment: TotpEnrollment, on_done: Callback<()>) -> impl IntoView {
    view! {
        <EnrolmentSteps enrollment=enrollment qr_id="totp-qr" secret_id="totp-secret"/>
        <CodeForm label="Confirm" busy="Confirming…" id="totp-confirm-form" confirm=true on_done=on_done/>
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
        let request = move |digits: String| async move {
            if confirm {
                calls::totp_confirm(&digits).await.map(|_| ())
            } else {
                calls::totp_remove(&digits).await.map(|_| ())
            }
        };
        form.send_code(code, validate::totp_code, request, on_done);
    };
    view! {
        <form id=id on:submit=submit novalidate=true>
            <Field label="Code from your authenticator app" name="code" autocomplete="one-time-code" value=code form=form required=true/>
            <Submit label=label busy_label=busy form=form/>
        </form>
    }
}
