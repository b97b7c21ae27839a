//! Patient: who saw my records. Every download, consent step and refused attempt, from the
//! ledger.

use leptos::prelude::*;

use crate::api::calls;
use crate::logic::format;
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
                <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Record"</th><th>"Result"</th></tr></thead>
                <tbody>{list.into_iter().map(|e| view! {
                    <tr data-action=e.action.clone()>
                        <td>{format::datetime(e.at)}</td>
                        <td>{e.actor_name.clone().unwrap_or_else(|| "medvault".into())}</td>
                        <td>{format::action(&e.action)}</td>
                        <td>{e.record_title.clone().unwrap_or_else(|| e.record_id.map_or_else(|| "–".into(), |id| format!("deleted record {id}")))}</td>
                        <td>{if e.allowed { view! { <span class="badge live">"Allowed"</span> } } else { view! { <span class="badge refused">"Refused"</span> } }}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table></div>
        </AsyncList>
    }
}
