//! The consent and care vocabulary in words for people: why a doctor asks, how a doctor came
//! into a patient's care, what authorised a read, and what each access-log action means. The
//! wire names live in the shared types; only the wording lives here, once.

use medvault_types::{AccessBasis, AccessPurpose, CareOrigin};

/// `text` with its first letter in upper case ("a referral" -> "A referral").
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Choices of the request dialogs' purpose select: (wire name, label), in display order.
pub fn purpose_choices() -> Vec<(String, String)> {
    AccessPurpose::ALL
        .into_iter()
        .map(|p| (p.as_str().to_string(), capitalised(p.label())))
        .collect()
}

/// The purpose a select's value names; an unknown value falls back to the default
/// (treatment), as the server does for an absent one.
pub fn purpose_of(value: &str) -> AccessPurpose {
    AccessPurpose::parse(value).unwrap_or_default()
}

/// How a doctor came into the patient's care, as the patient reads it.
pub const fn care_origin(origin: CareOrigin) -> &'static str {
    match origin {
        CareOrigin::Admin => "assigned by an administrator",
        CareOrigin::Creator => "created your account",
        CareOrigin::Patient => "added by you",
    }
}

/// What authorised a read, as the patient reads it; nothing for the patient's own reads (and
/// for entries that are not reads).
pub const fn access_basis(basis: Option<AccessBasis>) -> Option<&'static str> {
    match basis {
        Some(AccessBasis::Care) => Some("your care team"),
        Some(AccessBasis::Grant) => Some("with your consent"),
        Some(AccessBasis::Emergency) => Some("emergency access"),
        Some(AccessBasis::Owner) | None => None,
    }
}

/// An access-log action (`record.read`) as what the person named in the row did ("viewed a
/// record's details"); an action without its own wording is spelled out from its code.
pub fn access_action(code: &str) -> String {
    let words = match code {
        "patient.read" => "viewed your profile",
        "record.list" => "viewed your record list",
        "record.read" => "viewed a record's details",
        "note.read" => "viewed visit notes",
        "note.add" => "wrote a visit note",
        "history.read" => "viewed your timeline",
        "record.upload" => "uploaded a record",
        "record.download" => "downloaded a record",
        "record.download_denied" => "was refused a download",
        "record.download_failed" => "download interrupted",
        "record.delete" => "deleted a record",
        "care.assign" => "added to your care",
        "care.unassign" => "removed from your care",
        "consent.request" => "asked for access",
        "consent.grant" => "access granted",
        "consent.deny" => "access denied",
        "consent.revoke" => "access revoked",
        "consent.code_failed" => "entered a wrong code",
        "consent.locked" => "request locked after too many wrong codes",
        "consent.totp_locked" => "locked out of your authenticator codes after too many wrong ones",
        "consent.totp_unlocked" => "authenticator-code locks lifted",
        "user.email_change" => "changed your e-mail address",
        "user.email_confirm" => "confirmed your e-mail address",
        "emergency.start" => "opened emergency access to your records",
        "emergency.end" => "emergency access ended",
        "emergency.review" => "reviewed an emergency access",
        other => return other.replace(['.', '_'], " "),
    };
    words.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_are_offered_in_order_with_capitalised_labels() {
        let choices = purpose_choices();
        assert_eq!(choices.len(), AccessPurpose::ALL.len());
        assert_eq!(
            choices[0],
            ("treatment".to_string(), "Treatment".to_string())
        );
        assert_eq!(
            choices[1],
            ("second_opinion".to_string(), "A second opinion".to_string())
        );
        for (value, _) in &choices {
            assert_eq!(purpose_of(value).as_str(), value);
        }
        assert_eq!(purpose_of(""), AccessPurpose::Treatment);
        assert_eq!(purpose_of("gossip"), AccessPurpose::Treatment);
        assert_eq!(capitalised(""), "");
    }

    #[test]
    fn care_origins_say_how_care_began() {
        assert_eq!(
            care_origin(CareOrigin::Admin),
            "assigned by an administrator"
        );
        assert_eq!(care_origin(CareOrigin::Creator), "created your account");
        assert_eq!(care_origin(CareOrigin::Patient), "added by you");
    }

    #[test]
    fn bases_name_what_authorised_a_read_except_the_patients_own() {
        assert_eq!(
            access_basis(Some(AccessBasis::Care)),
            Some("your care team")
        );
        assert_eq!(
            access_basis(Some(AccessBasis::Grant)),
            Some("with your consent")
        );
        assert_eq!(
            access_basis(Some(AccessBasis::Emergency)),
            Some("emergency access")
        );
        assert_eq!(access_basis(Some(AccessBasis::Owner)), None);
        assert_eq!(access_basis(None), None);
    }

    #[test]
    fn access_log_actions_read_as_what_happened() {
        for (code, words) in [
            ("patient.read", "viewed your profile"),
            ("record.list", "viewed your record list"),
            ("record.read", "viewed a record's details"),
            ("note.read", "viewed visit notes"),
            ("history.read", "viewed your timeline"),
            ("record.download_failed", "download interrupted"),
            ("care.assign", "added to your care"),
            ("care.unassign", "removed from your care"),
            ("record.download", "downloaded a record"),
            ("emergency.start", "opened emergency access to your records"),
            ("emergency.end", "emergency access ended"),
        ] {
            assert_eq!(access_action(code), words, "{code}");
        }
        assert_eq!(access_action("totp.enrol"), "totp enrol");
        assert_eq!(access_action(""), "");
    }
}
