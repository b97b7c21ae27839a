//! Admin: patients. Search, page, add (temporary password shown once), edit, deactivate,
//! reactivate, reset password, lift a sign-in lock, remove the sign-in authenticator app, and
//! assign doctors to the patient's care.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::accounts::AccountActions;
use crate::api::{calls, dto::Doctor, dto::Patient, dto::UserId};
use crate::pages::people::{PatientFields, PatientInputs, PeopleSearch, SearchForm, patient_name};
use crate::ui::form::{FormState, Submit};
use crate::ui::load::{AsyncList, AsyncView};
use crate::ui::widgets::{Dialog, ErrorSlot, HandedOver, Pager, TemporaryPasswordNotice};

const PER_PAGE: u32 = 20;

#[derive(Clone)]
enum Open {
    New,
    Edit(Patient),
    Care(Patient),
}

/// `/admin/patients`.
#[component]
pub fn Patients() -> impl IntoView {
    let search = PeopleSearch::new();
    let list = search.load(|q, p| async move { calls::admin_patients(&q, p, PER_PAGE).await });
    let open = RwSignal::new(None::<Open>);
    let actions = AccountActions::new();
    let (temp, row_error) = (actions.temp, actions.error);
    let reload = move || search.reload();
    let toggle = Callback::new(move |p: Patient| {
        actions.toggle_active(p.id, p.active, patient_name(&p), reload);
    });
    let reset = Callback::new(move |p: Patient| {
        let name = patient_name(&p);
        actions.reset_password(p.id, p.email, name);
    });
    let unlock = Callback::new(move |p: Patient| actions.unlock(p.id, patient_name(&p)));
    let reset_mfa = Callback::new(move |p: Patient| actions.reset_mfa(p.id, patient_name(&p)));
    let done = actions.done;

    view! {
        <div class="title-row">
            <h1>"Patients"</h1>
            <button type="button" class="primary" id="add-patient" on:click=move |_| { temp.set(None); open.set(Some(Open::New)); }>"Add patient"</button>
        </div>
        {move || temp.get().map(|(who, pw)| view! { <TemporaryPasswordNotice who=who password=pw/> })}
        <SearchForm search=search id="patient-search"/>
        <ErrorSlot error=row_error/>
        {move || done.get().map(|m| view! { <p class="notice success" role="status" id="row-done">{m}</p> })}
        <AsyncList resource=list what="patients" empty="No patients found." let:pg>
            <div class="table-wrap">
            <table>
                <thead><tr><th>"Name"</th><th>"MRN"</th><th>"E-mail"</th><th>"Status"</th><th>"Actions"</th></tr></thead>
                <tbody>
                    {pg.items.into_iter().map(|p| view! { <PatientRow patient=p open=open temp=temp toggle=toggle reset=reset unlock=unlock reset_mfa=reset_mfa/> }).collect_view()}
                </tbody>
            </table>
            </div>
            <Pager page=search.page total=pg.total per_page=PER_PAGE/>
        </AsyncList>
        {move || open.get().map(|o| {
            let close = Callback::new(move |()| open.set(None));
            match o {
                Open::Care(p) => view! { <CareDialog patient=p on_close=Callback::new(move |()| { open.set(None); reload(); })/> }.into_any(),
                Open::New => view! { <PatientDialog existing=None on_close=close
                    on_saved=Callback::new(move |t| { open.set(None); temp.set(t); reload(); })/> }.into_any(),
                Open::Edit(p) => view! { <PatientDialog existing=Some(p) on_close=close
                    on_saved=Callback::new(move |t| { open.set(None); temp.set(t); reload(); })/> }.into_any(),
            }
        })}
    }
}

/// One patient with the row's buttons: edit, the doctors in care, deactivate or reactivate,
/// reset the password, lift a sign-in lock, remove the sign-in authenticator app.
#[component]
fn PatientRow(
    patient: Patient,
    /// The page's dialog.
    open: RwSignal<Option<Open>>,
    /// The page's temporary password notice (editing hides it).
    temp: RwSignal<Option<HandedOver>>,
    toggle: Callback<Patient>,
    reset: Callback<Patient>,
    unlock: Callback<Patient>,
    reset_mfa: Callback<Patient>,
) -> impl IntoView {
    let p = patient;
    let (p1, p2, p3, p4, p5, p6) = (
        p.clone(),
        p.clone(),
        p.clone(),
        p.clone(),
        p.clone(),
        p.clone(),
    );
    view! {
        <tr>
            <td>{patient_name(&p)}</td>
            <td class="mono">{p.mrn.clone()}</td>
            <td>{p.email.clone()}</td>
            <td>{if p.active { "Active" } else { "Deactivated" }}</td>
            <td class="row-actions">
                <button type="button" class="secondary edit" on:click=move |_| { temp.set(None); open.set(Some(Open::Edit(p1.clone()))); }>"Edit"</button>
                <button type="button" class="secondary care" on:click=move |_| open.set(Some(Open::Care(p4.clone())))>"Doctors"</button>
                <button type="button" class="secondary toggle-active" on:click=move |_| toggle.run(p2.clone())>{if p.active { "Deactivate" } else { "Reactivate" }}</button>
                <button type="button" class="secondary reset-password" on:click=move |_| reset.run(p3.clone())>"Reset password"</button>
                <button type="button" class="secondary unlock" on:click=move |_| unlock.run(p5.clone())>"Unlock sign-in"</button>
                <button type="button" class="secondary reset-mfa" on:click=move |_| reset_mfa.run(p6.clone())>"Reset authenticator"</button>
            </td>
        </tr>
    }
}

