//! What the admin's doctor and patient lists share: the row buttons that deactivate or
//! reactivate an account, reset its password, lift its sign-in lock and remove its sign-in
//! authenticator app.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::calls;
use crate::api::dto::UserId;
use crate::ui::reauth::ReauthGate;
use crate::ui::widgets::HandedOver;

/// What a list's row buttons report: a new temporary password, or a failure.
#[derive(Clone, Copy)]
pub struct AccountActions {
    /// A temporary password handed over: whose (their e-mail) and the password (`None`: e-mailed).
    pub temp: RwSignal<Option<HandedOver>>,
    /// The last row action's failure, as "name: message".
    pub error: RwSignal<Option<String>>,
    /// The last row action's success, when it has no other sign (an unlock).
    pub done: RwSignal<Option<String>>,
}

impl AccountActions {
    /// Nothing to report yet.
    pub fn new() -> Self {
        Self {
            temp: RwSignal::new(None),
            error: RwSignal::new(None),
            done: RwSignal::new(None),
        }
    }

    /// Deactivates the account `id` of `name` if `active`, else reactivates it; then `reload`.
    pub fn toggle_active(
        self,
        id: UserId,
        active: bool,
        name: String,
        reload: impl Fn() + Copy + Send + Sync + 'static,
    ) {
        self.error.set(None);
        let gate = ReauthGate::get();
        spawn_local(async move {
            match calls::admin_set_active(id, !active).await {
                Ok(_) => reload(),
                Err(e) => {
                    let again = name.clone();
                    let retry = Callback::new(move |()| {
                        self.toggle_active(id, active, again.clone(), reload);
                    });
                    if let Some(e) = gate.intercept(e, retry) {
                        self.error.set(Some(format!("{name}: {}", e.message)));
                    }
                }
            }
        });
    }

    /// Lifts the sign-in lock of the account `id` of `name` (and forgets its failed attempts).
    pub fn unlock(self, id: UserId, name: String) {
        self.error.set(None);
        self.done.set(None);
        spawn_local(async move {
            match calls::admin_unlock(id).await {
                Ok(_) => self.done.set(Some(format!(
                    "{name} can sign in again: the lock is lifted."
                ))),
                Err(e) => self.error.set(Some(format!("{name}: {}", e.message))),
            }
        });
    }

    /// Removes the sign-in authenticator app of the account `id` of `name` (after the password
    /// again when the server asks); they set up a new one at their next sign-in.
    pub fn reset_mfa(self, id: UserId, name: String) {
        self.error.set(None);
        self.done.set(None);
        let gate = ReauthGate::get();
        spawn_local(async move {
            match calls::admin_reset_mfa(id).await {
                Ok(_) => self.done.set(Some(format!(
                    "{name}: Authenticator removed; they set up a new one at their next sign-in."
                ))),
                Err(e) if e.status == 404 => self.error.set(Some(format!(
                    "{name}: This user has no authenticator app set up."
                ))),
                Err(e) => {
                    let again = name.clone();
                    let retry = Callback::new(move |()| self.reset_mfa(id, again.clone()));
                    if let Some(e) = gate.intercept(e, retry) {
                        self.error.set(Some(format!("{name}: {}", e.message)));
                    }
                }
            }
        });
    }

    /// Resets the password of the account `id` of `name`, and shows the temporary one for
    /// `email`.
    pub fn reset_password(self, id: UserId, email: String, name: String) {
        self.error.set(None);
        spawn_local(async move {
            match calls::admin_reset_password(id).await {
                Ok(t) => self.temp.set(Some((email, t.temporary_password))),
                Err(e) => self.error.set(Some(format!("{name}: {}", e.message))),
            }
        });
    }
}

impl Default for AccountActions {
    fn default() -> Self {
        Self::new()
    }
}
