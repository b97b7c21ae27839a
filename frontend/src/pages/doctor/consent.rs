//! The doctor's side of consent: asking for access (reason, duration) and entering the code the
//! patient reads out, each in a dialog; plus which live grant covers a record.

use leptos::prelude::*;

use crate::api::dto::{AccessRequest, CreateAccessRequest, Grant, RecordId, UserId};
use crate::api::{ApiError, calls};
use crate::logic::validate::{self, Checks};
use crate::ui::form::{Field, FormState, Submit, TextArea};
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
    let form = FormState::new();
    let record_id = record.as_ref().map(|(id, _)| *id);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Checks::new();
        let (reason, duration_hours) = reason_and_hours(&mut c, reason, hours);
        let body = c.finish().map(|()| CreateAccessRequest {
            patient_id: Some(patient_id),
            mrn: None,
            record_id,
            reason,
            duration_hours,
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

/// Asks a patient who is not (yet) in the doctor's care, named by medical record number, for
/// access to all their records; their consent also puts them in care.
#[component]
pub fn RequestByMrnForm(
    /// Called with the new request.
    on_created: Callback<AccessRequest>,
) -> impl IntoView {
    let mrn = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let hours = RwSignal::new("24".to_string());
    let form = FormState::new();
    let created = Callback::new(move |req| {
        mrn.set(String::new());
        reason.set(String::new());
        on_created.run(req);
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Checks::new();
        c.check("mrn", validate::required(&mrn.get_untracked(), 40));
        let (reason, duration_hours) = reason_and_hours(&mut c, reason, hours);
        let body = c.finish().map(|()| CreateAccessRequest {
            patient_id: None,
            mrn: Some(mrn.get_untracked().trim().to_string()),
            record_id: None,
            reason,
            duration_hours,
        });
        form.send(body, send_request, created);
    };
    view! {
        <form id="mrn-request-form" on:submit=submit novalidate=true>
            <Field label="Medical record number" name="mrn" value=mrn form=form required=true
                hint="For a patient not yet in your care. Their consent puts them in your care."/>
            <TextArea label="Reason" name="reason" value=reason form=form required=true/>
            <Field label="Duration (hours)" name="duration_hours" kind="number" value=hours form=form required=true/>
            <Submit label="Send request" busy_label="Sending…" form=form/>
        </form>
    }
}
