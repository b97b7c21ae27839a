//! The records on a patient's page: each with what covers it (a live grant to download under,
//! the doctor's live emergency access, a request waiting for the patient's code, or nothing
//! yet), and the request and code dialogs. Requests by patient id are for patients in care; a
//! patient reached only in an emergency is asked through their MRN, if at all.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::super::consent::{CodeDialog, RequestAccessDialog, live_grant_for};
use crate::api::dto::{AccessRequest, AccessRequestStatus, Grant, RecordId, RecordMeta, UserId};
use crate::api::{ApiError, calls};
use crate::logic::format;
use crate::ui::load::{AsyncList, Listing, Reload};
use crate::ui::widgets::{Clock, ErrorSlot, ticking_now};

/// What the records section's dialog shows.
#[derive(Clone)]
enum Open {
    Request(Option<(RecordId, String)>),
    Code(AccessRequest),
}

/// A patient's records with the doctor's live grants and the requests still waiting for this
/// patient's consent.
#[derive(Clone)]
struct RecordsAccess {
    records: Vec<RecordMeta>,
    grants: Vec<Grant>,
    pending: Vec<AccessRequest>,
}

impl Listing for RecordsAccess {
    fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

impl RecordsAccess {
    /// The records, or why they could not be read; grants and requests that fail to load count
    /// as none.
    async fn load(patient_id: UserId) -> Result<Self, ApiError> {
        let records = calls::patient_records_for_doctor(patient_id).await;
        let grants = calls::grants().await;
        let requests = calls::access_requests().await;
        let pending = requests
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.patient_id == patient_id && r.status == AccessRequestStatus::Pending)
            .collect();
        records.map(|r| Self {
            records: r.items,
            grants: grants.unwrap_or_default(),
            pending,
        })
    }

    /// The pending request that would cover `record`, if any.
    fn pending_for(&self, record: RecordId) -> Option<AccessRequest> {
        self.pending
            .iter()
            .find(|q| q.record_id.is_none_or(|r| r == record))
            .cloned()
    }
}

/// What a record row offers when no grant covers the record.
#[derive(Clone, Copy)]
struct Cover {
    /// The patient is in the doctor's care: requests by patient id are possible.
    in_care: bool,
    /// The doctor's emergency access is live: downloads need no consent.
    emergency: bool,
}

