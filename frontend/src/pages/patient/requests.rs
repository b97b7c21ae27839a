//! Patient: the requests inbox. Each request says in one sentence what it asks for (records,
//! visit notes or not, purpose, duration), with the doctor's reason; a pending one shows the
//! one-time code to read to the doctor, or approve or deny it here instead if preferred.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::calls;
use crate::api::dto::{AccessRequest, AccessRequestStatus, RequestId};
use crate::logic::format;
use crate::pages::doctor::status_badge;
use crate::ui::load::{AsyncList, Reload};
use crate::ui::reauth::ReauthGate;
use crate::ui::widgets::{Clock, ErrorSlot, ticking_now};

/// `/patient/requests`.
#[component]
pub fn Requests() -> impl IntoView {
    let reload = Reload::new();
    let requests = reload.load(|| async { calls::access_requests().await });
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let now = ticking_now();
    let decision = Decision {
        busy,
        error,
        reload,
        gate: ReauthGate::get(),
    };
    let decide = Callback::new(move |(id, approve): (RequestId, bool)| decision.run(id, approve));
    view! {
        <div class="title-row">
            <h1>"Access requests"</h1>
            <button type="button" class="secondary" id="refresh-requests" on:click=move |_| reload.reload()>"Refresh"</button>
        </div>
        <p>"A doctor who asks to see your records appears here. Read the code to them if you agree, or approve here. Never share a code with someone you did not expect."</p>
        <ErrorSlot error=error/>
        <AsyncList resource=requests what="requests" empty="No requests." let:list>
            {list.into_iter().map(|q| view! { <RequestCard request=q now=now busy=busy decide=decide/> }).collect_view()}
        </AsyncList>
    }
}

/// What approving or denying a request touches on the inbox screen.
#[derive(Clone, Copy)]
struct Decision {
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    reload: Reload,
    gate: ReauthGate,
}

impl Decision {
    /// Approves (or denies) request `id`; when the server wants the password again first, the
    /// password dialog opens and the decision is retried after it.
    fn run(self, id: RequestId, approve: bool) {
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        self.error.set(None);
        spawn_local(async move {
            let r = if approve {
                calls::approve(id).await
            } else {
                calls::deny(id).await
            };
            self.busy.set(false);
            let retry = Callback::new(move |()| self.run(id, approve));
            match r {
                Ok(_) => self.reload.reload(),
                Err(e) => self
                    .error
                    .set(self.gate.intercept(e, retry).map(|e| e.message)),
            }
        });
    }
}

/// One request: who asks, for what, why and for how long; while pending, the code and
/// approve / deny.
#[component]
fn RequestCard(
    request: AccessRequest,
    /// The ticking clock the code's time left counts against.
    now: Clock,
    /// A decision is on its way (the buttons wait).
    busy: RwSignal<bool>,
    /// Approve (`true`) or deny the request of this id.
    decide: Callback<(RequestId, bool)>,
) -> impl IntoView {
    let q = request;
    let pending = q.status == AccessRequestStatus::Pending;
    let id = q.id;
    let expires = q.code_expires_at;
    view! {
        <article class="card request" data-request=q.id.to_string() aria-labelledby=format!("rq-{id}")>
            <h2 id=format!("rq-{id}")>{format!("Dr {}", q.doctor_name)}" "{status_badge(q.status)}</h2>
            <p class="scope">{format!("{}.", q.scope_summary())}</p>
            <dl class="facts">
                <dt>"Visit notes"</dt><dd class="include-notes">{if q.include_notes { "Asked for (by every doctor)" } else { "Not asked for" }}</dd>
                <dt>"Reason"</dt><dd>{q.reason.clone()}</dd>
                <dt>"Asked"</dt><dd>{format::datetime(q.created_at)}</dd>
            </dl>
            {(pending && q.code.is_some()).then(|| view! {
                <p>"Your one-time code for this request:"</p>
                <p><code class="secret code-big one-time-code">{q.code.clone().unwrap_or_default()}</code></p>
                <p class="small">{move || format!("Valid for {}.", format::time_left(expires, now.get()))}</p>
            })}
            {pending.then(|| view! {
                <div class="actions">
                    <button type="button" class="primary approve" disabled=move || busy.get() on:click=move |_| decide.run((id, true))>"Approve"</button>
                    <button type="button" class="secondary deny" disabled=move || busy.get() on:click=move |_| decide.run((id, false))>"Deny"</button>
                </div>
            })}
        </article>
    }
}
