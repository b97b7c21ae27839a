//! Sensitive actions (approving consent, deactivating an account, emergency access) need the
//! password confirmed within the last few minutes; the server answers 403 `reauth_required`
//! otherwise. [`ReauthGate`] turns that answer into a password dialog: the screen hands the
//! gate the action to retry, [`ReauthDialog`] (mounted once, in the signed-in frame) asks for
//! the password, confirms it with the server and runs the action again.

use leptos::prelude::*;

use crate::api::{ApiError, calls};
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

/// The password dialog of [`ReauthGate`]; nothing while no action waits.
#[component]
pub fn ReauthDialog() -> impl IntoView {
    let gate = ReauthGate::get();
    move || {
        gate.pending.get().map(|retry| {
            let password = RwSignal::new(String::new());
            let form = FormState::new();
            let close = Callback::new(move |()| gate.pending.set(None));
            let submit = move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let typed = password.get_untracked();
                let body = if typed.is_empty() {
                    Err(std::collections::BTreeMap::from([(
                        "password".to_string(),
                        "Enter your password.".to_string(),
                    )]))
                } else {
                    Ok(typed)
                };
                let done = Callback::new(move |()| {
                    gate.pending.set(None);
                    retry.run(());
                });
                form.send(
                    body,
                    |p: String| async move { calls::reauthenticate(&p).await.map(|_| ()) },
                    done,
                );
            };
            view! {
                <Dialog title="Confirm your password".to_string() on_close=close>
                    <p>"This action needs your password again. Confirm it to go on."</p>
                    <form id="reauth-form" on:submit=submit novalidate=true>
                        <Field label="Password" name="password" value=password form=form kind="password" autocomplete="current-password" required=true id="reauth-password"/>
                        <Submit label="Confirm and continue" busy_label="Checking…" form=form/>
                    </form>
                </Dialog>
            }
        })
    }
}
