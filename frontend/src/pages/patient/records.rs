//! Patient: upload a report (with a real progress bar and a clear error for a too-large or
//! unsupported file), list my records, download, delete with confirmation.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::calls;
use crate::api::dto::{RecordCategory, RecordMeta, StorageUsage};
use crate::logic::validate::{self, Checks};
use crate::logic::{format, upload};
use crate::ui::form::{Field, FormState, Select, Submit, TextArea};
use crate::ui::widgets::{Dialog, ErrorSlot, ErrorText, Loading, today};

/// Limits to check a file against: the server's, or the defaults while it has not said.
fn limits(usage: Option<&StorageUsage>) -> (u64, Vec<String>) {
    usage.map_or_else(
        || (upload::DEFAULT_MAX_FILE_BYTES, upload::default_allowed()),
        |u| (u.max_file_bytes, u.allowed_types.clone()),
    )
}

/// `/patient/records`.
#[component]
pub fn Records() -> impl IntoView {
    let version = RwSignal::new(0_u32);
    let records = LocalResource::new(move || {
        version.track();
        async move { calls::my_records().await }
    });
    let usage = LocalResource::new(move || {
        version.track();
        async move { calls::my_storage().await.ok() }
    });
    let deleting = RwSignal::new(None::<RecordMeta>);
    let error = RwSignal::new(None::<String>);
    let reload = move || version.update(|v| *v += 1);
    let download = move |r: RecordMeta| {
        error.set(None);
        spawn_local(async move {
            if let Err(e) = calls::download_record(&r).await {
                error.set(Some(format!("{}: {}", r.title, e.message)));
            }
        });
    };
    view! {
        <h1>"My records"</h1>
        <UploadForm usage=usage on_uploaded=Callback::new(move |()| reload())/>
        <section class="card" aria-labelledby="list-h">
            <h2 id="list-h">"Stored records"</h2>
            <ErrorSlot error=error/>
            <Transition fallback=|| view! { <Loading what="records"/> }>
                {move || records.get().map(|r| match r {
                    Err(e) => view! { <ErrorText error=e/> }.into_any(),
                    Ok(p) if p.items.is_empty() => view! { <p>"No records yet. Upload your first report above."</p> }.into_any(),
                    Ok(p) => view! {
                        <div class="table-wrap"><table id="my-records">
                            <thead><tr><th>"Title"</th><th>"Category"</th><th>"Report date"</th><th>"File"</th><th>"Actions"</th></tr></thead>
                            <tbody>{p.items.into_iter().map(|rec| {
                                let (r1, r2) = (rec.clone(), rec.clone());
                                view! {
                                    <tr data-record=rec.id.to_string()>
                                        <td>{rec.title.clone()}</td>
                                        <td>{rec.category.label()}</td>
                                        <td>{rec.report_date.to_string()}</td>
                                        <td class="small">{format!("{} · {}", rec.file_name, format::bytes(rec.size_bytes))}<br/>
                                            <span class="mono" title="SHA-256">{rec.sha256.chars().take(16).collect::<String>()}"…"</span></td>
                                        <td class="row-actions">
                                            <button type="button" class="secondary download" on:click=move |_| download(r1.clone())>"Download"</button>
                                            <button type="button" class="secondary delete" on:click=move |_| deleting.set(Some(r2.clone()))>"Delete"</button>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table></div>
                    }.into_any(),
                })}
            </Transition>
        </section>
        {move || deleting.get().map(|rec| view! {
            <DeleteDialog record=rec on_close=Callback::new(move |()| deleting.set(None))
                on_deleted=Callback::new(move |()| { deleting.set(None); reload(); })/>
        })}
    }
}

#[component]
fn UploadForm(
    usage: LocalResource<Option<StorageUsage>>,
    on_uploaded: Callback<()>,
) -> impl IntoView {
    let file_input: NodeRef<html::Input> = NodeRef::new();
    let title = RwSignal::new(String::new());
    let date = RwSignal::new(today().to_string());
    let category = RwSignal::new(RecordCategory::LabReport.as_str().to_string());
    let notes = RwSignal::new(String::new());
    let progress = RwSignal::new(None::<u8>);
    let done = RwSignal::new(None::<String>);
    let form = FormState::new();

    let chosen_file =
        move || -> Option<web_sys::File> { file_input.get_untracked()?.files()?.get(0) };
    let check_chosen = move || -> Result<web_sys::File, String> {
        let file = chosen_file().ok_or_else(|| "Choose a file to upload.".to_string())?;
        let current = usage.get_untracked().flatten();
        let (max, allowed) = limits(current.as_ref());
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "file sizes are whole, non-negative and below 2^53"
        )]
        let size = file.size() as u64;
        upload::check_file(&file.name(), &file.type_(), size, max, &allowed)?;
        Ok(file)
    };
    let on_file_change = move |_| {
        done.set(None);
        form.errors.update(|e| {
            e.remove("file");
        });
        form.error.set(None);
        if let Err(msg) = check_chosen() {
            form.errors.update(|e| {
                e.insert("file".into(), msg);
            });
        } else if title.get_untracked().trim().is_empty()
            && let Some(f) = chosen_file()
        {
            let name = f.name();
            let stem = name
                .rsplit_once('.')
                .map_or(name.as_str(), |(s, _)| s)
                .to_string();
            title.set(stem.chars().take(200).collect());
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(None);
        let mut c = Checks::new();
        let file = c.check("file", check_chosen());
        c.check("title", validate::required(&title.get_untracked(), 200));
        let report_date = c.check(
            "report_date",
            validate::past_date(&date.get_untracked(), today()),
        );
        c.check("notes", validate::optional(&notes.get_untracked(), 2000));
        if let Err(errs) = c.finish() {
            return form.invalid(errs);
        }
        let (Some(file), Some(report_date)) = (file, report_date) else {
            return;
        };
        let Ok(data) = web_sys::FormData::new() else {
            return;
        };
        // Metadata first, the file last: the server streams the file and already knows the rest.
        let _ = data.append_with_str("title", title.get_untracked().trim());
        let _ = data.append_with_str("report_date", &report_date.to_string());
        let _ = data.append_with_str("category", &category.get_untracked());
        let n = notes.get_untracked();
        if !n.trim().is_empty() {
            let _ = data.append_with_str("notes", n.trim());
        }
        let _ = data.append_with_blob_and_filename("file", &file, &file.name());
        if !form.start() {
            return;
        }
        progress.set(Some(0));
        spawn_local(async move {
            let result = calls::upload_record(&data, move |p| progress.set(Some(p))).await;
            progress.set(None);
            match result {
                Ok(rec) => {
                    form.done();
                    done.set(Some(format!(
                        "Uploaded “{}” ({}).",
                        rec.title,
                        format::bytes(rec.size_bytes)
                    )));
                    title.set(String::new());
                    notes.set(String::new());
                    if let Some(input) = file_input.get_untracked() {
                        input.set_value("");
                    }
                    on_uploaded.run(());
                }
                Err(e) => {
                    form.fail(&e);
                    if matches!(e.status, 413 | 415) {
                        form.errors.update(|m| {
                            m.insert("file".into(), e.message.clone());
                        });
                    }
                }
            }
        });
    };
    let categories: Vec<(String, String)> = RecordCategory::ALL
        .into_iter()
        .map(|c| (c.as_str().to_string(), c.label().to_string()))
        .collect();
    let file_error = move || form.errors.with(|e| e.get("file").cloned());
    view! {
        <section class="card" aria-labelledby="upload-h">
            <h2 id="upload-h">"Upload a report"</h2>
            <Transition fallback=|| ()>
                {move || usage.get().map(|u| {
                    let (max, allowed) = limits(u.as_ref());
                    view! {
                        <p class="hint">{format!("Accepted: {}. Up to {} per file.", upload::readable_types(&allowed), format::bytes(max))}
                            {u.map(|u| format!(" You use {} of {}.", format::bytes(u.used_bytes), format::bytes(u.quota_bytes)))}</p>
                    }
                })}
            </Transition>
            {move || done.get().map(|d| view! { <p class="notice success" role="status" id="upload-done">{d}</p> })}
            <form id="upload-form" on:submit=submit novalidate=true>
                <div class="field">
                    <label for="upload-file">"File" <span aria-hidden="true">" *"</span></label>
                    <input id="upload-file" name="file" type="file" node_ref=file_input on:change=on_file_change
                        aria-invalid=move || if file_error().is_some() { "true" } else { "false" }
                        aria-describedby="upload-file-err"
                        accept=".pdf,.png,.jpg,.jpeg,.dcm,.txt,.csv,.json,application/pdf,image/png,image/jpeg,application/dicom,text/plain,text/csv,application/json"/>
                    <Show when=move || file_error().is_some()>
                        <p class="field-error" id="upload-file-err" role="alert">{file_error}</p>
                    </Show>
                </div>
                <div class="grid2">
                    <Field label="Title" name="title" value=title form=form required=true/>
                    <Field label="Report date" name="report_date" kind="date" value=date form=form required=true/>
                    <Select label="Category" name="category" value=category options=categories form=form/>
                </div>
                <TextArea label="Notes" name="notes" value=notes form=form/>
                {move || progress.get().map(|p| view! {
                    <div class="progress-row">
                        <progress id="upload-progress" max="100" value=p.to_string() aria-label="Upload progress"></progress>
                        <span aria-live="polite">{format!("{p}%")}</span>
                    </div>
                })}
                <Submit label="Upload" busy_label="Uploading…" form=form/>
            </form>
        </section>
    }
}

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
