//! The patient's "who saw or asked for my records" view, built from the ledger with the
//! actors' names and the records' titles.

use medvault_types::{AccessBasis, AccessLogEntry, Page, RecordId, UserId};
use serde_json::Value;

use crate::db::DbConn;
use crate::db::paging::Paging;
use crate::error::ApiError;
use crate::ledger::{self, Action};
use crate::read_models::names;

/// One page of the access log of `patient`, newest first.
pub fn page(
    conn: &mut DbConn,
    patient: UserId,
    paging: &Paging,
) -> Result<Page<AccessLogEntry>, ApiError> {
    let actions: Vec<Action> = Action::ALL
        .into_iter()
        .filter(|a| a.in_access_log())
        .collect();
    let own_reads: Vec<Action> = Action::ALL.into_iter().filter(|a| a.is_read()).collect();
    let (entries, total) =
        ledger::entries_for_patient(conn, patient, &actions, &own_reads, paging)?;
    let actor_ids: Vec<String> = entries
        .iter()
        .filter_map(|e| e.actor.map(|a| a.to_string()))
        .collect();
    let mut actor_names = names::doctors(conn, &actor_ids)?;
    actor_names.extend(names::patients(conn, &actor_ids)?);
    let record_of = |payload: &Value| {
        payload
            .get("record_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let record_ids: Vec<String> = entries
        .iter()
        .filter_map(|e| record_of(&e.payload))
        .collect();
    let titles = names::record_titles(conn, &record_ids)?;
    let items = entries
        .into_iter()
        .map(|e| {
            let record = record_of(&e.payload);
            AccessLogEntry {
                seq: e.seq,
                at: e.at,
                actor_id: e.actor,
                actor_name: e.actor.map(|a| {
                    actor_names
                        .get(&a.to_string())
                        .cloned()
                        .unwrap_or_else(|| "Administrator".to_owned())
                }),
                allowed: !Action::parse(&e.action).is_some_and(Action::is_refusal),
                record_id: record.as_deref().and_then(|r| r.parse::<RecordId>().ok()),
                record_title: record.and_then(|r| titles.get(&r).cloned()),
                basis: e
                    .payload
                    .get("basis")
                    .and_then(Value::as_str)
                    .and_then(AccessBasis::parse),
                action: e.action,
            }
        })
        .collect();
    Ok(paging.page(items, total))
}

/// The calling patient's access log, one page.
pub async fn for_patient(
    state: &crate::state::SharedState,
    patient: UserId,
    query: &medvault_types::ListQuery,
) -> Result<Page<AccessLogEntry>, ApiError> {
    let paging = Paging::from_query(query)?;
    crate::db::run(&state.pool, move |conn| page(conn, patient, &paging)).await
}
