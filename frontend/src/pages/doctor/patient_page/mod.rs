//! Doctor: one patient in care. Demographics, visit notes with an add form, the records list
//! with request-access, enter-code and download-while-the-grant-lasts.

mod notes;
mod records;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::calls;
use crate::api::dto::{Patient, UserId};
use crate::pages::people::{patient_name, sex_label};
use crate::ui::load::AsyncView;
use notes::NotesSection;
use records::RecordsSection;

/// `/doctor/patients/:id`.
#[component]
pub fn PatientPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<UserId>().ok()));
    move || match id() {
        None => view! { <h1>"Patient not found"</h1> }.into_any(),
        Some(id) => view! { <PatientView id=id/> }.into_any(),
    }
}

#[component]
fn PatientView(id: UserId) -> impl IntoView {
    let patient = LocalResource::new(move || async move { calls::doctor_patient(id).await });
    view! {
        <AsyncView resource=patient what="patient" error_heading="Patient" let:p>
            <h1>{patient_name(&p)}</h1>
            <Demographics patient=p.clone()/>
            <RecordsSection patient_id=p.id/>
            <NotesSection patient_id=id/>
        </AsyncView>
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
