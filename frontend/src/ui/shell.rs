//! The frame around every signed-in screen: a header with the role's navigation and sign-out,
//! and the guard that keeps each role on its own screens.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;

use crate::api::{calls, dto::Role};
use crate::logic::emergency;
use crate::state::{CHANGE_PASSWORD, MFA_PAGE, Pass, home_of, pass, use_auth};
use crate::ui::widgets::EmergencyBadge;

/// The patient's "Who saw my records": its entry carries the emergency-access badge.
const PATIENT_ACCESS_LOG: &str = "/patient/access-log";

/// Navigation of each role: (path, label).
fn nav_of(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::Admin => &[
            ("/admin", "Overview"),
            ("/admin/doctors", "Doctors"),
            ("/admin/patients", "Patients"),
            ("/admin/ledger", "Ledger"),
            ("/admin/emergency", "Emergency reviews"),
            ("/account/password", "Password"),
            (MFA_PAGE, "Sign-in security"),
        ],
        Role::Doctor => &[
            ("/doctor", "My patients"),
            ("/doctor/access", "Requests & grants"),
            ("/doctor/emergency", "Emergency access"),
            ("/account/password", "Password"),
            (MFA_PAGE, "Sign-in security"),
        ],
        Role::Patient => &[
            ("/patient", "My details"),
            ("/patient/doctors", "My doctors"),
            ("/patient/history", "History"),
            ("/patient/records", "Records"),
            ("/patient/requests", "Requests"),
            ("/patient/grants", "Grants"),
            (PATIENT_ACCESS_LOG, "Who saw my records"),
            ("/patient/security", "Security"),
            (MFA_PAGE, "Sign-in security"),
        ],
    }
}

/// Signs out on the server and here, then shows the sign-in screen.
pub fn sign_out() {
    let auth = use_auth();
    leptos::task::spawn_local(async move {
        calls::logout().await;
        auth.flash.set(Some("You have signed out.".into()));
        auth.user.set(None);
    });
}

/// The header with navigation and the signed-in user. While a staff account still has to set
/// up its authenticator app, the navigation stays empty (every other screen would send them
/// back).
#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    let role = move || {
        auth.user
            .with(|u| u.as_ref().filter(|u| !u.mfa_setup_required).map(|u| u.role))
    };
    let links = move || {
        role().map(|r| {
            nav_of(r)
                .iter()
                .map(|(href, label)| {
                    let badge =
                        (*href == PATIENT_ACCESS_LOG).then(|| view! { <EmergencyNavBadge/> });
                    view! { <A href=*href exact=true>{*label}{badge}</A> }
                })
                .collect_view()
        })
    };
    view! {
        <header class="top">
            <a class="skip" href="#main">"Skip to content"</a>
            <span class="brand">"medvault"</span>
            <nav class="main-nav" aria-label="Main">{links}</nav>
            <span class="who">{move || auth.user.with(|u| u.as_ref().map(|u| u.email.clone()))}</span>
            <button type="button" class="secondary" id="sign-out" on:click=move |_| sign_out()>"Sign out"</button>
        </header>
    }
}

/// The patient's [`EmergencyBadge`] in the navigation, counted again on every page change so
/// a new emergency access or a finished review shows without reloading the app.
#[component]
fn EmergencyNavBadge() -> impl IntoView {
    let location = use_location();
    let count = LocalResource::new(move || {
        location.pathname.track();
        async {
            calls::list_emergencies(false, 1, 100)
                .await
                .map_or(0, |page| emergency::attention_count(&page.items))
        }
    });
    move || count.get().map(|n| view! { <EmergencyBadge count=n/> })
}

/// Lets only `role` through (anyone signed in when `None`), in the order of [`pass`]:
/// signed-out people go to sign-in, people who must change their password go there first,
/// staff without an authenticator app go to set one up, other roles see a refusal. The frame
/// is drawn again only when that outcome changes, not on every change of the user.
#[component]
pub fn Guard(
    /// The role allowed, or any.
    #[prop(optional)]
    role: Option<Role>,
) -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let outcome = Memo::new(move |_| {
        let path = location.pathname.get();
        auth.user.with(|u| pass(u.as_ref(), role, &path))
    });
    move || match outcome.get() {
        Pass::SignIn => view! { <Redirect path="/login"/> }.into_any(),
        Pass::ChangePassword => view! { <Redirect path=CHANGE_PASSWORD/> }.into_any(),
        Pass::SetUpMfa => view! { <Redirect path=MFA_PAGE/> }.into_any(),
        Pass::NotYours(theirs) => view! {
            <Header/>
            <main id="main" class="page">
                <h1>"Not available"</h1>
                <p>"This part of medvault is not for your account."</p>
                <A href=home_of(theirs)>"Go to your start page"</A>
            </main>
        }
        .into_any(),
        Pass::Through => view! {
            <Header/>
            <main id="main" class="page"><Outlet/></main>
            <crate::ui::reauth::ReauthDialog/>
        }
        .into_any(),
    }
}
