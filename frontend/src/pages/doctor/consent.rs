//! The doctor's side of consent: asking for access (reason, purpose, duration, visit notes or
//! not) and entering the code the patient reads out, each in a dialog; plus which live grant
//! covers a record.

use leptos::prelude::*;

use crate::api::dto::{AccessPurpose, AccessRequest, CreateAccessRequest, Grant, RecordId, UserId};
use crate::api::{ApiError, calls};
use crate::logic::validate::{self, Checks};
use crate::logic::wording;
use crate::ui::form::{Checkbox, Field, FormState, Select, Submit, TextArea};
use crate::ui::widgets::Dialog;

/// Longest grant a doctor may ask for here, in hours (the server may cap lower).
pub const MAX_HOURS: u32 = 168;

/// The live grant that lets this doctor download `record` of `patient`, if any.
pub fn live_grant_for(grants: &[Grant], patient: UserId, record: RecordId) -> Option<Grant> {
    grants
        .iter()
        .filter(|g| g.active && g.patient_id == patient)
        .find(|g| g.record_id.is_none_or(|r| r == record))
        .cloned()
}

/// Checks a request's reason (at least 3 characters, at most 500) and duration (1 to
/// [`MAX_HOURS`]): the trimmed reason and the hours to send.
fn reason_and_hours(
    c: &mut Checks,
    reason: RwSignal<String>,
    hours: RwSignal<String>,
) -> (String, u32) {
    let text = reason.get_untracked().trim().to_string();
    if text.chars().count() < 3 {
        c.check::<()>(
            "reason",
            Err("Give a reason of at least 3 characters.".into()),
        );
    }
    c.check("reason", validate::required(&text, 500));
    let duration = c.check(
        "duration_hours",
        validate::duration_hours(&hours.get_untracked(), MAX_HOURS),
    );
    (text, duration.unwrap_or(24))
}

/// What a request asks for besides records: why (a purpose) and whether the patient's visit
/// notes by every doctor are asked for too.
#[derive(Clone, Copy)]
struct Scope {
    /// The purpose's wire name (the select's value).
    purpose: RwSignal<String>,
    /// Visit notes too.
    include_notes: RwSignal<bool>,
}

impl Scope {
    /// Treatment, records only.
    fn new() -> Self {
        Self {
            purpose: RwSignal::new(AccessPurpose::default().as_str().to_string()),
            include_notes: RwSignal::new(false),
        }
    }

    /// Back to treatment, records only (after a request went out).
    fn reset(self) {
        self.purpose
            .set(AccessPurpose::default().as_str().to_string());
        self.include_notes.set(false);
    }

    /// The purpose and the notes flag to send.
    fn values(self) -> (AccessPurpose, bool) {
        (
            wording::purpose_of(&self.purpose.get_untracked()),
            self.include_notes.get_untracked(),
        )
    }
}

/// The purpose select and the visit-notes checkbox of a request form.
#[component]
fn ScopeInputs(scope: Scope, form: FormState) -> impl IntoView {
    view! {
        <Select label="Purpose" name="purpose" value=scope.purpose options=wording::purpose_choices() form=form/>
        <Checkbox label="Also ask for visit notes by every doctor" name="include_notes" value=scope.include_notes
            hint="Without this you see only your own visit notes."/>
    }
}

/// Sends a request for access.
async fn send_request(body: CreateAccessRequest) -> Result<AccessRequest, ApiError> {
    calls::request_access(&body).await
}

