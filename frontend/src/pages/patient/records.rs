//! Patient: list my records, download, delete with confirmation; the upload form above the
//! list is in [`super::upload`].

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::upload::UploadForm;
use crate::api::calls;
use crate::api::dto::RecordMeta;
use crate::logic::format;
use crate::ui::load::{AsyncList, Reload};
use crate::ui::widgets::{Dialog, ErrorSlot};

/// `/patient/records`.
#[component]
pub fn Records() -> impl IntoView {
    let reload = Reload::new();
    let records = reload.load(|| async { calls::my_records().await });
    let usage = reload.load(|| async { calls::my_storage().await.ok() });
    let deleting = RwSignal::new(None::<RecordMeta>);
    let error = RwSignal::new(None::<String>);
    let download = Callback::new(move |r: RecordMeta| {
        error.set(None);
        spawn_local(async move {
            if let Err(e) = calls::download_record(&r).await {
                error.set(Some(format!("{}: {}", r.title, e.message)));
            }
        });
    });
    view! {
        <h1>"My records"</h1>
        <UploadForm usage=usage on_uploaded=reload.callback()/>
        <section class="card" aria-labelledby="list-h">
            <h2 id="list-h">"Stored records"</h2>
            <ErrorSlot error=error/>
            <AsyncList resource=records what="records" empty="No records yet. Upload your first report above." let:p>
                <div class="table-wrap"><table id="my-records">
                    <thead><tr><th>"Title"</th><th>"Category"</th><th>"Report date"</th><th>"File"</th><th>"Actions"</th></tr></thead>
                    <tbody>{p.items.into_iter().map(|rec| view! { <RecordRow record=rec download=download deleting=deleting/> }).collect_view()}</tbody>
                </table></div>
            </AsyncList>
        </section>
        {move || deleting.get().map(|rec| view! {
            <DeleteDialog record=rec on_close=Callback::new(move |()| deleting.set(None))
                on_deleted=Callback::new(move |()| { deleting.set(None); reload.reload(); })/>
        })}
    }
}

/// One stored record: title, category, date, file (with the start of its SHA-256), and
/// "Download" and "Delete".
#[component]
fn RecordRow(
    record: RecordMeta,
    download: Callback<RecordMeta>,
    /// Where "Delete" puts the record to confirm.
    deleting: RwSignal<Option<RecordMeta>>,
) -> impl IntoView {
    let rec = record;
    let (r1, r2) = (rec.clone(), rec.clone());
    view! {
        <tr data-record=rec.id.to_string()>
            <td>{rec.title.clone()}</td>
            <td>{rec.category.label()}</td>
            <td>{rec.report_date.to_string()}</td>
            <td class="small">{format!("{} · {}", rec.file_name, format::bytes(rec.size_bytes))}<br/>
                <span class="mono" title="SHA-256">{rec.sha256.chars().take(16).collect::<String>()}"…"</span></td>
            <td class="row-actions">
                <button type="button" class="secondary download" on:click=move |_| download.run(r1.clone())>"Download"</button>
                <button type="button" class="secondary delete" on:click=move |_| deleting.set(Some(r2.clone()))>"Delete"</button>
            </td>
        </tr>
    }
}

/// Confirms deleting a record for good.
#[component]
fn DeleteDialog(
    record: RecordMeta,
    on_close: Callback<()>,
    on_deleted: Callback<()>,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let id = record.id;
    let confirm = move |_| {
        busy.set(true);
        spawn_local(async move {
            match calls::delete_record(id).await {
                Ok(_) => on_deleted.run(()),
                Err(e) => {
                    busy.set(false);
                    error.set(Some(e.message));
                }
            }
        });
    };
    view! {
        <Dialog title=format!("Delete “{}”?", record.title) on_close=on_close>
            <p>"Its encryption key is destroyed at once, so nobody can read it again, you included. The access history stays. This cannot be undone."</p>
            <div class="actions">
                <button type="button" class="secondary" on:click=move |_| on_close.run(())>"Keep it"</button>
                <button type="button" class="danger" id="confirm-delete" disabled=move || busy.get() on:click=confirm>
                    {move || if busy.get() { "Deleting…" } else { "Delete for good" }}
                </button>
            </div>
            <ErrorSlot error=error/>
        </Dialog>
    }
}
