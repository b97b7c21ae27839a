//! Admin: the ledger. Browse entries newest first (filter by action, page backwards) and verify
//! the whole hash chain.

use leptos::prelude::*;

use crate::api::{ApiError, calls, dto::LedgerPage, dto::LedgerVerification};
use crate::logic::format;
use crate::ui::load::AsyncView;
use crate::ui::widgets::ErrorText;

const LIMIT: u32 = 50;

/// `/admin/ledger`.
#[component]
pub fn Ledger() -> impl IntoView {
    let action = RwSignal::new(String::new());
    let applied = RwSignal::new(String::new());
    // Stack of `before` cursors: the last is the current page's.
    let cursors = RwSignal::new(vec![None::<i64>]);
    let page = LocalResource::new(move || {
        let before = cursors.with(|c| c.last().copied().flatten());
        let a = applied.get();
        async move { calls::admin_ledger(before, LIMIT, &a).await }
    });
    view! {
        <h1>"Ledger"</h1>
        <VerifyChain/>
        <form class="search" role="search" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); cursors.set(vec![None]); applied.set(action.get_untracked()); }>
            <label for="ledger-action">"Only this action (e.g. record.download)"</label>
            <input id="ledger-action" type="search" bind:value=action/>
            <button type="submit" class="secondary">"Filter"</button>
        </form>
        <AsyncView resource=page what="ledger" let:p>
            <LedgerEntries page=p cursors=cursors/>
        </AsyncView>
    }
}

/// The "Verify the chain" button and what the last verification found.
#[component]
fn VerifyChain() -> impl IntoView {
    let verification = RwSignal::new(None::<Result<LedgerVerification, ApiError>>);
    let verifying = RwSignal::new(false);
    let verify = move |_| {
        verifying.set(true);
        leptos::task::spawn_local(async move {
            let r = calls::admin_verify_ledger().await;
            verifying.set(false);
            verification.set(Some(r));
        });
    };
    view! {
        <section class="card">
            <button type="button" class="primary" id="verify-ledger" on:click=verify disabled=move || verifying.get()>
                {move || if verifying.get() { "Verifying…" } else { "Verify the chain" }}
            </button>
            {move || verification.get().map(|r| match r {
                Ok(v) if v.ok => view! { <p class="ok" role="status" id="ledger-ok">{format!("✔ All {} entries verify. Head {}", v.entries, v.head_hash.unwrap_or_default())}</p> }.into_any(),
                Ok(v) => view! { <p class="bad" role="alert">{format!("✘ The chain breaks at entry {}: {}", v.first_broken_seq.unwrap_or_default(), v.reason.unwrap_or_default())}</p> }.into_any(),
                Err(e) => view! { <ErrorText error=e/> }.into_any(),
            })}
        </section>
    }
}

/// One page of entries, with "Newer" and "Older" over the stack of `before` cursors.
#[component]
fn LedgerEntries(page: LedgerPage, cursors: RwSignal<Vec<Option<i64>>>) -> impl IntoView {
    let next = page.next_before;
    view! {
        <p>{format!("{} entries in the ledger.", page.total)}</p>
        <div class="table-wrap">
        <table class="ledger" id="ledger-entries">
            <thead><tr><th>"#"</th><th>"When"</th><th>"Action"</th><th>"Subject"</th><th>"Actor"</th><th>"Hash"</th></tr></thead>
            <tbody>
                {page.items.into_iter().map(|e| view! {
                    <tr>
                        <td>{e.seq}</td>
                        <td>{format::datetime(e.at)}</td>
                        <td>{e.action}</td>
                        <td class="mono small">{e.subject}</td>
                        <td class="mono small">{e.actor.map_or_else(|| "system".into(), |a| a.to_string())}</td>
                        <td class="mono small" title=e.hash.clone()>{e.hash.chars().take(12).collect::<String>()}"…"</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
        <nav class="pager" aria-label="Ledger pages">
            <button type="button" disabled=move || { cursors.with(|c| c.len() <= 1) } on:click=move |_| cursors.update(|c| { c.pop(); })>"Newer"</button>
            <button type="button" disabled=next.is_none() on:click=move |_| cursors.update(|c| c.push(next))>"Older"</button>
        </nav>
    }
}
