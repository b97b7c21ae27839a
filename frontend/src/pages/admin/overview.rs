//! Admin overview: how many doctors, patients and records; how many emergency accesses wait for
//! review; storage health per bucket and per record (what the scrubber found); whether the
//! ledger verifies.

use leptos::prelude::*;

use crate::api::calls;
use crate::api::dto::{AdminOverview, LedgerVerification, StorageOverview};
use crate::logic::{format, storage};
use crate::ui::load::AsyncView;

/// `/admin`.
#[component]
pub fn Overview() -> impl IntoView {
    let overview = LocalResource::new(|| async { calls::admin_overview().await });
    let verify = LocalResource::new(|| async { calls::admin_verify_ledger().await });
    view! {
        <h1>"Overview"</h1>
        <AsyncView resource=overview what="figures" let:o>
            <Figures overview=o/>
        </AsyncView>
        <section class="card" aria-labelledby="ledger-status">
            <h2 id="ledger-status">"Ledger"</h2>
            <AsyncView resource=verify what="verification" let:v>
                <VerificationStatus verification=v/>
            </AsyncView>
            <button type="button" class="secondary" on:click=move |_| verify.refetch()>"Verify again"</button>
        </section>
    }
}

/// Whether the chain verified, and where it broke if not.
#[component]
fn VerificationStatus(verification: LedgerVerification) -> impl IntoView {
    let v = verification;
    if v.ok {
        view! {
            <p class="ok" id="ledger-ok">{format!("✔ Verified: {} entries, every link holds.", v.entries)}</p>
            <p class="mono small">"Head: " {v.head_hash.unwrap_or_default()}</p>
        }
        .into_any()
    } else {
        view! {
            <p class="bad" role="alert">{format!(
                "✘ Broken at entry {}: {}",
                v.first_broken_seq.map_or_else(|| "?".into(), |s| s.to_string()),
                v.reason.unwrap_or_default()
            )}</p>
        }
        .into_any()
    }
}

/// The counts, the storage card and the storage health card.
#[component]
fn Figures(overview: AdminOverview) -> impl IntoView {
    let storage_health = overview.storage;
    let healthy = overview.buckets.iter().filter(|b| b.ok).count();
    let total = overview.buckets.len();
    let review_class = if overview.unreviewed_emergencies > 0 {
        "card figure attention"
    } else {
        "card figure"
    };
    view! {
        <div class="cards">
            <div class="card figure"><h2>"Doctors"</h2><p class="big">{overview.doctors}</p></div>
            <div class="card figure"><h2>"Patients"</h2><p class="big">{overview.patients}</p></div>
            <div class="card figure">
                <h2>"Records"</h2><p class="big">{overview.records}</p>
                <p class="small">{format!("{} stored", format::bytes(overview.stored_bytes))}</p>
            </div>
            <div class="card figure"><h2>"Ledger entries"</h2><p class="big">{overview.ledger_entries}</p></div>
            <div class=review_class id="unreviewed-emergencies">
                <h2>"Emergency accesses to review"</h2><p class="big">{overview.unreviewed_emergencies}</p>
                <a href="/admin/emergency">"Review emergency accesses"</a>
            </div>
        </div>
        <section class="card" aria-labelledby="storage-h">
            <h2 id="storage-h">"Storage"</h2>
            <p class=if healthy == total { "ok" } else { "bad" }>
                {format!(
                    "{healthy} of {total} buckets healthy. Each stripe: {} data + {} parity shards (any {} of {} rebuild it).",
                    overview.k, overview.m, overview.k, overview.k + overview.m
                )}
            </p>
            <ul class="buckets">
                {overview.buckets.into_iter().map(|b| view! {
                    <li class=if b.ok { "ok" } else { "bad" }>
                        {if b.ok { "✔ " } else { "✘ " }}{b.name}
                        {b.error.map(|e| format!(": {e}"))}
                    </li>
                }).collect_view()}
            </ul>
        </section>
        <StorageHealth health=storage_health/>
    }
}

/// Records by the class their last scrub found, the repair queue, and how fresh the scrubs are.
#[component]
fn StorageHealth(health: StorageOverview) -> impl IntoView {
    let warnings = storage::warnings(&health.classes);
    let rows = storage::class_rows(&health.classes);
    view! {
        <section class="card" id="storage-health" aria-labelledby="storage-health-h">
            <h2 id="storage-health-h">"Storage health"</h2>
            <p class="hint">"Every shard of every record is checked by the scrubber (no key needed); damaged shards are rebuilt from parity."</p>
            {warnings.into_iter().map(|w| view! { <p class="notice warn" role="alert">{w}</p> }).collect_view()}
            <div class="table-wrap">
            <table id="storage-classes">
                <thead><tr><th scope="col">"Class"</th><th scope="col">"Records"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|(class, label, count)| {
                        let alarming = count > 0 && matches!(class, "at_risk" | "lost");
                        view! {
                            <tr>
                                <th scope="row">{label}</th>
                                <td id=format!("storage-count-{class}") class=alarming.then_some("bad")>{count}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            </div>
            <p id="storage-repairs-queued">{format!("Repairs queued: {}", health.repairs_queued)}</p>
            <p id="storage-last-scrub">{format!("Last scrub: {}", storage::last_scrub(health.last_scrub_at))}</p>
            {health.oldest_scrub.map(|o| view! {
                <p id="storage-oldest-scrub" title=o.record_id.to_string()>{format!("Oldest scrub: {}", storage::oldest_scrub(&o))}</p>
            })}
        </section>
    }
}
