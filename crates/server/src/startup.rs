//! Data migrations written in Rust that must run once, at start, after the SQL migrations:
//! each runs in one transaction with the row in `startup_tasks` that marks it done, so a crash
//! leaves it to run again and two servers starting together run it once.

use diesel::prelude::*;

use crate::accounts::care;
use crate::db::schema::startup_tasks;
use crate::db::{DbConn, Pool};
use crate::error::ApiError;
use crate::ledger;
use crate::time;

/// One task: its name (never reused) and its work.
struct Task {
    name: &'static str,
    run: fn(&mut DbConn) -> Result<String, ApiError>,
}

/// Every task, in order.
const TASKS: &[Task] = &[
    Task {
        name: "2026-12-01 ledger format v2",
        run: |conn| {
            ledger::switch_to_v2(conn).map(|appended| {
                if appended {
                    "ledger switched to format v2".to_owned()
                } else {
                    "ledger already in format v2".to_owned()
                }
            })
        },
    },
    Task {
        name: "2026-12-01 care no longer created by consent",
        run: |conn| {
            care::drop_consent_created(conn)
                .map(|n| format!("{n} care relations created by consent removed"))
        },
    },
];

fn done(conn: &mut DbConn, name: &str) -> Result<bool, ApiError> {
    let n: i64 = startup_tasks::table
        .filter(startup_tasks::name.eq(name))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Runs every task not yet done.
pub fn run_pending(pool: &Pool) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    for task in TASKS {
        let outcome = conn.transaction::<_, ApiError, _>(|conn| {
            if done(conn, task.name)? {
                return Ok(None);
            }
            let summary = (task.run)(conn)?;
            diesel::insert_into(startup_tasks::table)
                .values((
                    startup_tasks::name.eq(task.name),
                    startup_tasks::done_at.eq(time::now()),
                ))
                .execute(conn)?;
            Ok(Some(summary))
        });
        match outcome {
            Ok(Some(summary)) => tracing::info!(task = task.name, "{summary}"),
            Ok(None) => {}
            // Another server marked it done first: its transaction did the work.
            Err(ApiError::Conflict(_)) if done(&mut conn, task.name)? => {}
            Err(e) => anyhow::bail!("start-up task {:?} failed: {e}", task.name),
        }
    }
    Ok(())
}