/// Add or edit a patient: identity and contact only (clinical data is the doctor's to enter).
#[component]
fn PatientDialog(
    existing: Option<Patient>,
    on_close: Callback<()>,
    on_saved: Callback<Option<HandedOver>>,
) -> impl IntoView {
    let fields = PatientFields::identity_only(existing.as_ref());
    let form = FormState::new();
    let is_new = existing.is_none();
    let existing_id = existing.as_ref().map(|p| p.id);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(id) = existing_id {
            let request = move |body| async move {
                calls::admin_update_patient(id, &body).await.map(|_| None)
            };
            form.send(fields.update(), request, on_saved);
        } else {
            let request = |body| async move {
                calls::admin_create_patient(&body)
                    .await
                    .map(|t| Some((t.patient.email, t.temporary_password)))
            };
            form.send(fields.create(), request, on_saved);
        }
    };
    view! {
        <Dialog title=(if is_new { "Add patient" } else { "Edit patient" }).to_string() on_close=on_close>
            <form id="patient-form" on:submit=submit novalidate=true>
                <PatientInputs fields=fields form=form/>
                <Submit label=if is_new { "Add patient" } else { "Save" } busy_label="Saving…" form=form/>
            </form>
        </Dialog>
    }
}

/// Which doctors care for a patient: assign and unassign.
#[component]
fn CareDialog(patient: Patient, on_close: Callback<()>) -> impl IntoView {
    let patient_id = patient.id;
    let assigned = RwSignal::new(patient.doctor_ids.clone());
    let doctors = LocalResource::new(|| async { calls::admin_doctors("", 1, 100).await });
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let change = Callback::new(move |(doctor, add): (UserId, bool)| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let r = if add {
                calls::admin_assign_doctor(patient_id, doctor).await
            } else {
                calls::admin_unassign_doctor(patient_id, doctor).await
            };
            busy.set(false);
            match r {
                Ok(_) => assigned.update(|a| {
                    a.retain(|d| *d != doctor);
                    if add {
                        a.push(doctor);
                    }
                }),
                Err(e) => error.set(Some(e.message)),
            }
        });
    });
    view! {
        <Dialog title=format!("Doctors caring for {}", patient_name(&patient)) on_close=on_close>
            <AsyncView resource=doctors what="doctors" let:page>
                <InCare all=page.items.clone() assigned=assigned change=change/>
                <AssignDoctor all=page.items busy=busy error=error change=change/>
            </AsyncView>
            <ErrorSlot error=error/>
        </Dialog>
    }
}

/// The doctors now in care, each with "Remove".
#[component]
fn InCare(
    /// Every doctor (for names).
    all: Vec<Doctor>,
    /// Ids of the doctors in care.
    assigned: RwSignal<Vec<UserId>>,
    /// Assign (`true`) or unassign a doctor.
    change: Callback<(UserId, bool)>,
) -> impl IntoView {
    view! {
        <ul class="plain">
            {move || {
                let ids = assigned.get();
                if ids.is_empty() {
                    return view! { <li>"No doctor assigned yet."</li> }.into_any();
                }
                ids.into_iter().map(|id| {
                    let name = all.iter().find(|d| d.id == id).map_or_else(|| id.to_string(), |d| d.full_name.clone());
                    view! { <li class="in-care">{name}" "<button type="button" class="link" on:click=move |_| change.run((id, false))>"Remove"</button></li> }
                }).collect_view().into_any()
            }}
        </ul>
    }
}

/// "Add a doctor": a choice of the active doctors and "Assign".
#[component]
fn AssignDoctor(
    /// Every doctor.
    all: Vec<Doctor>,
    /// A change is on its way (the button waits).
    busy: RwSignal<bool>,
    /// Where "choose first" goes.
    error: RwSignal<Option<String>>,
    /// Assign (`true`) or unassign a doctor.
    change: Callback<(UserId, bool)>,
) -> impl IntoView {
    let choice = RwSignal::new(String::new());
    view! {
        <div class="field">
            <label for="assign-doctor">"Add a doctor"</label>
            <select id="assign-doctor" on:change=move |ev| choice.set(event_target_value(&ev))>
                <option value="">"Choose…"</option>
                {all.into_iter().filter(|d| d.active).map(|d| view! { <option value=d.id.to_string()>{format!("{} ({})", d.full_name, d.specialty)}</option> }).collect_view()}
            </select>
        </div>
        <button type="button" class="primary" id="assign-doctor-button" disabled=move || busy.get() on:click=move |_| {
            match choice.get_untracked().parse::<UserId>() {
                Ok(id) => change.run((id, true)),
                Err(_) => error.set(Some("Choose a doctor first.".into())),
            }
        }>"Assign"</button>
    }
}
