//! Sensitive actions (approving consent, deactivating an account, emergency access) need the
//! password confirmed within the last few minutes; the server answers 403 `reauth_required`
//! otherwise. [`ReauthGate`] turns that answer into a password dialog: the screen hands the
//! gate the action to retry, [`ReauthDialog`] (mounted once, in the signed-in frame) asks for
//! the password (and a code from the sign-in authenticator app, for accounts that have one),
//! confirms it with the server and runs the action again.

use leptos::prelude::*;

use std::collections::BTreeMap;

use crate::api::{ApiError, calls};
use crate::logic::validate::{self, Checks};
use crate::ui::form::{Field, FormState, Submit};
use crate::ui::widgets::Dialog;

/// The server's code for "confirm your password first".
pub const REAUTH_REQUIRED: &str = "reauth_required";

/// The one pending action waiting for a fresh password, shared by every screen.
#[derive(Clone, Copy)]
pub struct ReauthGate {
    pending: RwSignal<Option<Callback<()>>>,
}

impl ReauthGate {
    /// Makes the gate available to every screen below.
    pub fn provide() {
        provide_context(Self {
            pending: RwSignal::new(None),
        });
    }

    /// The gate of this app.
    pub fn get() -> Self {
        expect_context::<Self>()
    }

    /// When `error` asks for a fresh password, opens the dialog that retries `retry` after it
    /// and returns `None`; any other error comes back to show as usual.
    pub fn intercept(self, error: ApiError, retry: Callback<()>) -> Option<ApiError> {
        if error.code == REAUTH_REQUIRED {
            self.pending.set(Some(retry));
            None
        } else {
            Some(error)
        }
    }
}

/// The password and, when given, the authenticator code, checked before sending: both
/// messages at once, under their fields.
fn credentials(
    password: String,
    code: &str,
) -> Result<(String, Option<String>), BTreeMap<String, String>> {
    let mut c = Checks::new();
    if password.is_empty() {
        c.check::<()>("password", Err("Enter your password.".into()));
    }
    let code = c
        .check("code", validate::optional_sign_in_code(code))
        .flatten();
    c.finish()?;
    Ok((password, code))
}

/// The password dialog of [`ReauthGate`]; nothing while no action waits. The server's word on
/// a wrong password or a missing or wrong code shows under that field.
#[component]
pub fn ReauthDialog() -> impl IntoView {
    let gate = ReauthGate::get();
    move || {
        gate.pending.get().map(|retry| {
            let password = RwSignal::new(String::new());
            let code = RwSignal::new(String::new());
            let form = FormState::new();
            let close = Callback::new(move |()| gate.pending.set(None));
            let submit = move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let body = credentials(password.get_untracked(), &code.get_untracked());
                let done = Callback::new(move |()| {
                    gate.pending.set(None);
                    retry.run(());
                });
                form.send(
                    body,
                    |(p, c): (String, Option<String>)| async move {
                        calls::reauthenticate(&p, c.as_deref()).await.map(|_| ())
                    },
                    done,
                );
            };
            view! {
                <Dialog title="Confirm your password".to_string() on_close=close>
                    <p>"This action needs your password again (and a code from your sign-in authenticator app, if you set one up). Confirm to go on."</p>
                    <form id="reauth-form" on:submit=submit novalidate=true>
                        <Field label="Password" name="password" value=password form=form kind="password" autocomplete="current-password" required=true id="reauth-password"/>
                        <Field label="Code from your sign-in authenticator app (if you set one up)" name="code" value=code form=form autocomplete="one-time-code" id="reauth-code"
                            hint="Six digits from the app, or one of your recovery codes."/>
                        <Submit label="Confirm and continue" busy_label="Checking…" form=form/>
                    </form>
                </Dialog>
            }
        })
    }
}
