//! Patient: visit notes and records on one timeline, newest first.

use leptos::prelude::*;

use crate::api::calls;
use crate::api::dto::{HistoryItem, RecordMeta, VisitNote};
use crate::logic::format;
use crate::pages::visit_note::VisitNoteText;
use crate::ui::load::AsyncList;

/// `/patient/history`.
#[component]
pub fn HistoryPage() -> impl IntoView {
    let history = LocalResource::new(|| async { calls::my_history().await });
    view! {
        <h1>"My history"</h1>
        <AsyncList resource=history what="your history" empty="Nothing yet. Visit notes and uploaded reports appear here." let:h>
            <ol class="timeline" id="timeline">
                {h.items.into_iter().map(|item| match item {
                    HistoryItem::Note(n) => view! { <NoteItem note=n/> }.into_any(),
                    HistoryItem::Record(r) => view! { <RecordItem record=r/> }.into_any(),
                }).collect_view()}
            </ol>
        </AsyncList>
    }
}

/// A visit note on the timeline.
#[component]
fn NoteItem(note: VisitNote) -> impl IntoView {
    let kind = format!("Visit · {} · {}", note.visit_date, note.doctor_name);
    view! {
        <li class="card">
            <span class="kind">{kind}</span>
            <VisitNoteText note=note/>
        </li>
    }
}

/// An uploaded report on the timeline.
#[component]
fn RecordItem(record: RecordMeta) -> impl IntoView {
    let r = record;
    view! {
        <li class="card">
            <span class="kind">{format!("Report · {} · {}", r.report_date, r.category.label())}</span>
            <p><strong>{r.title.clone()}</strong>" "<span class="small">{format!("({}, {})", r.file_name, format::bytes(r.size_bytes))}</span></p>
            {r.notes.clone().map(|n| view! { <p>{n}</p> })}
        </li>
    }
}
