//! Admin: doctors. Search, page, add (temporary password shown once), edit, deactivate,
//! reactivate, reset password, lift a sign-in lock, remove the sign-in authenticator app.

use leptos::prelude::*;

use super::accounts::AccountActions;
use crate::api::{calls, dto::Doctor};
use crate::pages::people::{DoctorFields, DoctorInputs, PeopleSearch, SearchForm};
use crate::ui::form::{FormState, Submit};
use crate::ui::load::AsyncList;
use crate::ui::widgets::{Dialog, ErrorSlot, HandedOver, Pager, TemporaryPasswordNotice};

const PER_PAGE: u32 = 20;

/// What the dialog shows.
#[derive(Clone)]
enum Editing {
    New,
    Existing(Doctor),
}

/// `/admin/doctors`.
#[component]
pub fn Doctors() -> impl IntoView {
    let search = PeopleSearch::new();
    let list = search.load(|q, p| async move { calls::admin_doctors(&q, p, PER_PAGE).await });
    let editing = RwSignal::new(None::<Editing>);
    let actions = AccountActions::new();
    let (temp, row_error) = (actions.temp, actions.error);
    let reload = move || search.reload();
    let edit = Callback::new(move |d: Doctor| {
        temp.set(None);
        editing.set(Some(Editing::Existing(d)));
    });
    let toggle = Callback::new(move |d: Doctor| {
        actions.toggle_active(d.id, d.active, d.full_name, reload);
    });
    let reset = Callback::new(move |d: Doctor| {
        actions.reset_password(d.id, d.email, d.full_name);
    });
    let unlock = Callback::new(move |d: Doctor| actions.unlock(d.id, d.full_name));
    let reset_mfa = Callback::new(move |d: Doctor| actions.reset_mfa(d.id, d.full_name));
    let done = actions.done;

    view! {
        <div class="title-row">
            <h1>"Doctors"</h1>
            <button type="button" class="primary" id="add-doctor" on:click=move |_| { temp.set(None); editing.set(Some(Editing::New)); }>"Add doctor"</button>
        </div>
        {move || temp.get().map(|(who, pw)| view! { <TemporaryPasswordNotice who=who password=pw/> })}
        <SearchForm search=search id="doctor-search"/>
        <ErrorSlot error=row_error/>
        {move || done.get().map(|m| view! { <p class="notice success" role="status" id="row-done">{m}</p> })}
        <AsyncList resource=list what="doctors" empty="No doctors found." let:p>
            <div class="table-wrap">
            <table>
                <thead><tr><th>"Name"</th><th>"E-mail"</th><th>"Specialty"</th><th>"Status"</th><th>"Actions"</th></tr></thead>
                <tbody>
                    {p.items.into_iter().map(|d| view! { <DoctorRow doctor=d edit=edit toggle=toggle reset=reset unlock=unlock reset_mfa=reset_mfa/> }).collect_view()}
                </tbody>
            </table>
            </div>
            <Pager page=search.page total=p.total per_page=PER_PAGE/>
        </AsyncList>
        {move || editing.get().map(|e| view! {
            <DoctorDialog editing=e on_close=Callback::new(move |()| editing.set(None))
                on_saved=Callback::new(move |t: Option<HandedOver>| { editing.set(None); temp.set(t); reload(); })/>
        })}
    }
}

/// One doctor with the row's buttons: edit, deactivate or reactivate, reset the password,
/// lift a sign-in lock, remove the sign-in authenticator app.
#[component]
fn DoctorRow(
    doctor: Doctor,
    edit: Callback<Doctor>,
    toggle: Callback<Doctor>,
    reset: Callback<Doctor>,
    unlock: Callback<Doctor>,
    reset_mfa: Callback<Doctor>,
) -> impl IntoView {
    let d = doctor;
    let (d1, d2, d3, d4, d5) = (d.clone(), d.clone(), d.clone(), d.clone(), d.clone());
    view! {
        <tr>
            <td>{d.full_name.clone()}</td>
            <td>{d.email.clone()}</td>
            <td>{d.specialty.clone()}</td>
            <td>{if d.active { "Active" } else { "Deactivated" }}</td>
            <td class="row-actions">
                <button type="button" class="secondary edit" on:click=move |_| edit.run(d1.clone())>"Edit"</button>
                <button type="button" class="secondary toggle-active" on:click=move |_| toggle.run(d2.clone())>{if d.active { "Deactivate" } else { "Reactivate" }}</button>
                <button type="button" class="secondary reset-password" on:click=move |_| reset.run(d3.clone())>"Reset password"</button>
                <button type="button" class="secondary unlock" on:click=move |_| unlock.run(d4.clone())>"Unlock sign-in"</button>
                <button type="button" class="secondary reset-mfa" on:click=move |_| reset_mfa.run(d5.clone())>"Reset authenticator"</button>
            </td>
        </tr>
    }
}

/// Add or edit a doctor in a dialog.
#[component]
fn DoctorDialog(
    editing: Editing,
    on_close: Callback<()>,
    /// Called with the temporary password of a new doctor.
    on_saved: Callback<Option<HandedOver>>,
) -> impl IntoView {
    let existing = match &editing {
        Editing::New => None,
        Editing::Existing(d) => Some(d.clone()),
    };
    let fields = DoctorFields::new(existing.as_ref());
    let form = FormState::new();
    let is_new = existing.is_none();
    let existing_id = existing.as_ref().map(|d| d.id);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(id) = existing_id {
            let request = move |body| async move {
                calls::admin_update_doctor(id, &body).await.map(|_| None)
            };
            form.send(fields.update(), request, on_saved);
        } else {
            let request = |body| async move {
                calls::admin_create_doctor(&body)
                    .await
                    .map(|t| Some((t.doctor.email, t.temporary_password)))
            };
            form.send(fields.create(), request, on_saved);
        }
    };
    let title = if is_new { "Add doctor" } else { "Edit doctor" };
    view! {
        <Dialog title=title.to_string() on_close=on_close>
            <form id="doctor-form" on:submit=submit novalidate=true>
                <DoctorInputs fields=fields form=form/>
                <Submit label=if is_new { "Add doctor" } else { "Save" } busy_label="Saving…" form=form/>
            </form>
        </Dialog>
    }
}
