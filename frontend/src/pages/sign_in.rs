//! Sign-in: the password step, then, for an account with an authenticator app, a second step
//! with a code from the app or a recovery code. Both end the same way: the session starts and
//! the user lands where [`landing_of`] says.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Redirect;
use wasm_bindgen::JsCast;

use crate::api::calls::{self, SignIn};
use crate::api::dto::{MfaChallenge, TokenResponse};
use crate::logic::session;
use crate::logic::validate::{self, Checks};
use crate::state::{landing_of, use_auth};
use crate::ui::form::{Field, FormState, Submit};

/// Said under the code when the server refuses it.
const WRONG_CODE: &str = "Wrong or expired code.";
/// Said on the password step when the second step took longer than its challenge lasts.
const CHALLENGE_OVER: &str =
    "The code was not entered in time. Enter your password again to get a new chance.";

/// A second step in progress: the server's challenge and when it came (ms since the epoch).
#[derive(Clone)]
struct Pending {
    challenge: MfaChallenge,
    received_at_ms: f64,
}

impl Pending {
    fn new(challenge: MfaChallenge) -> Self {
        Self {
            challenge,
            received_at_ms: js_sys::Date::now(),
        }
    }

    /// Whether the challenge is over by this browser's clock.
    fn expired(&self) -> bool {
        session::challenge_expired(
            self.received_at_ms,
            self.challenge.expires_in,
            js_sys::Date::now(),
        )
    }
}

/// `/login`: the sign-in screen, with the reason the last session ended if there is one.
#[component]
pub fn Login() -> impl IntoView {
    let auth = use_auth();
    let email = RwSignal::new(String::new());
    let pending = RwSignal::new(None::<Pending>);
    // The screen stays as it is until the redirect below takes the user away.
    let finish = Callback::new(move |resp: TokenResponse| {
        auth.flash.set(None);
        auth.user.set(Some(resp.user));
    });
    let signed_in = move || {
        auth.user
            .with(|u| u.as_ref().map(landing_of))
            .map(|path| view! { <Redirect path=path/> })
    };
    view! {
        {signed_in}
        <main id="main" class="auth-page">
            <h1 class="brand-big">"medvault"</h1>
            {move || match pending.get() {
                None => view! { <PasswordStep email=email pending=pending finish=finish/> }.into_any(),
                Some(p) => view! { <CodeStep pending_step=p pending=pending finish=finish/> }.into_any(),
            }}
        </main>
    }
}

/// E-mail and password; signs in, or opens the second step.
#[component]
fn PasswordStep(
    /// Kept by the screen, so coming back from the second step keeps it.
    email: RwSignal<String>,
    /// Where a second-step challenge goes.
    pending: RwSignal<Option<Pending>>,
    /// Runs with the tokens of a finished sign-in.
    finish: Callback<TokenResponse>,
) -> impl IntoView {
    let auth = use_auth();
    let password = RwSignal::new(String::new());
    let form = FormState::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Checks::new();
        c.check("email", validate::email(&email.get_untracked()));
        c.check(
            "password",
            validate::required(&password.get_untracked(), 1024),
        );
        if let Err(errs) = c.finish() {
            form.invalid(errs);
            return;
        }
        if !form.start() {
            return;
        }
        spawn_local(async move {
            match calls::login(&email.get_untracked(), &password.get_untracked()).await {
                Ok(SignIn::Done(resp)) => {
                    form.done();
                    password.set(String::new());
                    finish.run(resp);
                }
                Ok(SignIn::SecondFactor(challenge)) => {
                    form.done();
                    password.set(String::new());
                    pending.set(Some(Pending::new(challenge)));
                }
                Err(e) => form.fail(&e),
            }
        });
    };
    view! {
        <form class="card narrow" id="login-form" on:submit=submit novalidate=true>
            <h2>"Sign in"</h2>
            <Show when=move || auth.flash.get().is_some()>
                <p class="notice info" role="status" id="flash">{move || auth.flash.get()}</p>
            </Show>
            <Field label="E-mail" name="email" kind="email" autocomplete="username" value=email form=form required=true/>
            <Field label="Password" name="password" kind="password" autocomplete="current-password" value=password form=form required=true/>
            <Submit label="Sign in" busy_label="Signing in…" form=form/>
            <p><a href="/unlock" id="unlock-link">"Locked out? Unlock your account"</a></p>
        </form>
    }
}

/// The code from the authenticator app (or a recovery code) for the challenge of the password
/// step. A stale challenge sends the user back to the password step with a word why.
#[component]
fn CodeStep(
    /// The challenge being answered.
    pending_step: Pending,
    /// Cleared to go back to the password step.
    pending: RwSignal<Option<Pending>>,
    /// Runs with the tokens of a finished sign-in.
    finish: Callback<TokenResponse>,
) -> impl IntoView {
    let auth = use_auth();
    let code = RwSignal::new(String::new());
    let form = FormState::new();
    let step = StoredValue::new(pending_step);
    let start_over = move || {
        auth.flash.set(Some(CHALLENGE_OVER.into()));
        pending.set(None);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let step = step.get_value();
        if step.expired() {
            start_over();
            return;
        }
        let typed = match validate::sign_in_code(&code.get_untracked()) {
            Ok(c) => c,
            Err(message) => return form.invalid(BTreeMap::from([("code".into(), message)])),
        };
        if !form.start() {
            return;
        }
        spawn_local(async move {
            match calls::login_mfa(&step.challenge.mfa_token, &typed).await {
                Ok(resp) => {
                    form.done();
                    finish.run(resp);
                }
                Err(e) if e.status == 401 && step.expired() => start_over(),
                Err(mut e) => {
                    if e.status == 401 {
                        e.message = WRONG_CODE.into();
                    }
                    code.set(String::new());
                    form.fail(&e);
                }
            }
        });
    };
    // The one input of this step takes the focus when the step appears.
    Effect::new(move |_| {
        let input = document()
            .get_element_by_id("mfa-code")
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(input) = input {
            let _ = input.focus();
        }
    });
    view! {
        <form class="card narrow" id="mfa-form" on:submit=submit novalidate=true>
            <h2>"Two-step sign-in"</h2>
            <p>"Open your authenticator app and enter the 6-digit code it shows for medvault. Without your phone, enter one of your recovery codes instead (each works once)."</p>
            <Field label="Code from your authenticator app, or a recovery code" name="code" id="mfa-code"
                autocomplete="one-time-code" value=code form=form required=true/>
            <Submit label="Verify" busy_label="Verifying…" form=form id="mfa-submit"/>
            <button type="button" class="link" id="mfa-back" on:click=move |_| pending.set(None)>"Back to e-mail and password"</button>
        </form>
    }
}
