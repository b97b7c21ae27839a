//! Doctor: my access requests (enter a code for a pending one) and my grants (time and
//! downloads left, download, give up).

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::consent::{CodeDialog, RequestByMrnForm};
use crate::api::ApiError;
use crate::api::calls;
use crate::api::dto::{AccessRequest, AccessRequestStatus, Grant};
use crate::logic::format;
use crate::ui::load::{AsyncList, Reload};
use crate::ui::widgets::{Clock, ErrorSlot, ticking_now};

/// A request status as a badge.
pub fn status_badge(s: AccessRequestStatus) -> impl IntoView {
    let (class, label) = match s {
        AccessRequestStatus::Pending => ("badge pending", "Pending"),
        AccessRequestStatus::Granted => ("badge live", "Granted"),
        AccessRequestStatus::Denied => ("badge refused", "Denied"),
        AccessRequestStatus::Locked => ("badge refused", "Locked"),
        AccessRequestStatus::Expired => ("badge ended", "Expired"),
    };
    view! { <span class=class>{label}</span> }
}

/// `/doctor/access`.
#[component]
pub fn Access() -> impl IntoView {
    let reload = Reload::new();
    let requests = reload.load(|| async { calls::access_requests().await });
    let grants = reload.load(|| async { calls::grants().await });
    let code_for = RwSignal::new(None::<AccessRequest>);
    let error = RwSignal::new(None::<String>);
    view! {
        <h1>"Requests & grants"</h1>
        <ErrorSlot error=error/>
        <GrantsTable grants=grants error=error reload=reload/>
        <RequestsTable requests=requests code_for=code_for/>
        <section class="card" aria-labelledby="mrn-h">
            <h2 id="mrn-h">"Ask a new patient for access"</h2>
            <RequestByMrnForm on_created=Callback::new(move |req| { reload.reload(); code_for.set(Some(req)); })/>
        </section>
        {move || code_for.get().map(|q| view! {
            <CodeDialog request=q on_close=Callback::new(move |()| { code_for.set(None); reload.reload(); })
                on_granted=Callback::new(move |_| { code_for.set(None); reload.reload(); })/>
        })}
    }
}

/// The doctor's grants: time and downloads left, "Download" for a one-record grant, and
/// "Give up" while a grant lasts.
#[component]
fn GrantsTable(
    grants: LocalResource<Result<Vec<Grant>, ApiError>>,
    /// Where a failed download or give-up goes.
    error: RwSignal<Option<String>>,
    /// Loads the page's lists again.
    reload: Reload,
) -> impl IntoView {
    let now = ticking_now();
    let download = Callback::new(move |g: Grant| {
        let Some(record) = g.record_id else { return };
        let name = g.record_title.clone().unwrap_or_else(|| "record".into());
        error.set(None);
        spawn_local(async move {
            if let Err(e) = calls::download_record_by_id(record, &name).await {
                error.set(Some(e.message));
            }
            reload.reload();
        });
    });
    let give_up = Callback::new(move |g: Grant| {
        error.set(None);
        spawn_local(async move {
            match calls::revoke_grant(g.id).await {
                Ok(_) => reload.reload(),
                Err(e) => error.set(Some(e.message)),
            }
        });
    });
    view! {
        <section class="card" aria-labelledby="grants-h">
            <h2 id="grants-h">"My grants"</h2>
            <AsyncList resource=grants what="grants" empty="No grants yet." let:list>
                <div class="table-wrap"><table>
                    <thead><tr><th>"Patient"</th><th>"Scope"</th><th>"Status"</th><th>"Downloads"</th><th>"Actions"</th></tr></thead>
                    <tbody>{list.into_iter().map(|g| view! { <GrantRow grant=g now=now download=download give_up=give_up/> }).collect_view()}</tbody>
                </table></div>
            </AsyncList>
        </section>
    }
}

/// One grant of the doctor's.
#[component]
fn GrantRow(
    grant: Grant,
    now: Clock,
    download: Callback<Grant>,
    give_up: Callback<Grant>,
) -> impl IntoView {
    let g = grant;
    let (g1, g2) = (g.clone(), g.clone());
    let expires = g.expires_at;
    let active = g.active;
    view! {
        <tr>
            <td><a href=format!("/doctor/patients/{}", g.patient_id)>{g.patient_name.clone()}</a></td>
            <td>{g.record_title.clone().unwrap_or_else(|| "All records".into())}</td>
            <td>{if active {
                view! { <span class="badge live">"Live"</span>" "<span class="small">{move || format!("{} left", format::time_left(expires, now.get()))}</span> }.into_any()
            } else if g.revoked_at.is_some() {
                view! { <span class="badge ended">"Revoked"</span> }.into_any()
            } else {
                view! { <span class="badge ended">"Ended"</span> }.into_any()
            }}</td>
            <td>{format!("{} of {}", g.downloads_used, g.max_downloads)}</td>
            <td class="row-actions">
                {(active && g.record_id.is_some()).then(|| view! { <button type="button" class="primary download" on:click=move |_| download.run(g1.clone())>"Download"</button> })}
                {active.then(|| view! { <button type="button" class="secondary" on:click=move |_| give_up.run(g2.clone())>"Give up"</button> })}
            </td>
        </tr>
    }
}

/// The doctor's requests, with "Enter code" on pending ones.
#[component]
fn RequestsTable(
    requests: LocalResource<Result<Vec<AccessRequest>, ApiError>>,
    code_for: RwSignal<Option<AccessRequest>>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="requests-h">
            <h2 id="requests-h">"My requests"</h2>
            <AsyncList resource=requests what="requests" empty="No requests yet." let:list>
                <div class="table-wrap"><table>
                    <thead><tr><th>"Patient"</th><th>"Scope"</th><th>"Reason"</th><th>"Status"</th><th></th></tr></thead>
                    <tbody>{list.into_iter().map(|q| {
                        let pending = q.status == AccessRequestStatus::Pending;
                        let q1 = q.clone();
                        view! {
                            <tr>
                                <td>{q.patient_name.clone()}</td>
                                <td>{q.record_title.clone().unwrap_or_else(|| "All records".into())}</td>
                                <td>{q.reason.clone()}</td>
                                <td>{status_badge(q.status)}</td>
                                <td>{pending.then(|| view! { <button type="button" class="primary enter-code" on:click=move |_| code_for.set(Some(q1.clone()))>"Enter code"</button> })}</td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table></div>
            </AsyncList>
        </section>
    }
}
