//! Patient: the upload form of the records screen. The chosen file is checked against the
//! server's limits at once (a clear message instead of minutes of uploading), the upload shows
//! real progress, and a too-large or unsupported file the server refuses is marked on the file
//! input.

use std::collections::BTreeMap;

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::calls;
use crate::api::dto::{RecordCategory, RecordMeta, StorageUsage};
use crate::logic::validate::{self, Checks};
use crate::logic::{format, upload};
use crate::ui::form::{Field, FormState, Select, Submit, TextArea};
use crate::ui::widgets::today;

/// Limits to check a file against: the server's, or the defaults while it has not said.
fn limits(usage: Option<&StorageUsage>) -> (u64, Vec<String>) {
    usage.map_or_else(
        || (upload::DEFAULT_MAX_FILE_BYTES, upload::default_allowed()),
        |u| (u.max_file_bytes, u.allowed_types.clone()),
    )
}

/// The file chosen in `input`, if any.
fn chosen_file(input: NodeRef<html::Input>) -> Option<web_sys::File> {
    input.get_untracked()?.files()?.get(0)
}

/// The chosen file if there is one and it passes the server's limits (as far as they are known
/// yet), else what is wrong with it.
fn checked_file(
    input: NodeRef<html::Input>,
    usage: LocalResource<Option<StorageUsage>>,
) -> Result<web_sys::File, String> {
    let file = chosen_file(input).ok_or_else(|| "Choose a file to upload.".to_string())?;
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
}

/// The upload form's inputs besides the file.
#[derive(Clone, Copy)]
struct UploadFields {
    title: RwSignal<String>,
    date: RwSignal<String>,
    category: RwSignal<String>,
    notes: RwSignal<String>,
}

impl UploadFields {
    /// No title, today's date, a lab report, no notes.
    fn new() -> Self {
        Self {
            title: RwSignal::new(String::new()),
            date: RwSignal::new(today().to_string()),
            category: RwSignal::new(RecordCategory::LabReport.as_str().to_string()),
            notes: RwSignal::new(String::new()),
        }
    }

    /// The file and the report date when everything is valid, else the messages by field.
    fn checked(
        self,
        file: Result<web_sys::File, String>,
    ) -> Result<(web_sys::File, chrono::NaiveDate), BTreeMap<String, String>> {
        let mut c = Checks::new();
        let file = c.check("file", file);
        c.check(
            "title",
            validate::required(&self.title.get_untracked(), 200),
        );
        let report_date = c.check(
            "report_date",
            validate::past_date(&self.date.get_untracked(), today()),
        );
        c.check(
            "notes",
            validate::optional(&self.notes.get_untracked(), 2000),
        );
        c.finish()?;
        let (Some(file), Some(report_date)) = (file, report_date) else {
            return Err(BTreeMap::new());
        };
        Ok((file, report_date))
    }

    /// The multipart body: metadata first, the file last, because the server streams the file
    /// and must already know the rest.
    fn form_data(
        self,
        file: &web_sys::File,
        report_date: chrono::NaiveDate,
    ) -> Option<web_sys::FormData> {
        let data = web_sys::FormData::new().ok()?;
        let _ = data.append_with_str("title", self.title.get_untracked().trim());
        let _ = data.append_with_str("report_date", &report_date.to_string());
        let _ = data.append_with_str("category", &self.category.get_untracked());
        let n = self.notes.get_untracked();
        if !n.trim().is_empty() {
            let _ = data.append_with_str("notes", n.trim());
        }
        let _ = data.append_with_blob_and_filename("file", file, &file.name());
        Some(data)
    }

    /// Suggests the file's name as the title, unless one is typed already.
    fn suggest_title(self, file_name: &str) {
        if self.title.get_untracked().trim().is_empty() {
            self.title.set(upload::title_from_file_name(file_name));
        }
    }

    /// Empties title and notes after an upload (date and category stay for the next one).
    fn clear(self) {
        self.title.set(String::new());
        self.notes.set(String::new());
    }
}

