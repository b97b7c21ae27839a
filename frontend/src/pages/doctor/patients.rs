//! Doctor: the patients in my care (search), and adding a patient (temporary password once).

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::calls;
use crate::pages::people::{PatientFields, PatientInputs, PeopleSearch, SearchForm, patient_name};
use crate::ui::form::{FormState, Submit};
use crate::ui::load::AsyncList;
use crate::ui::widgets::{Dialog, HandedOver, Pager, TemporaryPasswordNotice};

const PER_PAGE: u32 = 20;

/// `/doctor`.
#[component]
pub fn MyPatients() -> impl IntoView {
    let search = PeopleSearch::new();
    let list = search.load(|q, p| async move { calls::doctor_patients(&q, p, PER_PAGE).await });
    let adding = RwSignal::new(false);
    let temp = RwSignal::new(None::<HandedOver>);
    view! {
        <div class="title-row">
            <h1>"My patients"</h1>
            <button type="button" class="primary" id="add-patient" on:click=move |_| { temp.set(None); adding.set(true); }>"Add patient"</button>
        </div>
        {move || temp.get().map(|(who, pw)| view! { <TemporaryPasswordNotice who=who password=pw/> })}
        <SearchForm search=search id="my-patient-search"/>
        <AsyncList resource=list what="patients" empty="No patients in your care match." let:p>
            <div class="table-wrap">
            <table>
                <thead><tr><th>"Name"</th><th>"MRN"</th><th>"Date of birth"</th><th>"E-mail"</th></tr></thead>
                <tbody>
                    {p.items.into_iter().map(|pt| { let name = patient_name(&pt); view! {
                        <tr>
                            <td><A href=format!("/doctor/patients/{}", pt.id)>{name}</A></td>
                            <td class="mono">{pt.mrn.clone()}</td>
                            <td>{pt.date_of_birth.to_string()}</td>
                            <td>{pt.email.clone()}</td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
            </div>
            <Pager page=search.page total=p.total per_page=PER_PAGE/>
        </AsyncList>
        <Show when=move || adding.get()>
            <AddPatientDialog
                on_close=Callback::new(move |()| adding.set(false))
                on_saved=Callback::new(move |t| { adding.set(false); temp.set(Some(t)); search.reload(); })/>
        </Show>
    }
}

/// The add-patient dialog.
#[component]
fn AddPatientDialog(on_close: Callback<()>, on_saved: Callback<HandedOver>) -> impl IntoView {
    let fields = PatientFields::new(None);
    let form = FormState::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.send(
            fields.create(),
            |body| async move {
                calls::doctor_create_patient(&body)
                    .await
                    .map(|created| (created.patient.email, created.temporary_password))
            },
            on_saved,
        );
    };
    view! {
        <Dialog title="Add patient".to_string() on_close=on_close>
            <form id="patient-form" on:submit=submit novalidate=true>
                <PatientInputs fields=fields form=form/>
                <Submit label="Add patient" busy_label="Adding…" form=form/>
            </form>
        </Dialog>
    }
}
