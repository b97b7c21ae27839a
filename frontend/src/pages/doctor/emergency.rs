//! Doctor: emergency (break-glass) access. Opening one for a patient who cannot consent, named
//! by medical record number, with a reason, a justification, a duration and the password
//! again (with a code from the sign-in authenticator app when the account has one); and the doctor's own emergency accesses, with "Open patient" and "End now" while
//! they last.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::dto::{EmergencyAccess, EmergencyReason, OpenEmergencyAccess, Page};
use crate::api::{ApiError, calls};
use crate::logic::emergency::{self, DEFAULT_MINUTES};
use crate::logic::format;
use crate::logic::validate::{self, Checks};
use crate::pages::emergency_view::{EmergencyStatus, ReviewLine};
use crate::ui::form::{Field, FormState, Select, Submit, TextArea};
use crate::ui::load::{AsyncList, Reload};
use crate::ui::widgets::{ErrorSlot, Pager};

const PER_PAGE: u32 = 20;

/// `/doctor/emergency`.
#[component]
pub fn Emergency() -> impl IntoView {
    let reload = Reload::new();
    let page = RwSignal::new(1);
    let list = reload.load(move || {
        let p = page.get();
        async move { calls::list_emergencies(false, p, PER_PAGE).await }
    });
    let opened = RwSignal::new(None::<String>);
    let on_opened = Callback::new(move |a: EmergencyAccess| {
        opened.set(Some(format!(
            "Emergency access to {} is open until {}. The patient has been told.",
            a.patient_name,
            format::datetime(a.expires_at)
        )));
        page.set(1);
        reload.reload();
    });
    view! {
        <h1>"Emergency access"</h1>
        <div id="emergency-warning" class="notice warn" role="alert">
            <p><strong>"Only for a patient who cannot consent."</strong></p>
            <p>"Open emergency access only when the patient cannot give consent and treatment cannot wait. Every emergency access is recorded, the patient is told at once, and an administrator reviews every use."</p>
        </div>
        <section class="card" aria-labelledby="open-emergency-h">
            <h2 id="open-emergency-h">"Open emergency access"</h2>
            {move || opened.get().map(|m| view! { <p class="notice success" role="status" id="emergency-status">{m}</p> })}
            <OpenForm on_opened=on_opened/>
        </section>
        <MyEmergencies list=list page=page reload=reload/>
    }
}

/// The inputs of the opening form.
#[derive(Clone, Copy)]
struct OpenFields {
    mrn: RwSignal<String>,
    /// The reason's wire name (the select's value).
    reason: RwSignal<String>,
    justification: RwSignal<String>,
    minutes: RwSignal<String>,
    password: RwSignal<String>,
    /// A code from the sign-in authenticator app (empty: none sent).
    code: RwSignal<String>,
}

/// A checked opening: the password (and code) to confirm first, then the request.
struct Opening {
    password: String,
    code: Option<String>,
    body: OpenEmergencyAccess,
}

impl OpenFields {
    /// The first reason, the default duration, nothing else.
    fn new() -> Self {
        let empty = || RwSignal::new(String::new());
        Self {
            mrn: empty(),
            reason: RwSignal::new(EmergencyReason::ALL[0].as_str().to_string()),
            justification: empty(),
            minutes: RwSignal::new(DEFAULT_MINUTES.to_string()),
            password: empty(),
            code: empty(),
        }
    }

    /// The validated opening, or the messages by field.
    fn opening(self) -> Result<Opening, BTreeMap<String, String>> {
        let mut c = Checks::new();
        let mrn = self.mrn.get_untracked().trim().to_string();
        c.check("mrn", validate::required(&mrn, 32));
        let reason = c.check(
            "reason",
            EmergencyReason::parse(&self.reason.get_untracked())
                .ok_or_else(|| "Choose a reason.".to_string()),
        );
        let justification = c.check(
            "justification",
            validate::length(&self.justification.get_untracked(), 20, 2000),
        );
        let minutes = c.check(
            "duration_minutes",
            emergency::minutes(&self.minutes.get_untracked()),
        );
        let password = self.password.get_untracked();
        if password.is_empty() {
            c.check::<()>("password", Err("Enter your password.".into()));
        }
        let code = c
            .check(
                "code",
                validate::optional_sign_in_code(&self.code.get_untracked()),
            )
            .flatten();
        c.finish()?;
        let (Some(reason), Some(justification), Some(minutes)) = (reason, justification, minutes)
        else {
            return Err(BTreeMap::new());
        };
        Ok(Opening {
            password,
            code,
            body: OpenEmergencyAccess {
                patient_id: None,
                mrn: Some(mrn),
                reason,
                justification,
                duration_minutes: Some(minutes),
            },
        })
    }
}

