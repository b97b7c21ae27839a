//! Signing out after inactivity. The server ends a session after `idle_timeout_secs` without
//! an API request; [`IdleWatch`] follows the same clock (the transport records each request),
//! warns shortly before the deadline with a countdown and a "Stay signed in" button, and at the
//! deadline signs out here (telling the server, best effort) with a word on the sign-in screen.
//! The timing itself is `crate::logic::session`.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{calls, transport};
use crate::logic::session::{self, Idle};
use crate::state::Auth;
use crate::ui::widgets::Dialog;

/// How often the idle clock is looked at.
const TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// Picks up the session after a reload (or in a new tab) from the refresh cookie, the only
/// thing that survives: one renewal, signed in as its user when it works, signed out without a
/// word when it does not. Should this tab have sat idle past its limit meanwhile, the session
/// ends at once and the sign-in screen says why (before any screen could make a request that
/// would count as activity).
pub async fn restore_session(auth: Auth) {
    let Some(user) = transport::resume_session().await else {
        return;
    };
    let Some((last, idle_secs)) = transport::idle_clock() else {
        return;
    };
    if session::idle_state(last, idle_secs, js_sys::Date::now()) == Idle::Expired {
        sign_out_idle(auth, idle_secs);
    } else {
        auth.user.set(Some(user));
    }
}

/// Ends the session for inactivity: the sign-in screen (the guards go there once the user is
/// gone) says why, and the server is told without waiting.
fn sign_out_idle(auth: Auth, idle_secs: u64) {
    auth.flash
        .set(Some(session::idle_sign_out_message(idle_secs)));
    auth.user.set(None);
    spawn_local(calls::logout_quietly());
}

/// Watches the idle clock while someone is signed in: the warning dialog (`#idle-warning`)
/// with its countdown, and the sign-out at the deadline.
#[component]
pub fn IdleWatch(
    /// The app's sign-in state.
    auth: Auth,
) -> impl IntoView {
    let left = RwSignal::new(None::<u64>);
    let tick = move || {
        let clock = auth
            .user
            .with_untracked(Option::is_some)
            .then(transport::idle_clock)
            .flatten();
        let Some((last, idle_secs)) = clock else {
            if left.get_untracked().is_some() {
                left.set(None);
            }
            return;
        };
        let state = session::idle_state(last, idle_secs, js_sys::Date::now());
        let shown = match state {
            Idle::Warning { secs_left } => Some(secs_left),
            Idle::Active | Idle::Expired => None,
        };
        if left.get_untracked() != shown {
            left.set(shown);
        }
        if state == Idle::Expired {
            sign_out_idle(auth, idle_secs);
        }
    };
    if let Ok(handle) = set_interval_with_handle(tick, TICK) {
        on_cleanup(move || handle.clear());
    }
    let stay = Callback::new(move |()| {
        left.set(None);
        // A request is activity; the answer itself does not matter.
        spawn_local(async {
            let _ = calls::me().await;
        });
    });
    // Drawn when the warning starts, not on every tick of its countdown.
    let warning = Memo::new(move |_| left.get().is_some());
    move || {
        warning.get().then(|| {
            let text = move || left.get().map(session::idle_warning_text);
            view! {
                <Dialog title="Are you still there?".to_string() on_close=stay id="idle-warning">
                    <p>{text}</p>
                    <div class="actions">
                        <button type="button" class="primary" id="idle-stay" on:click=move |_| stay.run(())>"Stay signed in"</button>
                    </div>
                </Dialog>
            }
        })
    }
}
