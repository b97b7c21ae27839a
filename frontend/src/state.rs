//! App-wide state: who is signed in and a one-shot message for the sign-in screen.

use leptos::prelude::*;

use crate::api::dto::{Role, UserSummary};

/// The signed-in user (`None` when signed out) and a message to show on the sign-in screen
/// (why the session ended).
#[derive(Clone, Copy)]
pub struct Auth {
    /// The user, or `None`.
    pub user: RwSignal<Option<UserSummary>>,
    /// Message for the sign-in screen.
    pub flash: RwSignal<Option<String>>,
}

impl Auth {
    /// The signed-in user's role, if any.
    pub fn role(&self) -> Option<Role> {
        self.user.with(|u| u.as_ref().map(|u| u.role))
    }
}

/// The app's [`Auth`] (provided by the root component).
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

/// Where each role lands after signing in.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Admin => "/admin",
        Role::Doctor => "/doctor",
        Role::Patient => "/patient",
    }
}
