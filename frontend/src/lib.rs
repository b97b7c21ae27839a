//! medvault's browser app: a Leptos client-side-rendered SPA for admins, doctors and patients.
//!
//! `main.rs` only mounts [`App`]. Screens live in [`pages`] by role, shared pieces in [`ui`],
//! every API call goes through the typed client in [`api`], and the logic worth testing without
//! a browser (validation, error wording, session timing, formatting) sits in [`logic`].

pub mod api;

pub mod logic;
pub mod pages;
pub mod state;
pub mod ui;

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::api::dto::Role;
use crate::api::transport;
use crate::pages::{account, admin, doctor, mfa, patient, sign_in, unlock};
use crate::state::Auth;
use crate::ui::boundary::bounded;
use crate::ui::shell::Guard;
use crate::ui::widgets::Loading;

/// The root: picks up the session from the refresh cookie (showing only "Loading…" until that
/// settles, so the guards do not send a signed-in user to the sign-in screen and back), wires
/// session expiry and the idle sign-out to the sign-in screen, and routes every screen behind
/// its role guard, each page inside its own error boundary.
#[component]
pub fn App() -> impl IntoView {
    let auth = Auth {
        user: RwSignal::new(None),
        flash: RwSignal::new(None),
    };
    let restored = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        crate::ui::idle::restore_session(auth).await;
        restored.set(true);
    });
    provide_context(auth);
    crate::ui::reauth::ReauthGate::provide();
    transport::on_session_expired(move || {
        auth.flash
            .set(Some("Your session has ended. Please sign in again.".into()));
        auth.user.set(None);
    });
    transport::on_session_renewed(move |resp| {
        if auth.user.get_untracked().as_ref() != Some(&resp.user) {
            auth.user.set(Some(resp.user.clone()));
        }
    });
    transport::on_password_change_required(move || {
        auth.user.update(|u| {
            if let Some(u) = u {
                u.must_change_password = true;
            }
        });
    });
    transport::on_mfa_setup_required(move || {
        auth.user.maybe_update(|u| match u.as_mut() {
            Some(u) if !u.mfa_setup_required => {
                u.mfa_setup_required = true;
                transport::set_user(u);
                true
            }
            _ => false,
        });
    });
    view! {
        <Show when=move || restored.get() fallback=|| view! { <Loading what="medvault"/> }>
            <Router>
                <crate::ui::idle::IdleWatch auth=auth/>
                <Routes fallback=|| view! { <main id="main" class="page"><h1>"Page not found"</h1><a href="/">"Go to the start page"</a></main> }>
                    <Route path=path!("/") view=bounded(account::Home)/>
                    <Route path=path!("/login") view=bounded(sign_in::Login)/>
                    <Route path=path!("/unlock") view=bounded(unlock::Unlock)/>
                    <Route path=path!("/change-password") view=bounded(account::ForcedPasswordChange)/>
                    <ParentRoute path=path!("/account") view=|| view! { <Guard/> }>
                        <Route path=path!("password") view=bounded(account::PasswordPage)/>
                        <Route path=path!("mfa") view=bounded(mfa::SignInSecurity)/>
                    </ParentRoute>
                    <ParentRoute path=path!("/admin") view=|| view! { <Guard role=Role::Admin/> }>
                        <Route path=path!("") view=bounded(admin::Overview)/>
                        <Route path=path!("doctors") view=bounded(admin::Doctors)/>
                        <Route path=path!("patients") view=bounded(admin::Patients)/>
                        <Route path=path!("ledger") view=bounded(admin::Ledger)/>
                        <Route path=path!("emergency") view=bounded(admin::EmergencyReviews)/>
                    </ParentRoute>
                    <ParentRoute path=path!("/doctor") view=|| view! { <Guard role=Role::Doctor/> }>
                        <Route path=path!("") view=bounded(doctor::MyPatients)/>
                        <Route path=path!("patients/:id") view=bounded(doctor::PatientPage)/>
                        <Route path=path!("access") view=bounded(doctor::Access)/>
                        <Route path=path!("emergency") view=bounded(doctor::Emergency)/>
                    </ParentRoute>
                    <ParentRoute path=path!("/patient") view=|| view! { <Guard role=Role::Patient/> }>
                        <Route path=path!("") view=bounded(patient::Details)/>
                        <Route path=path!("doctors") view=bounded(patient::MyDoctors)/>
                        <Route path=path!("history") view=bounded(patient::HistoryPage)/>
                        <Route path=path!("records") view=bounded(patient::Records)/>
                        <Route path=path!("requests") view=bounded(patient::Requests)/>
                        <Route path=path!("grants") view=bounded(patient::Grants)/>
                        <Route path=path!("access-log") view=bounded(patient::AccessLog)/>
                        <Route path=path!("security") view=bounded(patient::Security)/>
                    </ParentRoute>
                </Routes>
            </Router>
        </Show>
    }
}
