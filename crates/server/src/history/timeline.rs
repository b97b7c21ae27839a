//! The patient's timeline: visit notes and records on one list, newest first.

use chrono::{DateTime, NaiveDate, Utc};
use medvault_types::{History, HistoryItem};

use crate::access::{self, Access, NotesScope, Read, RecordScope};
use crate::auth::AuthUser;
use crate::db;
use crate::db::paging::Paging;
use crate::error::ApiError;
use crate::history::notes;
use crate::records::service as records;
use crate::state::SharedState;

/// Records shown on the timeline (the newest by report date).
const TIMELINE_RECORDS: u32 = 100;

/// The patient's notes and records, newest first (by visit or report date, then by when they
/// were added).
/// Only the patient reads it (ledgered like every read).
pub async fn of_patient(state: &SharedState, patient: AuthUser) -> Result<History, ApiError> {
    let st = SharedState::clone(state);
    let now = state.clock.now();
    let (notes, recs) = db::write(&state.pool, move |conn| {
        let me = patient.id;
        let basis = Access::resolve(conn, &patient, me, now)?.timeline()?;
        let notes = notes::list(conn, st.engine.keys(), me, NotesScope::All)?;
        let paging = Paging::first(TIMELINE_RECORDS);
        let recs = records::list(conn, st.engine.keys(), me, &RecordScope::All, true, &paging)?;
        access::record_read(
            conn,
            me,
            me,
            Read::Timeline {
                shown: notes.len() + recs.items.len(),
            },
            basis,
        )?;
        Ok((notes, recs.items))
    })
    .await?;
    let mut items: Vec<(NaiveDate, DateTime<Utc>, HistoryItem)> = notes
        .into_iter()
        .map(|n| (n.visit_date, n.created_at, HistoryItem::Note(n)))
        .chain(
            recs.into_iter()
                .map(|r| (r.report_date, r.created_at, HistoryItem::Record(r))),
        )
        .collect();
    items.sort_by_key(|i| std::cmp::Reverse((i.0, i.1)));
    Ok(History {
        items: items.into_iter().map(|(_, _, i)| i).collect(),
    })
}