/// The records card and its dialogs.
#[component]
pub(super) fn RecordsSection(
    patient_id: UserId,
    /// The patient is in the doctor's care.
    in_care: bool,
    /// The doctor's emergency access to the patient is live.
    emergency: bool,
) -> impl IntoView {
    let cover = Cover { in_care, emergency };
    let reload = Reload::new();
    let data = reload.load(move || RecordsAccess::load(patient_id));
    let open = RwSignal::new(None::<Open>);
    let notice = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let now = ticking_now();
    let download = Callback::new(move |r: RecordMeta| {
        error.set(None);
        spawn_local(async move {
            if let Err(e) = calls::download_record(&r).await {
                error.set(Some(format!("{}: {}", r.title, e.message)));
            }
            reload.reload();
        });
    });
    view! {
        <section class="card" aria-labelledby="records-h">
            <div class="title-row">
                <h2 id="records-h">"Records"</h2>
                {in_care.then(|| view! {
                    <button type="button" class="secondary" id="request-all" on:click=move |_| open.set(Some(Open::Request(None)))>"Request access to all"</button>
                })}
            </div>
            {move || notice.get().map(|n| view! { <p class="notice success" role="status">{n}</p> })}
            <ErrorSlot error=error/>
            <AsyncList resource=data what="records" empty="No records yet." let:data>
                <div class="table-wrap">
                <table id="doctor-records">
                    <thead><tr><th>"Title"</th><th>"Category"</th><th>"Report date"</th><th>"Size"</th><th>"Access"</th></tr></thead>
                    <tbody>
                        {data.records.iter().map(|rec| view! {
                            <RecordRow record=rec.clone() grant=live_grant_for(&data.grants, patient_id, rec.id)
                                waiting=data.pending_for(rec.id) cover=cover now=now download=download open=open/>
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            </AsyncList>
        </section>
        <RecordsDialog patient_id=patient_id open=open notice=notice reload=reload/>
    }
}

/// One record and what the doctor can do about it now.
#[component]
fn RecordRow(
    record: RecordMeta,
    /// The live grant that covers it.
    grant: Option<Grant>,
    /// The pending request that covers it.
    waiting: Option<AccessRequest>,
    cover: Cover,
    now: Clock,
    download: Callback<RecordMeta>,
    open: RwSignal<Option<Open>>,
) -> impl IntoView {
    let rec = record;
    let title = rec.title.clone();
    let rid = rec.id;
    let access = match (grant, waiting) {
        (Some(g), _) => {
            let rec2 = rec.clone();
            view! {
                <button type="button" class="primary download" on:click=move |_| download.run(rec2.clone())>"Download"</button>
                <span class="small">{move || format!(
                    " {} left · {} of {} downloads used",
                    format::time_left(g.expires_at, now.get()), g.downloads_used, g.max_downloads
                )}</span>
            }.into_any()
        }
        (None, _) if cover.emergency => {
            let rec2 = rec.clone();
            view! {
                <button type="button" class="primary download emergency-download" on:click=move |_| download.run(rec2.clone())>"Download"</button>
                <span class="small">" under emergency access"</span>
            }.into_any()
        }
        (None, Some(q)) => view! {
            <span class="badge pending">"Waiting for consent"</span>" "
            <button type="button" class="primary enter-code" on:click=move |_| open.set(Some(Open::Code(q.clone())))>"Enter code"</button>
        }.into_any(),
        (None, None) if cover.in_care => view! {
            <button type="button" class="secondary request-access" on:click=move |_| open.set(Some(Open::Request(Some((rid, title.clone())))))>"Request access"</button>
        }.into_any(),
        (None, None) => view! { <span class="small">"No access"</span> }.into_any(),
    };
    view! {
        <tr data-record=rec.id.to_string()>
            <td>{rec.title.clone()}<RecordNotes record=rec.clone()/></td>
            <td>{rec.category.label()}</td>
            <td>{rec.report_date.to_string()}</td>
            <td>{format::bytes(rec.size_bytes)}</td>
            <td class="row-actions">{access}</td>
        </tr>
    }
}

/// A record's notes under its title: the notes when the doctor may read them, a word that they
/// need the patient's consent when the server withheld them, nothing when there are none.
#[component]
fn RecordNotes(record: RecordMeta) -> impl IntoView {
    match (record.notes, record.notes_withheld) {
        (Some(notes), _) => Some(view! { <p class="small record-notes">{notes}</p> }.into_any()),
        (None, true) => Some(
            view! { <p class="small notes-withheld">"Notes need the patient's consent"</p> }
                .into_any(),
        ),
        (None, false) => None,
    }
}

/// The open dialog: asking for access, then entering the patient's code.
#[component]
fn RecordsDialog(
    patient_id: UserId,
    open: RwSignal<Option<Open>>,
    /// Where "request sent" and "access granted" go.
    notice: RwSignal<Option<String>>,
    /// Loads the records again.
    reload: Reload,
) -> impl IntoView {
    move || {
        open.get().map(|o| {
            let close = Callback::new(move |()| open.set(None));
            match o {
                Open::Request(record) => view! {
                    <RequestAccessDialog patient_id=patient_id record=record on_close=close
                        on_created=Callback::new(move |req: AccessRequest| {
                            notice.set(Some("Request sent. Ask the patient for their code.".into()));
                            reload.reload();
                            open.set(Some(Open::Code(req)));
                        })/>
                }.into_any(),
                Open::Code(req) => view! {
                    <CodeDialog request=req on_close=Callback::new(move |()| { open.set(None); reload.reload(); })
                        on_granted=Callback::new(move |_| {
                            notice.set(Some("Access granted. You can download now.".into()));
                            open.set(None);
                            reload.reload();
                        })/>
                }.into_any(),
            }
        })
    }
}
