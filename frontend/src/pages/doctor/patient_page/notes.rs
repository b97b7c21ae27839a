//! The visit notes on a patient's page: the doctor's notes so far and the form that adds one.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::api::calls;
use crate::api::dto::{CreateVisitNote, UserId, VisitNote};
use crate::logic::validate::{self, Checks};
use crate::pages::visit_note::VisitNoteText;
use crate::ui::form::{Field, FormState, Submit, TextArea};
use crate::ui::load::{AsyncList, Reload};
use crate::ui::widgets::today;

/// The notes and, for a patient in the doctor's care, the add-a-note form; a new note shows in
/// the list at once.
#[component]
pub(super) fn NotesSection(
    patient_id: UserId,
    /// Only a doctor caring for the patient writes visit notes.
    in_care: bool,
) -> impl IntoView {
    let reload = Reload::new();
    let notes = reload.load(move || async move { calls::doctor_notes(patient_id).await });
    view! {
        <section class="card" aria-labelledby="notes-h">
            <h2 id="notes-h">"Visit notes"</h2>
            <AsyncList resource=notes what="notes" empty="No visit notes yet." let:list>
                <ul class="timeline">
                    {list.into_iter().map(|n| view! { <NoteItem note=n/> }).collect_view()}
                </ul>
            </AsyncList>
            {if in_care {
                view! {
                    <h3>"Add a visit note"</h3>
                    <NoteForm patient_id=patient_id on_added=reload.callback()/>
                }.into_any()
            } else {
                view! { <p class="hint">"Only a doctor caring for this patient adds visit notes."</p> }.into_any()
            }}
        </section>
    }
}

/// One note in the list.
#[component]
fn NoteItem(note: VisitNote) -> impl IntoView {
    let kind = format!("Visit {} · {}", note.visit_date, note.doctor_name);
    view! {
        <li>
            <span class="kind">{kind}</span>
            <VisitNoteText note=note/>
        </li>
    }
}

/// The inputs of the add-a-note form.
#[derive(Clone, Copy)]
struct NoteFields {
    date: RwSignal<String>,
    symptoms: RwSignal<String>,
    diagnosis: RwSignal<String>,
    prescription: RwSignal<String>,
    text: RwSignal<String>,
}

impl NoteFields {
    /// Today's date, nothing else.
    fn new() -> Self {
        let empty = || RwSignal::new(String::new());
        Self {
            date: RwSignal::new(today().to_string()),
            symptoms: empty(),
            diagnosis: empty(),
            prescription: empty(),
            text: empty(),
        }
    }

    /// The validated note, or the messages by field.
    fn note(self) -> Result<CreateVisitNote, BTreeMap<String, String>> {
        let mut c = Checks::new();
        let visit_date = c.check(
            "visit_date",
            validate::past_date(&self.date.get_untracked(), today()),
        );
        c.check(
            "symptoms",
            validate::required(&self.symptoms.get_untracked(), 4000),
        );
        c.check(
            "diagnosis",
            validate::required(&self.diagnosis.get_untracked(), 4000),
        );
        c.check(
            "prescription",
            validate::optional(&self.prescription.get_untracked(), 4000),
        );
        c.check(
            "notes",
            validate::optional(&self.text.get_untracked(), 10_000),
        );
        c.finish()?;
        let Some(visit_date) = visit_date else {
            return Err(BTreeMap::new());
        };
        let trimmed = |s: RwSignal<String>| s.get_untracked().trim().to_string();
        Ok(CreateVisitNote {
            visit_date,
            symptoms: trimmed(self.symptoms),
            diagnosis: trimmed(self.diagnosis),
            prescription: trimmed(self.prescription),
            notes: trimmed(self.text),
        })
    }

    /// Empties the text inputs after a note was added (the date stays).
    fn clear_texts(self) {
        for s in [self.symptoms, self.diagnosis, self.prescription, self.text] {
            s.set(String::new());
        }
    }
}

/// Adds a visit note, then empties the form and calls `on_added`.
#[component]
fn NoteForm(patient_id: UserId, on_added: Callback<()>) -> impl IntoView {
    let fields = NoteFields::new();
    let form = FormState::new();
    let added = Callback::new(move |_: VisitNote| {
        fields.clear_texts();
        on_added.run(());
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = move |note: CreateVisitNote| async move {
            calls::doctor_add_note(patient_id, &note).await
        };
        form.send(fields.note(), request, added);
    };
    view! {
        <form id="note-form" on:submit=submit novalidate=true>
            <Field label="Visit date" name="visit_date" kind="date" value=fields.date form=form required=true/>
            <TextArea label="Symptoms" name="symptoms" value=fields.symptoms form=form required=true/>
            <TextArea label="Diagnosis" name="diagnosis" value=fields.diagnosis form=form required=true/>
            <TextArea label="Prescription" name="prescription" value=fields.prescription form=form/>
            <TextArea label="Notes" name="notes" value=fields.text form=form/>
            <Submit label="Add note" busy_label="Saving…" form=form/>
        </form>
    }
}
