//! `/account/mfa`, sign-in security for every role: an authenticator app whose code sign-in
//! asks for after the password (required for staff, who are kept on this page until it is
//! set up; optional for patients), the ten recovery codes shown once, new codes, and turning
//! it off where the role allows. Renewing and turning off need the password again
//! ([`ReauthGate`]).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use crate::api::dto::{MfaStatus, RecoveryCodes, TotpEnrollment};
use crate::api::{calls, transport};
use crate::logic::{format, validate};
use crate::state::{Auth, home_of, use_auth};
use crate::ui::authenticator::EnrolmentSteps;
use crate::ui::form::{Field, FormState, Submit};
use crate::ui::load::{AsyncView, Reload};
use crate::ui::reauth::ReauthGate;
use crate::ui::widgets::ErrorSlot;

/// Recovery codes on screen, shown this once.
#[derive(Clone)]
struct Shown {
    codes: Vec<String>,
    /// They end the set-up: "I have saved them" goes on to the start page.
    after_set_up: bool,
}

/// What the page's parts share.
#[derive(Clone, Copy)]
struct Screen {
    auth: Auth,
    gate: ReauthGate,
    reload: Reload,
    /// The secret of a set-up in progress.
    enrollment: RwSignal<Option<TotpEnrollment>>,
    shown: RwSignal<Option<Shown>>,
    /// The last action's failure.
    error: RwSignal<Option<String>>,
}

impl Screen {
    /// Records on this side that the account has its authenticator app now, so no screen
    /// sends the user back here.
    fn mark_set_up(self) {
        let updated = self
            .auth
            .user
            .with_untracked(|u| u.as_ref().filter(|u| u.mfa_setup_required).cloned());
        if let Some(mut user) = updated {
            user.mfa_setup_required = false;
            transport::set_user(&user);
            self.auth.user.set(Some(user));
        }
    }

    /// Shows `codes` until the user says they saved them.
    fn show(self, codes: RecoveryCodes, after_set_up: bool) {
        self.shown.set(Some(Shown {
            codes: codes.recovery_codes,
            after_set_up,
        }));
    }

    /// Starts a set-up: the server makes a fresh secret (409: one was confirmed meanwhile).
    fn start(self, starting: RwSignal<bool>) {
        starting.set(true);
        self.error.set(None);
        spawn_local(async move {
            match calls::mfa_enroll().await {
                Ok(e) => self.enrollment.set(Some(e)),
                Err(e) if e.status == 409 => self.reload.reload(),
                Err(e) => self.error.set(Some(e.message)),
            }
            starting.set(false);
        });
    }

    /// Replaces the recovery codes and shows the new ones.
    fn renew_codes(self) {
        self.error.set(None);
        spawn_local(async move {
            match calls::mfa_renew_codes().await {
                Ok(codes) => self.show(codes, false),
                Err(e) => self.fail(e, Callback::new(move |()| self.renew_codes())),
            }
        });
    }

    /// Turns the authenticator app off (accounts that need none).
    fn turn_off(self) {
        self.error.set(None);
        spawn_local(async move {
            match calls::mfa_disable().await {
                Ok(_) => self.reload.reload(),
                Err(e) => self.fail(e, Callback::new(move |()| self.turn_off())),
            }
        });
    }

    /// Asks for the password again and retries, or shows the failure.
    fn fail(self, error: crate::api::ApiError, retry: Callback<()>) {
        if let Some(e) = self.gate.intercept(error, retry) {
            self.error.set(Some(e.message));
        }
    }
}

/// `/account/mfa`.
#[component]
pub fn SignInSecurity() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let reload = Reload::new();
    let status = reload.load(|| async { calls::mfa_status().await });
    let screen = Screen {
        auth,
        gate: ReauthGate::get(),
        reload,
        enrollment: RwSignal::new(None),
        shown: RwSignal::new(None),
        error: RwSignal::new(None),
    };
    // A reload between confirming and "I have saved them": the server has the app already.
    Effect::new(move |_| {
        let enabled = status.with(|s| {
            s.as_ref()
                .is_some_and(|s| s.as_ref().is_ok_and(|s| s.enabled))
        });
        if enabled {
            screen.mark_set_up();
        }
    });
    let saved = Callback::new(move |()| {
        let after_set_up = screen.shown.get_untracked().is_some_and(|s| s.after_set_up);
        screen.shown.set(None);
        screen.mark_set_up();
        if after_set_up {
            if let Some(role) = auth.user.with_untracked(|u| u.as_ref().map(|u| u.role)) {
                navigate(home_of(role), NavigateOptions::default());
            }
        } else {
            reload.reload();
        }
    });
    let pending = move || {
        auth.user
            .with(|u| u.as_ref().is_some_and(|u| u.mfa_setup_required))
    };
    view! {
        <h1>"Sign-in security"</h1>
        <Show when=pending>
            <p class="notice warn" role="status" id="mfa-required">"Your account needs an authenticator app for sign-in before you can use medvault. Set it up below."</p>
        </Show>
        <section class="card" aria-labelledby="mfa-h">
            <h2 id="mfa-h">"Authenticator app for sign-in"</h2>
            <ErrorSlot error=screen.error/>
            {move || match screen.shown.get() {
                Some(s) => view! { <RecoveryCodesNotice codes=s.codes on_saved=saved/> }.into_any(),
                None => view! {
                    <AsyncView resource=status what="sign-in security" let:s>
                        {if s.enabled {
                            view! { <Enabled status=s screen=screen/> }.into_any()
                        } else {
                            view! { <SetUp required=s.required screen=screen/> }.into_any()
                        }}
                    </AsyncView>
                }.into_any(),
            }}
        </section>
    }
}

