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

/// The screen that must come before any other.
pub const CHANGE_PASSWORD: &str = "/change-password";
/// Sign-in security; staff without an authenticator app are kept here.
pub const MFA_PAGE: &str = "/account/mfa";

/// Where `user` goes after signing in or reloading: a temporary password is replaced first,
/// then a staff account without an authenticator app sets one up, then the role's start page.
pub fn landing_of(user: &UserSummary) -> &'static str {
    if user.must_change_password {
        CHANGE_PASSWORD
    } else if user.mfa_setup_required {
        MFA_PAGE
    } else {
        home_of(user.role)
    }
}

/// What a role guard does with the signed-in user on a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Nobody is signed in: to sign-in.
    SignIn,
    /// The temporary password must go first.
    ChangePassword,
    /// A staff account without an authenticator app: to [`MFA_PAGE`], and nowhere else.
    SetUpMfa,
    /// Signed in with another role than the screen's (theirs is given).
    NotYours(Role),
    /// Show the screen.
    Through,
}

/// What a guard letting only `role` through (anyone when `None`) does with `user` on `path`.
/// The order is the one of [`landing_of`].
pub fn pass(user: Option<&UserSummary>, role: Option<Role>, path: &str) -> Pass {
    match user {
        None => Pass::SignIn,
        Some(u) if u.must_change_password => Pass::ChangePassword,
        Some(u) if u.mfa_setup_required && path.trim_end_matches('/') != MFA_PAGE => Pass::SetUpMfa,
        Some(u) if role.is_some_and(|r| r != u.role) => Pass::NotYours(u.role),
        Some(_) => Pass::Through,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::dto::UserId;

    fn user(must_change_password: bool, mfa_setup_required: bool) -> UserSummary {
        UserSummary {
            id: UserId(uuid::Uuid::nil()),
            email: "dr@clinic.example".into(),
            role: Role::Doctor,
            must_change_password,
            mfa_setup_required,
        }
    }

    #[test]
    fn password_first_then_authenticator_then_home() {
        assert_eq!(landing_of(&user(true, true)), CHANGE_PASSWORD);
        assert_eq!(landing_of(&user(false, true)), MFA_PAGE);
        assert_eq!(landing_of(&user(false, false)), "/doctor");
    }

    #[test]
    fn guard_keeps_staff_without_authenticator_on_the_set_up_page() {
        let pending = user(false, true);
        assert_eq!(
            pass(Some(&pending), Some(Role::Doctor), "/doctor"),
            Pass::SetUpMfa
        );
        assert_eq!(
            pass(Some(&pending), Some(Role::Admin), "/admin"),
            Pass::SetUpMfa
        );
        assert_eq!(pass(Some(&pending), None, MFA_PAGE), Pass::Through);
        assert_eq!(
            pass(Some(&pending), None, "/account/password"),
            Pass::SetUpMfa
        );
        assert_eq!(
            pass(Some(&user(true, true)), None, MFA_PAGE),
            Pass::ChangePassword
        );
    }

    #[test]
    fn guard_lets_the_role_through_and_refuses_others() {
        let ready = user(false, false);
        assert_eq!(pass(None, None, "/admin"), Pass::SignIn);
        assert_eq!(
            pass(Some(&ready), Some(Role::Doctor), "/doctor"),
            Pass::Through
        );
        assert_eq!(
            pass(Some(&ready), Some(Role::Admin), "/admin"),
            Pass::NotYours(Role::Doctor)
        );
        assert_eq!(pass(Some(&ready), None, MFA_PAGE), Pass::Through);
    }
}
