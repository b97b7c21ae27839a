//! Patient: who may read my records now, and revoking that at any time.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::calls;
use crate::api::dto::{Grant, GrantId};
use crate::logic::format;
use crate::ui::load::{AsyncList, Reload};
use crate::ui::widgets::{Clock, ErrorSlot, ticking_now};

/// `/patient/grants`.
#[component]
pub fn Grants() -> impl IntoView {
    let reload = Reload::new();
    let grants = reload.load(|| async { calls::grants().await });
    let error = RwSignal::new(None::<String>);
    let now = ticking_now();
    let revoke = Callback::new(move |id: GrantId| {
        error.set(None);
        spawn_local(async move {
            match calls::revoke_grant(id).await {
                Ok(_) => reload.reload(),
                Err(e) => error.set(Some(e.message)),
            }
        });
    });
    view! {
        <h1>"Grants"</h1>
        <p>"Doctors you let read your records. Revoking takes effect at once."</p>
        <ErrorSlot error=error/>
        <AsyncList resource=grants what="grants" empty="You have not granted access to anyone." let:list>
            <div class="table-wrap"><table id="my-grants">
                <thead><tr><th>"Doctor"</th><th>"Scope"</th><th>"Visit notes"</th><th>"Status"</th><th>"Downloads"</th><th></th></tr></thead>
                <tbody>{list.into_iter().map(|g| view! { <GrantRow grant=g now=now revoke=revoke/> }).collect_view()}</tbody>
            </table></div>
        </AsyncList>
    }
}

/// One grant: its doctor, scope (records, and whether visit notes by every doctor are
/// included), time left or how it ended, and "Revoke" while it lasts.
#[component]
fn GrantRow(grant: Grant, now: Clock, revoke: Callback<GrantId>) -> impl IntoView {
    let g = grant;
    let id = g.id;
    let expires = g.expires_at;
    view! {
        <tr data-grant=g.id.to_string()>
            <td>{g.doctor_name.clone()}</td>
            <td>{g.record_title.clone().unwrap_or_else(|| "All records".into())}</td>
            <td class="include-notes">{if g.include_notes { "Included (by every doctor)" } else { "Not included" }}</td>
            <td>{if g.active {
                view! { <span class="badge live">"Live"</span>" "<span class="small">{move || format!("{} left", format::time_left(expires, now.get()))}</span> }.into_any()
            } else if let Some(at) = g.revoked_at {
                view! { <span class="badge ended">{format!("Revoked {}", format::datetime(at))}</span> }.into_any()
            } else {
                view! { <span class="badge ended">"Ended"</span> }.into_any()
            }}</td>
            <td>{format!("{} of {}", g.downloads_used, g.max_downloads)}</td>
            <td>{g.active.then(|| view! { <button type="button" class="danger revoke" on:click=move |_| revoke.run(id)>"Revoke"</button> })}</td>
        </tr>
    }
}