/// No authenticator app yet: why to have one, the button that starts, then the QR code and the
/// confirming form.
#[component]
fn SetUp(
    /// The role must have one (staff).
    required: bool,
    screen: Screen,
) -> impl IntoView {
    let starting = RwSignal::new(false);
    let why = if required {
        "Staff accounts must have an authenticator app for sign-in: after your password, medvault asks for the 6-digit code the app shows (any TOTP app, for example on your phone)."
    } else {
        "Optional for patients: with an authenticator app, signing in also asks for the 6-digit code the app shows, so your password alone is no longer enough. This is separate from the authenticator for consent codes on your Security page (one app can hold both)."
    };
    let confirmed = Callback::new(move |codes: RecoveryCodes| {
        screen.enrollment.set(None);
        screen.show(codes, true);
    });
    view! {
        <p>{why}</p>
        {move || match screen.enrollment.get() {
            None => view! {
                <p id="mfa-off">"No authenticator app is set up for sign-in."</p>
                <button type="button" class="primary" id="mfa-start" disabled=move || starting.get()
                    on:click=move |_| screen.start(starting)>"Set up authenticator app"</button>
            }.into_any(),
            Some(e) => view! {
                <EnrolmentSteps enrollment=e qr_id="mfa-qr" secret_id="mfa-secret"/>
                <ConfirmForm on_confirmed=confirmed/>
            }.into_any(),
        }}
    }
}

/// The first code from the app, which confirms the set-up and brings the recovery codes.
#[component]
fn ConfirmForm(on_confirmed: Callback<RecoveryCodes>) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let form = FormState::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = |digits: String| async move { calls::mfa_confirm(&digits).await };
        form.send_code(code, validate::totp_code, request, on_confirmed);
    };
    view! {
        <form id="mfa-confirm-form" on:submit=submit novalidate=true>
            <Field label="Code from your authenticator app" name="code" id="mfa-confirm-code"
                autocomplete="one-time-code" value=code form=form required=true/>
            <Submit label="Confirm" busy_label="Confirming…" form=form id="mfa-confirm"/>
        </form>
    }
}

/// The app is set up: since when, the recovery codes left, new codes, and "Turn off" where
/// the role allows it.
#[component]
fn Enabled(status: MfaStatus, screen: Screen) -> impl IntoView {
    let since = status
        .enabled_at
        .map_or_else(|| "an unrecorded date".to_string(), format::datetime);
    let left = status.recovery_codes_left;
    let codes = if left == 1 {
        "1 recovery code".to_string()
    } else {
        format!("{left} recovery codes")
    };
    view! {
        <p class="ok" id="mfa-enabled">{format!("Set up on {since}; {codes} left.")}</p>
        <p class="small">"A recovery code signs you in once when you do not have your authenticator app. New codes replace all the old ones."</p>
        {(left <= 2).then(|| view! {
            <p class="notice warn" role="status">"Few recovery codes are left: make new ones and keep them safe."</p>
        })}
        <div class="actions">
            <button type="button" class="secondary" id="mfa-renew-codes" on:click=move |_| screen.renew_codes()>"New recovery codes"</button>
            {(!status.required).then(|| view! {
                <button type="button" class="secondary" id="mfa-disable" on:click=move |_| screen.turn_off()>"Turn off"</button>
            })}
        </div>
        {status.required.then(|| view! {
            <p class="small">"Staff accounts cannot turn it off. If you lose both the app and your recovery codes, an administrator can reset it."</p>
        })}
    }
}

/// Recovery codes, shown this once, with the warning to save them and the button that says
/// so.
#[component]
fn RecoveryCodesNotice(codes: Vec<String>, on_saved: Callback<()>) -> impl IntoView {
    view! {
        <div class="notice warn" role="alert" id="recovery-warning">
            <p><strong>"Save these recovery codes now: they are shown only once."</strong></p>
            <p>"Each one signs you in once when you do not have your authenticator app. Print them or keep them in a password manager, not next to your password; medvault cannot show them again."</p>
        </div>
        <ol id="recovery-codes" class="recovery-codes">
            {codes.into_iter().map(|c| view! { <li class="mono">{c}</li> }).collect_view()}
        </ol>
        <div class="actions">
            <button type="button" class="primary" id="recovery-saved" on:click=move |_| on_saved.run(())>"I have saved them"</button>
        </div>
    }
}