/// Confirms the password, then opens the access. A wrong password and an unknown MRN are said
/// under their fields.
async fn open_access(opening: Opening) -> Result<EmergencyAccess, ApiError> {
    let under = |mut e: ApiError, field: &str, message: &str| {
        e.message = message.into();
        e.fields.insert(field.into(), message.into());
        e
    };
    calls::reauthenticate(&opening.password, opening.code.as_deref())
        .await
        .map_err(|e| match (e.field("password"), e.field("code")) {
            (Some(_), _) => under(e, "password", "This password is not right."),
            (None, Some(m)) => under(e, "code", &m),
            (None, None) => e,
        })?;
    calls::open_emergency(&opening.body)
        .await
        .map_err(|e| match e.status {
            404 => under(
                e,
                "mrn",
                "No active patient has this medical record number.",
            ),
            _ => e,
        })
}

/// The opening form; on success the password and the justification are emptied.
#[component]
fn OpenForm(on_opened: Callback<EmergencyAccess>) -> impl IntoView {
    let fields = OpenFields::new();
    let form = FormState::new();
    let opened = Callback::new(move |a: EmergencyAccess| {
        fields.password.set(String::new());
        fields.code.set(String::new());
        fields.justification.set(String::new());
        on_opened.run(a);
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = move |opening: Opening| async move {
            let answer = open_access(opening).await;
            if answer
                .as_ref()
                .is_err_and(|e| e.field("password").is_some() || e.field("code").is_some())
            {
                fields.password.set(String::new());
                fields.code.set(String::new());
            }
            answer
        };
        form.send(fields.opening(), request, opened);
    };
    view! {
        <form id="emergency-form" on:submit=submit novalidate=true>
            <Field label="Patient's medical record number" name="mrn" id="emergency-mrn" value=fields.mrn form=form required=true/>
            <Select label="Reason" name="reason" id="emergency-reason" value=fields.reason options=emergency::reason_choices() form=form/>
            <TextArea label="Justification" name="justification" id="emergency-justification" value=fields.justification form=form required=true/>
            <Field label="Duration (minutes)" name="duration_minutes" id="emergency-minutes" kind="number" value=fields.minutes form=form required=true
                hint="Access ends by itself after this (1 to 1440 minutes; you can end it sooner)."/>
            <Field label="Confirm your password" name="password" id="emergency-password" kind="password" autocomplete="current-password"
                value=fields.password form=form required=true/>
            <Field label="Code from your sign-in authenticator app (if you set one up)" name="code" id="emergency-code" autocomplete="one-time-code"
                value=fields.code form=form/>
            <Submit label="Open emergency access" busy_label="Opening…" form=form id="emergency-open"/>
        </form>
    }
}

/// The doctor's emergency accesses, newest first.
#[component]
fn MyEmergencies(
    list: LocalResource<Result<Page<EmergencyAccess>, ApiError>>,
    page: RwSignal<u32>,
    /// Loads the list again after "End now".
    reload: Reload,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    view! {
        <section class="card" id="emergency-list" aria-labelledby="my-emergencies-h">
            <h2 id="my-emergencies-h">"My emergency accesses"</h2>
            <ErrorSlot error=error/>
            <AsyncList resource=list what="emergency accesses" empty="You have not opened emergency access." let:p>
                <div class="table-wrap"><table>
                    <thead><tr><th>"Patient"</th><th>"Reason"</th><th>"Started"</th><th>"Until / ended"</th><th>"Status"</th><th>"Review"</th><th>"Actions"</th></tr></thead>
                    <tbody>{p.items.into_iter().map(|a| view! { <EmergencyRow access=a error=error reload=reload/> }).collect_view()}</tbody>
                </table></div>
                <Pager page=page total=p.total per_page=PER_PAGE/>
            </AsyncList>
        </section>
    }
}

/// One of the doctor's emergency accesses; while it lasts, "Open patient" and "End now".
#[component]
fn EmergencyRow(
    access: EmergencyAccess,
    /// Where a failed "End now" goes.
    error: RwSignal<Option<String>>,
    reload: Reload,
) -> impl IntoView {
    let a = access;
    let id = a.id;
    let ending = RwSignal::new(false);
    let end = move |_| {
        ending.set(true);
        error.set(None);
        spawn_local(async move {
            match calls::end_emergency(id).await {
                Ok(_) => reload.reload(),
                Err(e) => {
                    ending.set(false);
                    error.set(Some(e.message));
                }
            }
        });
    };
    let actions = a.active.then(|| {
        view! {
            <a class="emergency-open-patient" href=format!("/doctor/patients/{}", a.patient_id)>"Open patient"</a>
            <button type="button" class="secondary emergency-end" disabled=move || ending.get() on:click=end>
                {move || if ending.get() { "Ending…" } else { "End now" }}
            </button>
        }
    });
    view! {
        <tr class="emergency-row" data-emergency=id.to_string() data-active=a.active.to_string()>
            <td>{a.patient_name.clone()}</td>
            <td>{a.reason.label()}</td>
            <td>{format::datetime(a.started_at)}</td>
            <td>{emergency::period(&a)}</td>
            <td><EmergencyStatus active=a.active/></td>
            <td><ReviewLine review=a.review.clone()/></td>
            <td class="row-actions">{actions}</td>
        </tr>
    }
}
