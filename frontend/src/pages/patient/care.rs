//! Patient: my doctors. The doctors who have me in their care and how that began, adding a
//! doctor by e-mail, and removing one (which ends that doctor's live grants too).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::dto::{CareDoctor, UserId};
use crate::api::{ApiError, calls};
use crate::logic::validate::{self, Checks};
use crate::logic::wording;
use crate::ui::form::{Field, FormState, Submit};
use crate::ui::load::{AsyncList, Reload};
use crate::ui::widgets::{Dialog, ErrorSlot};

/// `/patient/doctors`.
#[component]
pub fn MyDoctors() -> impl IntoView {
    let reload = Reload::new();
    let doctors = reload.load(|| async { calls::my_care().await });
    let removing = RwSignal::new(None::<CareDoctor>);
    view! {
        <h1>"My doctors"</h1>
        <p>"Doctors who have you in their care see your details, the list of your records and their own visit notes. To open a record or read other doctors' notes they still need your consent."</p>
        <section class="card" aria-labelledby="care-h">
            <h2 id="care-h">"Caring for you"</h2>
            <AsyncList resource=doctors what="your doctors" empty="No doctor has you in their care." let:list>
                <div class="table-wrap"><table id="my-doctors">
                    <thead><tr><th>"Doctor"</th><th>"E-mail"</th><th>"How"</th><th>"Since"</th><th></th></tr></thead>
                    <tbody>{list.into_iter().map(|d| view! { <DoctorRow doctor=d removing=removing/> }).collect_view()}</tbody>
                </table></div>
            </AsyncList>
        </section>
        <section class="card" aria-labelledby="add-doctor-h">
            <h2 id="add-doctor-h">"Add a doctor"</h2>
            <AddDoctorForm on_added=reload.callback()/>
        </section>
        {move || removing.get().map(|d| view! {
            <RemoveDialog doctor=d on_close=Callback::new(move |()| removing.set(None))
                on_removed=Callback::new(move |()| { removing.set(None); reload.reload(); })/>
        })}
    }
}

/// One doctor caring for the patient: name, e-mail, how and since when, and "Remove".
#[component]
fn DoctorRow(
    doctor: CareDoctor,
    /// Where "Remove" puts the doctor to confirm.
    removing: RwSignal<Option<CareDoctor>>,
) -> impl IntoView {
    let d = doctor;
    let d1 = d.clone();
    view! {
        <tr data-doctor=d.doctor_id.to_string()>
            <td>{d.doctor_name.clone()}</td>
            <td>{d.email.clone()}</td>
            <td>{wording::care_origin(d.origin)}</td>
            <td>{d.since.date_naive().to_string()}</td>
            <td><button type="button" class="secondary remove-doctor" on:click=move |_| removing.set(Some(d1.clone()))>"Remove"</button></td>
        </tr>
    }
}

/// Adds a doctor by sign-in e-mail; an unknown address is said under the field.
#[component]
fn AddDoctorForm(on_added: Callback<()>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let form = FormState::new();
    let added = Callback::new(move |_: Vec<CareDoctor>| {
        email.set(String::new());
        on_added.run(());
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Checks::new();
        c.check("email", validate::email(&email.get_untracked()));
        let body = c.finish().map(|()| email.get_untracked());
        form.send(body, add_doctor, added);
    };
    view! {
        <form id="add-doctor-form" on:submit=submit novalidate=true>
            <Field label="Doctor's e-mail" name="email" kind="email" value=email form=form required=true
                hint="The address your doctor signs in to medvault with."/>
            <Submit label="Add doctor" busy_label="Adding…" form=form/>
        </form>
    }
}

/// Adds the doctor of `email`; "not found" becomes a message under the e-mail field.
async fn add_doctor(email: String) -> Result<Vec<CareDoctor>, ApiError> {
    calls::add_care_doctor(&email).await.map_err(|mut e| {
        if e.status == 404 {
            e.message = "No doctor uses that e-mail address.".into();
            e.fields
                .insert("email".into(), "No doctor uses that e-mail address.".into());
        }
        e
    })
}

/// Confirms taking a doctor off the patient's doctors (out of care), saying their live grants end too.
#[component]
fn RemoveDialog(
    doctor: CareDoctor,
    on_close: Callback<()>,
    on_removed: Callback<()>,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let id: UserId = doctor.doctor_id;
    let confirm = move |_| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match calls::remove_care_doctor(id).await {
                Ok(_) => on_removed.run(()),
                Err(e) => {
                    busy.set(false);
                    error.set(Some(e.message));
                }
            }
        });
    };
    view! {
        <Dialog title=format!("Remove {} from your doctors?", doctor.doctor_name) on_close=on_close>
            <p>"They will no longer see your details or the list of your records. Any access you granted them that is still live ends now too."</p>
            <div class="actions">
                <button type="button" class="secondary" on:click=move |_| on_close.run(())>"Keep"</button>
                <button type="button" class="danger" id="confirm-remove-doctor" disabled=move || busy.get() on:click=confirm>
                    {move || if busy.get() { "Removing…" } else { "Remove" }}
                </button>
            </div>
            <ErrorSlot error=error/>
        </Dialog>
    }
}
