//! Patient: my details, with the contact fields editable; above them, any emergency access to
//! my records, with its justification and its review.

use leptos::prelude::*;

use crate::api::calls;
use crate::api::dto::{EmergencyAccess, Patient, UpdateContact};
use crate::logic::emergency;
use crate::logic::validate::{self, Checks, blank_to_none};
use crate::pages::emergency_view::{EmergencyStatus, ReviewLine};
use crate::pages::people::{patient_name, sex_label};
use crate::ui::form::{Field, FormState, Submit};
use crate::ui::load::{AsyncView, Reload};

/// `/patient`.
#[component]
pub fn Details() -> impl IntoView {
    let reload = Reload::new();
    let profile = reload.load(|| async { calls::my_profile().await });
    let emergencies = LocalResource::new(|| async { calls::list_emergencies(false, 1, 100).await });
    view! {
        <h1>"My details"</h1>
        <AsyncView resource=emergencies what="notices" let:p>
            <EmergencyNotice accesses=p.items/>
        </AsyncView>
        <AsyncView resource=profile what="your details" let:p>
            <Facts patient=p.clone()/>
            <ContactForm patient=p on_saved=reload.callback()/>
        </AsyncView>
    }
}

/// Every emergency access to the patient's records, when there is any; an alert while one is
/// live or not yet reviewed.
#[component]
fn EmergencyNotice(accesses: Vec<EmergencyAccess>) -> impl IntoView {
    let attention = emergency::attention_count(&accesses) > 0;
    (!accesses.is_empty()).then(|| {
        view! {
            <section id="emergency-notice" class=if attention { "notice warn" } else { "notice info" }
                role=attention.then_some("alert") aria-labelledby="emergency-notice-h">
                <h2 id="emergency-notice-h">"Emergency access to your records"</h2>
                <p>"A doctor may open your records without your consent only when you cannot give it. Each time is recorded and reviewed by an administrator; what they read is listed in "<a href="/patient/access-log">"Who saw my records"</a>"."</p>
                <ul class="emergency-items">
                    {accesses.into_iter().map(|a| view! { <EmergencyItem access=a/> }).collect_view()}
                </ul>
            </section>
        }
    })
}

/// One emergency access as the patient is told: who, when, why, until when, the doctor's
/// justification and the review.
#[component]
fn EmergencyItem(access: EmergencyAccess) -> impl IntoView {
    let a = access;
    view! {
        <li class="emergency-item" data-emergency=a.id.to_string()>
            <p><strong>{emergency::opened_text(&a)}</strong></p>
            <p><EmergencyStatus active=a.active/>" "{emergency::period(&a)}</p>
            <p class="emergency-justification">"Their justification: "{a.justification.clone()}</p>
            <p><ReviewLine review=a.review.clone()/></p>
        </li>
    }
}

#[component]
fn Facts(patient: Patient) -> impl IntoView {
    let num = |v: Option<f64>, unit: &str| v.map_or_else(|| "–".into(), |n| format!("{n} {unit}"));
    view! {
        <section class="card" aria-labelledby="facts-h">
            <h2 id="facts-h">{patient_name(&patient)}</h2>
            <dl class="facts">
                <dt>"Medical record number"</dt><dd class="mono" id="my-mrn">{patient.mrn.clone()}</dd>
                <dt>"E-mail"</dt><dd>{patient.email.clone()}</dd>
                <dt>"Date of birth"</dt><dd>{patient.date_of_birth.to_string()}</dd>
                <dt>"Sex"</dt><dd>{sex_label(patient.sex)}</dd>
                <dt>"Blood group"</dt><dd>{patient.blood_group.map_or("–", |b| b.as_str())}</dd>
                <dt>"Height"</dt><dd>{num(patient.height_cm, "cm")}</dd>
                <dt>"Weight"</dt><dd>{num(patient.weight_kg, "kg")}</dd>
                <dt>"Allergies"</dt><dd>{patient.allergies.clone().unwrap_or_else(|| "–".into())}</dd>
            </dl>
            <p class="hint">"Ask your doctor or the clinic to correct anything above."</p>
        </section>
    }
}

#[component]
fn ContactForm(patient: Patient, on_saved: Callback<()>) -> impl IntoView {
    let s = |v: &Option<String>| RwSignal::new(v.clone().unwrap_or_default());
    let phone = s(&patient.phone);
    let address = s(&patient.address);
    let city = s(&patient.city);
    let state = s(&patient.state);
    let postal = s(&patient.postal_code);
    let emergency = s(&patient.emergency_contact);
    let form = FormState::new();
    let saved = RwSignal::new(false);
    let done = Callback::new(move |_: Patient| {
        saved.set(true);
        on_saved.run(());
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let g = |s: RwSignal<String>| s.get_untracked();
        let mut c = Checks::new();
        c.check("phone", validate::phone(&g(phone)));
        c.check("address", validate::optional(&g(address), 200));
        c.check("city", validate::optional(&g(city), 100));
        c.check("state", validate::optional(&g(state), 100));
        c.check("postal_code", validate::optional(&g(postal), 10));
        c.check("emergency_contact", validate::optional(&g(emergency), 200));
        let body = c.finish().map(|()| UpdateContact {
            phone: Some(blank_to_none(&g(phone))),
            address: Some(blank_to_none(&g(address))),
            city: Some(blank_to_none(&g(city))),
            state: Some(blank_to_none(&g(state))),
            postal_code: Some(blank_to_none(&g(postal))),
            emergency_contact: Some(blank_to_none(&g(emergency))),
        });
        let request = |body: UpdateContact| async move { calls::update_my_profile(&body).await };
        form.send(body, request, done);
    };
    view! {
        <section class="card" aria-labelledby="contact-h">
            <h2 id="contact-h">"Contact details"</h2>
            <Show when=move || saved.get()>
                <p class="notice success" role="status">"Saved."</p>
            </Show>
            <form id="contact-form" on:submit=submit novalidate=true>
                <div class="grid2">
                    <Field label="Phone" name="phone" kind="tel" autocomplete="tel" value=phone form=form/>
                    <Field label="Address" name="address" autocomplete="street-address" value=address form=form/>
                    <Field label="City" name="city" autocomplete="address-level2" value=city form=form/>
                    <Field label="State" name="state" autocomplete="address-level1" value=state form=form/>
                    <Field label="Postal code" name="postal_code" autocomplete="postal-code" value=postal form=form/>
                    <Field label="Emergency contact" name="emergency_contact" value=emergency form=form/>
                </div>
                <Submit label="Save contact details" busy_label="Saving…" form=form/>
            </form>
        </section>
    }
}
