//! Admin overview: how many doctors, patients and records; storage health; whether the ledger
//! verifies.

use leptos::prelude::*;

use crate::api::calls;
use crate::logic::errors::ApiError;
use crate::ui::widgets::{ErrorText, Loading};

/// One figure card.
#[component]
fn Figure(
    /// What is counted.
    label: &'static str,
    /// The count, or an error.
    value: Result<u64, ApiError>,
) -> impl IntoView {
    view! {
        <div class="card figure">
            <h2>{label}</h2>
            {match value {
                Ok(n) => view! { <p class="big">{n}</p> }.into_any(),
                Err(e) => view! { <ErrorText error=e/> }.into_any(),
            }}
        </div>
    }
}

/// `/admin`.
#[component]
pub fn Overview() -> impl IntoView {
    let counts = LocalResource::new(|| async {
        let doctors = calls::admin_doctors("", 1, 1).await.map(|p| p.total);
        let patients = calls::admin_patients("", 1, 1).await.map(|p| p.total);
        (doctors, patients)
    });
    let health = LocalResource::new(|| async { calls::admin_health().await });
    let verify = LocalResource::new(|| async { calls::admin_verify_ledger().await });
    view! {
        <h1>"Overview"</h1>
        <div class="cards">
            <Transition fallback=|| view! { <Loading what="counts"/> }>
                {move || counts.get().map(|(d, p)| view! {
                    <Figure label="Doctors" value=d/>
                    <Figure label="Patients" value=p/>
                })}
            </Transition>
            <Transition fallback=|| view! { <Loading what="storage"/> }>
                {move || health.get().map(|h| match h {
                    Ok(v) => view! { <HealthCards value=v/> }.into_any(),
                    Err(e) if e.status == 404 => view! {
                        <div class="card"><h2>"Records and storage"</h2><p>"This server does not report storage health."</p></div>
                    }.into_any(),
                    Err(e) => view! { <div class="card"><h2>"Records and storage"</h2><ErrorText error=e/></div> }.into_any(),
                })}
            </Transition>
        </div>
        <section class="card" aria-labelledby="ledger-status">
            <h2 id="ledger-status">"Ledger"</h2>
            <Transition fallback=|| view! { <Loading what="verification"/> }>
                {move || verify.get().map(|v| match v {
                    Ok(v) if v.ok => view! {
                        <p class="ok" id="ledger-ok">{format!("✔ Verified: {} entries, every link holds.", v.entries)}</p>
                        <p class="mono small">"Head: " {v.head_hash.unwrap_or_default()}</p>
                    }.into_any(),
                    Ok(v) => view! {
                        <p class="bad" role="alert">{format!(
                            "✘ Broken at entry {}: {}",
                            v.first_broken_seq.map_or_else(|| "?".into(), |s| s.to_string()),
                            v.reason.unwrap_or_default()
                        )}</p>
                    }.into_any(),
                    Err(e) => view! { <ErrorText error=e/> }.into_any(),
                })}
            </Transition>
            <button type="button" class="secondary" on:click=move |_| verify.refetch()>"Verify again"</button>
        </section>
    }
}

/// Records count and per-bucket health from the server's health report, whatever its detail.
#[component]
fn HealthCards(
    /// The report.
    value: serde_json::Value,
) -> impl IntoView {
    let records = value.get("records").and_then(serde_json::Value::as_u64);
    let buckets: Vec<(String, bool)> = value
        .get("buckets")
        .or_else(|| value.get("storage"))
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|b| {
                    let name = b
                        .get("name")
                        .or_else(|| b.get("bucket"))
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or("bucket")
                        .to_string();
                    let ok = b
                        .get("healthy")
                        .or_else(|| b.get("ok"))
                        .and_then(serde_json::Value::as_bool)
                        .unwrap_or(false);
                    (name, ok)
                })
                .collect()
        })
        .unwrap_or_default();
    view! {
        <div class="card figure">
            <h2>"Records"</h2>
            <p class="big">{records.map_or_else(|| "–".to_string(), |n| n.to_string())}</p>
        </div>
        <div class="card">
            <h2>"Storage"</h2>
            <ul class="plain">
                {buckets.into_iter().map(|(name, ok)| view! {
                    <li class=if ok { "ok" } else { "bad" }>{if ok { "✔ " } else { "✘ " }}{name}{if ok { " healthy" } else { " unreachable" }}</li>
                }).collect_view()}
            </ul>
        </div>
    }
}