/// Sends `data`, showing its progress, and hands the stored record to `on_done`; a failure goes
/// to the form, and a refusal of the file itself (too large, unsupported) also under the file
/// input.
fn send_upload(
    data: web_sys::FormData,
    form: FormState,
    progress: RwSignal<Option<u8>>,
    on_done: Callback<RecordMeta>,
) {
    progress.set(Some(0));
    spawn_local(async move {
        let result = calls::upload_record(&data, move |p| progress.set(Some(p))).await;
        progress.set(None);
        match result {
            Ok(rec) => {
                form.done();
                on_done.run(rec);
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
}

/// "Upload a report": the limits, the form, its progress and the confirmation.
#[component]
pub(super) fn UploadForm(
    /// The patient's storage use and the server's limits.
    usage: LocalResource<Option<StorageUsage>>,
    /// Called after a record is stored.
    on_uploaded: Callback<()>,
) -> impl IntoView {
    let file_input: NodeRef<html::Input> = NodeRef::new();
    let fields = UploadFields::new();
    let progress = RwSignal::new(None::<u8>);
    let done = RwSignal::new(None::<String>);
    let form = FormState::new();

    let on_file_change = Callback::new(move |()| {
        done.set(None);
        form.errors.update(|e| {
            e.remove("file");
        });
        form.error.set(None);
        match checked_file(file_input, usage) {
            Err(msg) => form.errors.update(|e| {
                e.insert("file".into(), msg);
            }),
            Ok(file) => fields.suggest_title(&file.name()),
        }
    });
    let uploaded = Callback::new(move |rec: RecordMeta| {
        done.set(Some(format!(
            "Uploaded “{}” ({}).",
            rec.title,
            format::bytes(rec.size_bytes)
        )));
        fields.clear();
        if let Some(input) = file_input.get_untracked() {
            input.set_value("");
        }
        on_uploaded.run(());
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(None);
        let (file, report_date) = match fields.checked(checked_file(file_input, usage)) {
            Ok(valid) => valid,
            Err(errs) => return form.invalid(errs),
        };
        let Some(data) = fields.form_data(&file, report_date) else {
            return;
        };
        if form.start() {
            send_upload(data, form, progress, uploaded);
        }
    };
    view! {
        <section class="card" aria-labelledby="upload-h">
            <h2 id="upload-h">"Upload a report"</h2>
            <UsageHint usage=usage/>
            {move || done.get().map(|d| view! { <p class="notice success" role="status" id="upload-done">{d}</p> })}
            <form id="upload-form" on:submit=submit novalidate=true>
                <FileField input=file_input form=form on_change=on_file_change/>
                <UploadInputs fields=fields form=form/>
                <UploadProgress progress=progress/>
                <Submit label="Upload" busy_label="Uploading…" form=form/>
            </form>
        </section>
    }
}

/// What files are accepted, how large, and how much of the quota is used.
#[component]
fn UsageHint(usage: LocalResource<Option<StorageUsage>>) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || usage.get().map(|u| {
                let (max, allowed) = limits(u.as_ref());
                view! {
                    <p class="hint">{format!("Accepted: {}. Up to {} per file.", upload::readable_types(&allowed), format::bytes(max))}
                        {u.map(|u| format!(" You use {} of {}.", format::bytes(u.used_bytes), format::bytes(u.quota_bytes)))}</p>
                }
            })}
        </Transition>
    }
}

/// The file input, with its error under it.
#[component]
fn FileField(
    input: NodeRef<html::Input>,
    form: FormState,
    /// Called when another file is chosen.
    on_change: Callback<()>,
) -> impl IntoView {
    let file_error = move || form.errors.with(|e| e.get("file").cloned());
    view! {
        <div class="field">
            <label for="upload-file">"File" <span aria-hidden="true">" *"</span></label>
            <input id="upload-file" name="file" type="file" node_ref=input on:change=move |_| on_change.run(())
                aria-invalid=move || if file_error().is_some() { "true" } else { "false" }
                aria-describedby="upload-file-err"
                accept=".pdf,.png,.jpg,.jpeg,.dcm,.txt,.csv,.json,application/pdf,image/png,image/jpeg,application/dicom,text/plain,text/csv,application/json"/>
            <Show when=move || file_error().is_some()>
                <p class="field-error" id="upload-file-err" role="alert">{file_error}</p>
            </Show>
        </div>
    }
}

/// Title, report date, category and notes.
#[component]
fn UploadInputs(fields: UploadFields, form: FormState) -> impl IntoView {
    let categories: Vec<(String, String)> = RecordCategory::ALL
        .into_iter()
        .map(|c| (c.as_str().to_string(), c.label().to_string()))
        .collect();
    view! {
        <div class="grid2">
            <Field label="Title" name="title" value=fields.title form=form required=true/>
            <Field label="Report date" name="report_date" kind="date" value=fields.date form=form required=true/>
            <Select label="Category" name="category" value=fields.category options=categories form=form/>
        </div>
        <TextArea label="Notes" name="notes" value=fields.notes form=form/>
    }
}

/// The progress bar while an upload is out.
#[component]
fn UploadProgress(progress: RwSignal<Option<u8>>) -> impl IntoView {
    move || {
        progress.get().map(|p| view! {
            <div class="progress-row">
                <progress id="upload-progress" max="100" value=p.to_string() aria-label="Upload progress"></progress>
                <span aria-live="polite">{format!("{p}%")}</span>
            </div>
        })
    }
}