/// Asks the patient for access to one record (`record`) or to all (`None`).
#[component]
pub fn RequestAccessDialog(
    /// The patient.
    patient_id: UserId,
    /// One record (id, title), or all records.
    record: Option<(RecordId, String)>,
    /// Closes without asking.
    on_close: Callback<()>,
    /// Called with the new request.
    on_created: Callback<AccessRequest>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let hours = RwSignal::new("24".to_string());
    let scope = Scope::new();
    let form = FormState::new();
    let record_id = record.as_ref().map(|(id, _)| *id);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Checks::new();
        let (reason, duration_hours) = reason_and_hours(&mut c, reason, hours);
        let (purpose, include_notes) = scope.values();
        let body = c.finish().map(|()| CreateAccessRequest {
            patient_id: Some(patient_id),
            mrn: None,
            record_id,
            reason,
            duration_hours,
            purpose,
            include_notes,
        });
        form.send(body, send_request, on_created);
    };
    let title = match record {
        Some((_, t)) => format!("Request access to “{t}”"),
        None => "Request access to all records".to_string(),
    };
    view! {
        <Dialog title=title on_close=on_close>
            <form id="request-form" on:submit=submit novalidate=true>
                <p>"The patient sees your reason and gives you a one-time code, or approves in the app."</p>
                <TextArea label="Reason" name="reason" value=reason form=form required=true/>
                <ScopeInputs scope=scope form=form/>
                <Field label="Duration (hours)" name="duration_hours" kind="number" value=hours form=form required=true
                    hint="How long you may download once the patient agrees (1 to 168)."/>
                <Submit label="Send request" busy_label="Sending…" form=form/>
            </form>
        </Dialog>
    }
}

/// Enter the code the patient reads out; wrong codes show how it went, right ones grant.
#[component]
pub fn CodeDialog(
    /// The request.
    request: AccessRequest,
    /// Closes.
    on_close: Callback<()>,
    /// Called with the grant.
    on_granted: Callback<Grant>,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let form = FormState::new();
    let id = request.id;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = move |digits: String| async move { calls::redeem(id, &digits).await };
        form.send_code(code, validate::one_time_code, request, on_granted);
    };
    let what = request
        .record_title
        .clone()
        .unwrap_or_else(|| "all records".to_string());
    view! {
        <Dialog title="Enter the patient's code".to_string() on_close=on_close>
            <form id="code-form" on:submit=submit novalidate=true>
                <p>{format!("Access to {} of {}. Ask the patient for the code shown in their app, or from their authenticator.", what, request.patient_name)}</p>
                <Field label="One-time code" name="code" kind="text" autocomplete="one-time-code" value=code form=form required=true
                    hint="6 or 8 digits."/>
                <Submit label="Unlock" busy_label="Checking…" form=form/>
            </form>
        </Dialog>
    }
}

/// Asks a patient who is not in the doctor's care, named by medical record number, for access
/// to all their records; their consent gives a grant for the duration and never puts them in
/// care.
#[component]
pub fn RequestByMrnForm(
    /// Called with the new request.
    on_created: Callback<AccessRequest>,
) -> impl IntoView {
    let mrn = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let hours = RwSignal::new("24".to_string());
    let scope = Scope::new();
    let form = FormState::new();
    let created = Callback::new(move |req| {
        mrn.set(String::new());
        reason.set(String::new());
        scope.reset();
        on_created.run(req);
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Checks::new();
        c.check("mrn", validate::required(&mrn.get_untracked(), 40));
        let (reason, duration_hours) = reason_and_hours(&mut c, reason, hours);
        let (purpose, include_notes) = scope.values();
        let body = c.finish().map(|()| CreateAccessRequest {
            patient_id: None,
            mrn: Some(mrn.get_untracked().trim().to_string()),
            record_id: None,
            reason,
            duration_hours,
            purpose,
            include_notes,
        });
        form.send(body, send_request, created);
    };
    view! {
        <form id="mrn-request-form" on:submit=submit novalidate=true>
            <Field label="Medical record number" name="mrn" value=mrn form=form required=true
                hint="For a patient not in your care. Their consent gives you access for the duration; it does not add them to your care."/>
            <TextArea label="Reason" name="reason" value=reason form=form required=true/>
            <ScopeInputs scope=scope form=form/>
            <Field label="Duration (hours)" name="duration_hours" kind="number" value=hours form=form required=true/>
            <Submit label="Send request" busy_label="Sending…" form=form/>
        </form>
    }
}
