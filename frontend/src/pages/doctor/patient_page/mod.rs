//! Doctor: one patient in care, or reached under the doctor's live emergency access.
//! Demographics, visit notes (with an add form for a patient in care), the records list with
//! request-access, enter-code and download-while-the-grant-lasts; under emergency access, a
//! banner saying so and downloads without consent, but no care actions.

mod notes;
mod records;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::dto::{EmergencyAccess, Patient, UserId};
use crate::api::{ApiError, calls};
use crate::logic::{emergency, format};
use crate::pages::people::{patient_name, sex_label};
use crate::state::use_auth;
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

/// The patient and what lets this doctor see them: care, or a live emergency access (or both).
#[derive(Clone)]
struct Reach {
    patient: Patient,
    /// The patient is in this doctor's care (care actions: requests by id, visit notes).
    in_care: bool,
    /// This doctor's live emergency access to the patient.
    emergency: Option<EmergencyAccess>,
}

impl Reach {
    /// The patient, or why they could not be read; emergency accesses that fail to load count
    /// as none.
    async fn load(id: UserId, doctor: Option<UserId>) -> Result<Self, ApiError> {
        let patient = calls::doctor_patient(id).await?;
        let emergency = calls::list_emergencies(false, 1, 100)
            .await
            .ok()
            .and_then(|page| emergency::live_for(&page.items, id));
        Ok(Self {
            in_care: doctor.is_some_and(|d| patient.doctor_ids.contains(&d)),
            patient,
            emergency,
        })
    }
}

#[component]
fn PatientView(id: UserId) -> impl IntoView {
    let me = use_auth().user.with_untracked(|u| u.as_ref().map(|u| u.id));
    let reach = LocalResource::new(move || Reach::load(id, me));
    view! {
        <AsyncView resource=reach what="patient" error_heading="Patient" let:r>
            <h1>{patient_name(&r.patient)}</h1>
            {r.emergency.clone().map(|e| view! { <EmergencyBanner access=e/> })}
            <Demographics patient=r.patient.clone()/>
            <RecordsSection patient_id=id in_care=r.in_care emergency=r.emergency.is_some()/>
            <NotesSection patient_id=id in_care=r.in_care/>
        </AsyncView>
    }
}

/// Says the page is open under emergency access: why, until when, and that it is watched.
#[component]
fn EmergencyBanner(access: EmergencyAccess) -> impl IntoView {
    view! {
        <div class="notice warn" id="emergency-banner" role="status">
            <p>
                <strong>"Emergency access"</strong>
                {format!(
                    " ({}), until {}. Every read is recorded, the patient has been told, and an administrator reviews it. ",
                    access.reason.label(),
                    format::datetime(access.expires_at)
                )}
                <a href="/doctor/emergency">"End it when you are done"</a>"."
            </p>
        </div>
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
