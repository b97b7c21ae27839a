//! Admin: emergency reviews. Every emergency access (by default only those still waiting for a
//! review): who opened it for whom, when, why and the doctor's justification, nothing from the
//! record; and the verdict with a comment, given once per access.

use leptos::prelude::*;

use crate::api::calls;
use crate::api::dto::{EmergencyAccess, EmergencyAccessId, ReviewEmergencyAccess, ReviewOutcome};
use crate::logic::emergency;
use crate::logic::format;
use crate::logic::validate::{self, Checks};
use crate::pages::emergency_view::{EmergencyStatus, ReviewLine};
use crate::ui::form::{FormState, Select, Submit, TextArea};
use crate::ui::load::{AsyncList, Reload};
use crate::ui::widgets::Pager;

const PER_PAGE: u32 = 20;

/// `/admin/emergency`.
#[component]
pub fn EmergencyReviews() -> impl IntoView {
    let unreviewed_only = RwSignal::new(true);
    let page = RwSignal::new(1);
    let reload = Reload::new();
    let list = reload.load(move || {
        let (unreviewed, p) = (unreviewed_only.get(), page.get());
        async move { calls::list_emergencies(unreviewed, p, PER_PAGE).await }
    });
    let saved = RwSignal::new(None::<String>);
    let on_reviewed = Callback::new(move |a: EmergencyAccess| {
        saved.set(Some(format!(
            "Review of the emergency access to {} saved. {}",
            a.patient_name,
            emergency::review_text(a.review.as_ref()),
        )));
        reload.reload();
    });
    let toggle = move |ev: leptos::ev::Event| {
        page.set(1);
        unreviewed_only.set(event_target_checked(&ev));
    };
    view! {
        <h1>"Emergency reviews"</h1>
        <p>"Review every emergency access: was it needed? The patient sees your verdict and comment."</p>
        <div class="field checkbox">
            <input id="emergency-unreviewed-only" type="checkbox" prop:checked=move || unreviewed_only.get() on:change=toggle/>
            <label for="emergency-unreviewed-only">"Only those waiting for review"</label>
        </div>
        {move || saved.get().map(|m| view! { <p class="notice success" role="status">{m}</p> })}
        <AsyncList resource=list what="emergency accesses" empty="Nothing to review." let:p>
            <div id="emergency-reviews">
                {p.items.into_iter().map(|a| view! { <ReviewItem access=a on_reviewed=on_reviewed/> }).collect_view()}
            </div>
            <Pager page=page total=p.total per_page=PER_PAGE/>
        </AsyncList>
    }
}

/// One emergency access: who, whom, when, why; the review form until it is reviewed, then
/// the verdict.
#[component]
fn ReviewItem(access: EmergencyAccess, on_reviewed: Callback<EmergencyAccess>) -> impl IntoView {
    let a = access;
    let verdict = match a.review.clone() {
        Some(r) => view! { <p><ReviewLine review=Some(r)/></p> }.into_any(),
        None => view! { <ReviewForm id=a.id on_reviewed=on_reviewed/> }.into_any(),
    };
    view! {
        <article class="card emergency-row" data-emergency=a.id.to_string() data-reviewed=a.review.is_some().to_string()>
            <dl class="facts">
                <dt>"Doctor"</dt><dd class="emergency-doctor">{a.doctor_name.clone()}</dd>
                <dt>"Patient"</dt><dd class="emergency-patient">{a.patient_name.clone()}</dd>
                <dt>"Started"</dt><dd>{format::datetime(a.started_at)}</dd>
                <dt>"Until / ended"</dt><dd>{emergency::period(&a)}</dd>
                <dt>"Status"</dt><dd><EmergencyStatus active=a.active/></dd>
                <dt>"Reason"</dt><dd class="emergency-reason">{a.reason.label()}</dd>
                <dt>"Justification"</dt><dd class="emergency-justification">{a.justification.clone()}</dd>
            </dl>
            {verdict}
        </article>
    }
}

/// The verdict and comment for one emergency access.
#[component]
fn ReviewForm(id: EmergencyAccessId, on_reviewed: Callback<EmergencyAccess>) -> impl IntoView {
    let outcome = RwSignal::new(ReviewOutcome::Justified.as_str().to_string());
    let comment = RwSignal::new(String::new());
    let form = FormState::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Checks::new();
        let verdict = c.check(
            "outcome",
            ReviewOutcome::parse(&outcome.get_untracked())
                .ok_or_else(|| "Choose an outcome.".to_string()),
        );
        let text = c.check(
            "comment",
            validate::length(&comment.get_untracked(), 3, 2000),
        );
        let body = c.finish().and_then(|()| match (verdict, text) {
            (Some(outcome), Some(comment)) => Ok(ReviewEmergencyAccess { outcome, comment }),
            _ => Err(std::collections::BTreeMap::new()),
        });
        let request = move |body: ReviewEmergencyAccess| async move {
            calls::review_emergency(id, &body).await
        };
        form.send(body, request, on_reviewed);
    };
    view! {
        <form class="review-form" on:submit=submit novalidate=true>
            <Select label="Outcome" name="outcome" class="review-outcome" value=outcome options=emergency::outcome_choices() form=form/>
            <TextArea label="Comment (the patient sees it)" name="comment" class="review-comment" value=comment form=form required=true/>
            <Submit label="Save review" busy_label="Saving…" form=form class="review-submit"/>
        </form>
    }
}
