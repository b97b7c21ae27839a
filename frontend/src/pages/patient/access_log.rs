//! Patient: who saw my records. Every read of my profile, records and notes, every download,
//! consent step and refused attempt, from the ledger, with what authorised each read.

use leptos::prelude::*;

use crate::api::calls;
use crate::api::dto::{AccessBasis, AccessLogEntry};
use crate::logic::{format, wording};
use crate::ui::load::AsyncList;

/// `/patient/access-log`.
#[component]
pub fn AccessLog() -> impl IntoView {
    let log = LocalResource::new(|| async { calls::access_log().await });
    view! {
        <h1>"Who saw my records"</h1>
        <p>"Every access to your records is written to a tamper-evident ledger. This is your part of it."</p>
        <AsyncList resource=log what="the access log" empty="Nobody has accessed your records." let:list>
            <div class="table-wrap"><table id="access-log">
                <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Record"</th><th>"Basis"</th><th>"Result"</th></tr></thead>
                <tbody>{list.into_iter().map(|e| view! { <EntryRow entry=e/> }).collect_view()}</tbody>
            </table></div>
        </AsyncList>
    }
}

/// One access: when, who, what in words, the record, what authorised it, allowed or refused.
#[component]
fn EntryRow(entry: AccessLogEntry) -> impl IntoView {
    let e = entry;
    let record = e.record_title.clone().unwrap_or_else(|| {
        e.record_id
            .map_or_else(|| "–".into(), |id| format!("deleted record {id}"))
    });
    view! {
        <tr data-action=e.action.clone() data-basis=e.basis.map(AccessBasis::as_str)>
            <td>{format::datetime(e.at)}</td>
            <td>{e.actor_name.clone().unwrap_or_else(|| "medvault".into())}</td>
            <td>{wording::access_action(&e.action)}</td>
            <td>{record}</td>
            <td class="basis">{if e.basis == Some(AccessBasis::Emergency) {
                view! { <span class="badge badge-emergency">"Emergency"</span> }.into_any()
            } else {
                wording::access_basis(e.basis).unwrap_or("").into_any()
            }}</td>
            <td>{if e.allowed { view! { <span class="badge live">"Allowed"</span> } } else { view! { <span class="badge refused">"Refused"</span> } }}</td>
        </tr>
    }
}
