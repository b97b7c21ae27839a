//! How a visit note reads, the same on the patient's timeline and in the doctor's list.

use leptos::prelude::*;

use crate::api::dto::VisitNote;

/// Symptoms, diagnosis, and the prescription and notes when there are any, one paragraph each.
#[component]
pub fn VisitNoteText(
    /// The note.
    note: VisitNote,
) -> impl IntoView {
    let n = note;
    view! {
        <p><strong>"Symptoms: "</strong>{n.symptoms}</p>
        <p><strong>"Diagnosis: "</strong>{n.diagnosis}</p>
        {(!n.prescription.is_empty()).then(|| view! { <p><strong>"Prescription: "</strong>{n.prescription.clone()}</p> })}
        {(!n.notes.is_empty()).then(|| view! { <p>{n.notes.clone()}</p> })}
    }
}
