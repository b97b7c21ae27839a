//! Doctor: one patient in care. Demographics, visit notes with an add form, the records list
//! with request-access, enter-code and download-while-the-grant-lasts.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use super::consent::{CodeDialog, RequestAccessDialog, live_grant_for};
use crate::api::calls;
use crate::api::dto::{AccessRequest, AccessRequestStatus, CreateVisitNote, Patient, RecordMeta};
use crate::logic::format;
use crate::logic::validate::{self, Checks};
use crate::pages::people::{patient_name, sex_label};
use crate::ui::form::{Field, FormState, Submit, TextArea};
use crate::ui::widgets::{ErrorSlot, ErrorText, Loading, ticking_now, today};

/// `/doctor/patients/:id`.
#[component]
pub fn PatientPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| Uuid::parse_str(&s).ok()));
    move || match id() {
        None => view! { <h1>"Patient not found"</h1> }.into_any(),
        Some(id) => view! { <PatientView id=id/> }.into_any(),
    }
}

#[component]
fn PatientView(id: Uuid) -> impl IntoView {
    let patient = LocalResource::new(move || async move { calls::doctor_patient(id).await });
    view! {
        <Transition fallback=|| view! { <Loading what="patient"/> }>
            {move || patient.get().map(|r| match r {
                Err(e) => view! { <h1>"Patient"</h1><ErrorText error=e/> }.into_any(),
                Ok(p) => view! {
                    <h1>{patient_name(&p)}</h1>
                    <Demographics patient=p.clone()/>
                    <RecordsSection patient=p/>
                    <NotesSection patient_id=id/>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Demographics(patient: Patient) -> impl IntoView {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".into());
    let num = |v: Option<f64>, unit: &str| v.map_or_else(|| "–".into(), |n| format!("{n} {unit}"));
    view! {
        <section class="card" aria-labelledby="demo-h">
            <h2 id="demo-h">"Demographics"</h2>
            <dl class="facts">
                <dt>"MRN"</dt><dd class="mono">{patient.mrn.clone()}</dd>
                <dt>"Date of birth"</dt><dd>{patient.date_of_birth.to_string()}</dd>
                <dt>"Sex"</dt><dd>{sex_label(patient.sex)}</dd>
                <dt>"Blood group"</dt><dd>{patient.blood_group.map_or("–", |b| b.as_str())}</dd>
                <dt>"Height"</dt><dd>{num(patient.height_cm, "cm")}</dd>
                <dt>"Weight"</dt><dd>{num(patient.weight_kg, "kg")}</dd>
                <dt>"Allergies"</dt><dd>{opt(&patient.allergies)}</dd>
                <dt>"Phone"</dt><dd>{opt(&patient.phone)}</dd>
                <dt>"E-mail"</dt><dd>{patient.email.clone()}</dd>
                <dt>"Emergency contact"</dt><dd>{opt(&patient.emergency_contact)}</dd>
            </dl>
        </section>
    }
}

/// What the records section's dialog shows.
#[derive(Clone)]
enum Open {
    Request(Option<(Uuid, String)>),
    Code(AccessRequest),
}

#[component]
fn RecordsSection(patient: Patient) -> impl IntoView {
    let patient_id = patient.id;
    let version = RwSignal::new(0_u32);
    let data = LocalResource::new(move || {
        version.track();
        async move {
            let records = calls::patient_records_for_doctor(patient_id).await;
            let grants = calls::grants().await;
            let requests = calls::access_requests().await;
            (records, grants, requests)
        }
    });
    let open = RwSignal::new(None::<Open>);
    let notice = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let now = ticking_now();
    let reload = move || version.update(|v| *v += 1);
    let download = move |r: RecordMeta| {
        error.set(None);
        spawn_local(async move {
            if let Err(e) = calls::download_record(&r).await {
                error.set(Some(format!("{}: {}", r.title, e.message)));
            }
            reload();
        });
    };
    view! {
        <section class="card" aria-labelledby="records-h">
            <div class="title-row">
                <h2 id="records-h">"Records"</h2>
                <button type="button" class="secondary" id="request-all" on:click=move |_| open.set(Some(Open::Request(None)))>"Request access to all"</button>
            </div>
            {move || notice.get().map(|n| view! { <p class="notice success" role="status">{n}</p> })}
            <ErrorSlot error=error/>
            <Transition fallback=|| view! { <Loading what="records"/> }>
                {move || data.get().map(|(records, grants, requests)| {
                    let records = match records {
                        Ok(r) => r.items,
                        Err(e) => return view! { <ErrorText error=e/> }.into_any(),
                    };
                    let grants = grants.unwrap_or_default();
                    let pending: Vec<AccessRequest> = requests
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|r| r.patient_id == patient_id && r.status == AccessRequestStatus::Pending)
                        .collect();
                    if records.is_empty() {
                        return view! { <p>"No records yet."</p> }.into_any();
                    }
                    let pending_for = move |rec: Uuid| pending.iter().find(|q| q.record_id.is_none_or(|r| r == rec)).cloned();
                    view! {
                        <div class="table-wrap">
                        <table id="doctor-records">
                            <thead><tr><th>"Title"</th><th>"Category"</th><th>"Report date"</th><th>"Size"</th><th>"Access"</th></tr></thead>
                            <tbody>
                                {records.into_iter().map(|rec| {
                                    let grant = live_grant_for(&grants, patient_id, rec.id);
                                    let waiting = pending_for(rec.id);
                                    let title = rec.title.clone();
                                    let rid = rec.id;
                                    let access = match (grant, waiting) {
                                        (Some(g), _) => {
                                            let rec2 = rec.clone();
                                            view! {
                                                <button type="button" class="primary download" on:click=move |_| download(rec2.clone())>"Download"</button>
                                                <span class="small">{move || format!(
                                                    " {} left · {} of {} downloads used",
                                                    format::time_left(g.expires_at, now.get()), g.downloads_used, g.max_downloads
                                                )}</span>
                                            }.into_any()
                                        }
                                        (None, Some(q)) => view! {
                                            <span class="badge pending">"Waiting for consent"</span>" "
                                            <button type="button" class="primary enter-code" on:click=move |_| open.set(Some(Open::Code(q.clone())))>"Enter code"</button>
                                        }.into_any(),
                                        (None, None) => view! {
                                            <button type="button" class="secondary request-access" on:click=move |_| open.set(Some(Open::Request(Some((rid, title.clone())))))>"Request access"</button>
                                        }.into_any(),
                                    };
                                    view! {
                                        <tr data-record=rec.id.to_string()>
                                            <td>{rec.title.clone()}</td>
                                            <td>{rec.category.label()}</td>
                                            <td>{rec.report_date.to_string()}</td>
                                            <td>{format::bytes(rec.size_bytes)}</td>
                                            <td class="row-actions">{access}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    }.into_any()
                })}
            </Transition>
        </section>
        {move || open.get().map(|o| {
            let close = Callback::new(move |()| open.set(None));
            match o {
                Open::Request(record) => view! {
                    <RequestAccessDialog patient_id=patient_id record=record on_close=close
                        on_created=Callback::new(move |req: AccessRequest| {
                            notice.set(Some("Request sent. Ask the patient for their code.".into()));
                            reload();
                            open.set(Some(Open::Code(req)));
                        })/>
                }.into_any(),
                Open::Code(req) => view! {
                    <CodeDialog request=req on_close=Callback::new(move |()| { open.set(None); reload(); })
                        on_granted=Callback::new(move |_| {
                            notice.set(Some("Access granted. You can download now.".into()));
                            open.set(None);
                            reload();
                        })/>
                }.into_any(),
            }
        })}
    }
}

#[component]
fn NotesSection(patient_id: Uuid) -> impl IntoView {
    let version = RwSignal::new(0_u32);
    let notes = LocalResource::new(move || {
        version.track();
        async move { calls::doctor_notes(patient_id).await }
    });
    let date = RwSignal::new(today().to_string());
    let symptoms = RwSignal::new(String::new());
    let diagnosis = RwSignal::new(String::new());
    let prescription = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let form = FormState::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Checks::new();
        let visit_date = c.check(
            "visit_date",
            validate::past_date(&date.get_untracked(), today()),
        );
        c.check(
            "symptoms",
            validate::required(&symptoms.get_untracked(), 4000),
        );
        c.check(
            "diagnosis",
            validate::required(&diagnosis.get_untracked(), 4000),
        );
        c.check(
            "prescription",
            validate::optional(&prescription.get_untracked(), 4000),
        );
        c.check("notes", validate::optional(&text.get_untracked(), 10_000));
        if let Err(errs) = c.finish() {
            return form.invalid(errs);
        }
        let Some(visit_date) = visit_date else { return };
        if !form.start() {
            return;
        }
        let note = CreateVisitNote {
            visit_date,
            symptoms: symptoms.get_untracked().trim().to_string(),
            diagnosis: diagnosis.get_untracked().trim().to_string(),
            prescription: prescription.get_untracked().trim().to_string(),
            notes: text.get_untracked().trim().to_string(),
        };
        spawn_local(async move {
            match calls::doctor_add_note(patient_id, &note).await {
                Ok(_) => {
                    form.done();
                    for s in [symptoms, diagnosis, prescription, text] {
                        s.set(String::new());
                    }
                    version.update(|v| *v += 1);
                }
                Err(e) => form.fail(&e),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="notes-h">
            <h2 id="notes-h">"Visit notes"</h2>
            <Transition fallback=|| view! { <Loading what="notes"/> }>
                {move || notes.get().map(|r| match r {
                    Err(e) => view! { <ErrorText error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p>"No visit notes yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="timeline">
                            {list.into_iter().map(|n| view! {
                                <li>
                                    <span class="kind">{format!("Visit {} · {}", n.visit_date, n.doctor_name)}</span>
                                    <p><strong>"Symptoms: "</strong>{n.symptoms}</p>
                                    <p><strong>"Diagnosis: "</strong>{n.diagnosis}</p>
                                    {(!n.prescription.is_empty()).then(|| view! { <p><strong>"Prescription: "</strong>{n.prescription.clone()}</p> })}
                                    {(!n.notes.is_empty()).then(|| view! { <p>{n.notes.clone()}</p> })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
            <h3>"Add a visit note"</h3>
            <form id="note-form" on:submit=submit novalidate=true>
                <Field label="Visit date" name="visit_date" kind="date" value=date form=form required=true/>
                <TextArea label="Symptoms" name="symptoms" value=symptoms form=form required=true/>
                <TextArea label="Diagnosis" name="diagnosis" value=diagnosis form=form required=true/>
                <TextArea label="Prescription" name="prescription" value=prescription form=form/>
                <TextArea label="Notes" name="notes" value=text form=form/>
                <Submit label="Add note" busy_label="Saving…" form=form/>
            </form>
        </section>
    }
}
