//! Emergency (break-glass) access as people read it: the choices of the doctor's and the
//! reviewer's forms, how one access reads (opened, until or ended, reviewed), and which ones
//! still need the patient's attention (live, or not yet reviewed). The wire names and labels
//! live in the shared types; the sentences built from them live here, once.

use medvault_types::{EmergencyAccess, EmergencyReason, EmergencyReview, ReviewOutcome, UserId};

use super::format;

/// Longest emergency access the server allows, in minutes (24 hours).
pub const MAX_MINUTES: u32 = 24 * 60;

/// How long an emergency access lasts unless the doctor says otherwise, in minutes.
pub const DEFAULT_MINUTES: u32 = 240;

/// Choices of the reason select: (wire name, label), in display order.
pub fn reason_choices() -> Vec<(String, String)> {
    EmergencyReason::ALL
        .into_iter()
        .map(|r| (r.as_str().to_string(), r.label().to_string()))
        .collect()
}

/// Choices of the reviewer's outcome select: (wire name, label).
pub fn outcome_choices() -> Vec<(String, String)> {
    [ReviewOutcome::Justified, ReviewOutcome::NotJustified]
        .into_iter()
        .map(|o| (o.as_str().to_string(), o.label().to_string()))
        .collect()
}

/// Whether the access still gives access ("Active") or not ("Ended").
pub const fn status(active: bool) -> &'static str {
    if active { "Active" } else { "Ended" }
}

/// Until when a live access lasts, or when it ended (at expiry when the server has not
/// closed it yet).
pub fn period(access: &EmergencyAccess) -> String {
    if access.active {
        format!("Until {}", format::datetime(access.expires_at))
    } else {
        let ended = access.ended_at.unwrap_or(access.expires_at);
        format!("Ended {}", format::datetime(ended))
    }
}

/// The review as everyone concerned reads it: "Awaiting review", or the outcome and the
/// reviewer's comment.
pub fn review_text(review: Option<&EmergencyReview>) -> String {
    review.map_or_else(
        || "Awaiting review".to_string(),
        |r| format!("Reviewed: {} — {}", r.outcome.label(), r.comment),
    )
}

/// The patient's sentence for one access: who opened it, when, and why.
pub fn opened_text(access: &EmergencyAccess) -> String {
    format!(
        "{} opened emergency access to your records on {} ({})",
        access.doctor_name,
        format::datetime(access.started_at),
        access.reason.label()
    )
}

/// Whether the patient should look at this access: it still gives access, or no
/// administrator has reviewed it yet.
pub const fn needs_attention(access: &EmergencyAccess) -> bool {
    access.active || access.review.is_none()
}

/// How many of `accesses` [need attention](needs_attention) (the patient's badge).
pub fn attention_count(accesses: &[EmergencyAccess]) -> usize {
    accesses.iter().filter(|a| needs_attention(a)).count()
}

/// The badge's number in words, for screen readers.
pub fn attention_words(count: usize) -> String {
    if count == 1 {
        "1 emergency access needs your attention".to_string()
    } else {
        format!("{count} emergency accesses need your attention")
    }
}

/// The live emergency access to `patient` among a doctor's own, if any.
pub fn live_for(accesses: &[EmergencyAccess], patient: UserId) -> Option<EmergencyAccess> {
    accesses
        .iter()
        .find(|a| a.active && a.patient_id == patient)
        .cloned()
}

/// Minutes an access should last: 1 to [`MAX_MINUTES`].
pub fn minutes(value: &str) -> Result<u32, String> {
    match value.trim().parse::<u32>() {
        Ok(m) if (1..=MAX_MINUTES).contains(&m) => Ok(m),
        _ => Err(format!("Choose from 1 to {MAX_MINUTES} minutes.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use medvault_types::EmergencyAccessId;
    use uuid::Uuid;

    fn access(active: bool, review: Option<ReviewOutcome>) -> EmergencyAccess {
        let at = |h: u32| Utc.with_ymd_and_hms(2026, 12, 6, h, 30, 0).unwrap();
        EmergencyAccess {
            id: EmergencyAccessId(Uuid::from_u128(1)),
            doctor_id: UserId(Uuid::from_u128(2)),
            doctor_name: "Dr Ada Grey".into(),
            patient_id: UserId(Uuid::from_u128(3)),
            patient_name: "Pat Doe".into(),
            reason: EmergencyReason::UnconsciousPatient,
            justification: "Brought in unconscious after a road accident.".into(),
            started_at: at(8),
            expires_at: at(12),
            ended_at: (!active).then(|| at(9)),
            active,
            review: review.map(|outcome| EmergencyReview {
                outcome,
                comment: "Seen in the A&E log".into(),
                reviewed_by: UserId(Uuid::from_u128(4)),
                reviewed_at: at(10),
            }),
        }
    }

    #[test]
    fn attention_means_live_or_not_yet_reviewed() {
        let live_reviewed = access(true, Some(ReviewOutcome::Justified));
        let ended_unreviewed = access(false, None);
        let ended_reviewed = access(false, Some(ReviewOutcome::NotJustified));
        assert!(needs_attention(&live_reviewed));
        assert!(needs_attention(&ended_unreviewed));
        assert!(!needs_attention(&ended_reviewed));
        assert_eq!(
            attention_count(&[live_reviewed, ended_unreviewed, ended_reviewed]),
            2
        );
        assert_eq!(attention_count(&[]), 0);
        assert_eq!(
            attention_words(1),
            "1 emergency access needs your attention"
        );
        assert_eq!(
            attention_words(2),
            "2 emergency accesses need your attention"
        );
    }

    #[test]
    fn one_access_reads_as_the_patient_is_told() {
        let a = access(true, None);
        assert_eq!(
            opened_text(&a),
            "Dr Ada Grey opened emergency access to your records on 2026-12-06 08:30 UTC (Patient unconscious)"
        );
        assert_eq!(period(&a), "Until 2026-12-06 12:30 UTC");
        assert_eq!(period(&access(false, None)), "Ended 2026-12-06 09:30 UTC");
        assert_eq!(review_text(None), "Awaiting review");
        let reviewed = access(false, Some(ReviewOutcome::NotJustified));
        assert_eq!(
            review_text(reviewed.review.as_ref()),
            "Reviewed: Not justified — Seen in the A&E log"
        );
        assert_eq!(status(true), "Active");
        assert_eq!(status(false), "Ended");
    }

    #[test]
    fn choices_carry_wire_names_and_labels() {
        let reasons = reason_choices();
        assert_eq!(reasons.len(), EmergencyReason::ALL.len());
        for (value, label) in &reasons {
            let r = EmergencyReason::parse(value).unwrap();
            assert_eq!(r.label(), label);
        }
        assert_eq!(
            outcome_choices(),
            vec![
                ("justified".to_string(), "Justified".to_string()),
                ("not_justified".to_string(), "Not justified".to_string()),
            ]
        );
    }

    #[test]
    fn the_live_access_to_a_patient_is_found() {
        let live = access(true, None);
        let ended = access(false, None);
        let patient = live.patient_id;
        assert_eq!(
            live_for(&[ended.clone(), live.clone()], patient),
            Some(live)
        );
        assert_eq!(live_for(&[ended], patient), None);
        assert_eq!(live_for(&[], UserId(Uuid::from_u128(9))), None);
    }

    #[test]
    fn minutes_follow_the_servers_rules() {
        assert_eq!(minutes("240"), Ok(240));
        assert_eq!(minutes(" 1440 "), Ok(1440));
        assert!(minutes("0").is_err());
        assert!(minutes("1441").is_err());
        assert!(minutes("four hours").is_err());
    }
}
