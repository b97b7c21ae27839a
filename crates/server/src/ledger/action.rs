//! The closed set of ledger actions. Every entry's `action` column holds one of these names;
//! the access log, the admin filter and the tests all derive from [`Action::ALL`].

/// What a ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A successful sign-in.
    AuthLogin,
    /// An account was created (admin, doctor or patient).
    UserCreate,
    /// An account's e-mail or profile changed.
    UserUpdate,
    /// An account was deactivated.
    UserDeactivate,
    /// An account was reactivated.
    UserReactivate,
    /// An admin replaced a user's password with a temporary one.
    UserResetPassword,
    /// A user changed their own password.
    UserPasswordChange,
    /// A doctor was put in charge of a patient's care.
    CareAssign,
    /// A doctor's care of a patient ended.
    CareUnassign,
    /// A record was uploaded (payload: the manifest's root hash).
    RecordUpload,
    /// A record's content was released.
    RecordDownload,
    /// A download was refused for want of a live grant.
    RecordDownloadDenied,
    /// A record was crypto-shredded.
    RecordDelete,
    /// A doctor asked for access.
    ConsentRequest,
    /// Consent was given: a grant exists.
    ConsentGrant,
    /// The patient denied a request.
    ConsentDeny,
    /// A grant was revoked or given up.
    ConsentRevoke,
    /// A wrong consent code was submitted.
    ConsentCodeFailed,
    /// A request locked after too many wrong codes.
    ConsentLocked,
    /// A doctor wrote a visit note.
    NoteAdd,
    /// A patient started authenticator enrolment.
    TotpEnrol,
    /// A patient confirmed their authenticator.
    TotpConfirm,
    /// A patient removed their authenticator.
    TotpRemove,
    /// Someone read a patient's profile (demographics and clinical fields).
    PatientRead,
    /// Someone listed a patient's records (one entry per request).
    RecordList,
    /// Someone read one record's metadata (and notes, when the payload says so).
    RecordRead,
    /// Someone read a patient's visit notes.
    NotesRead,
    /// A patient read their timeline.
    HistoryRead,
    /// A download that had started failed or was cut off before its end.
    RecordDownloadFailed,
    /// A sign-in was refused (wrong password, unknown account, locked).
    AuthLoginFailed,
    /// A user signed out.
    AuthLogout,
    /// The owner set their first own password (the temporary one is gone).
    UserActivate,
    /// A doctor gave too many wrong authenticator codes for a patient's consent: locked out of
    /// that patient's codes.
    ConsentTotpLocked,
    /// The patient lifted the authenticator-code locks and delay for their consent.
    ConsentTotpUnlocked,
    /// Staff changed an account's e-mail address (the old address is told).
    UserEmailChange,
    /// The owner confirmed the e-mail address staff set.
    UserEmailConfirm,
    /// The chain switched to a new canonical form (`chain::SWITCH_ACTION`).
    LedgerFormat,
    /// The password was confirmed again for a sensitive action (`auth::recent`).
    AuthReauthenticate,
    /// A doctor opened emergency (break-glass) access to a patient.
    EmergencyStart,
    /// Emergency access ended (the doctor ended it, or it expired).
    EmergencyEnd,
    /// An administrator reviewed an emergency access.
    EmergencyReview,
    /// An account's sign-in lock was lifted (an administrator, or the operator's CLI).
    UserUnlock,
    /// A sign-in second factor (authenticator app) was set up and confirmed.
    MfaEnable,
    /// The owner turned their sign-in second factor off.
    MfaDisable,
    /// An administrator removed a user's sign-in second factor (the user sets up a new one).
    MfaReset,
    /// A recovery code was spent in place of an authenticator code.
    MfaRecoveryCodeUsed,
    /// The owner replaced their recovery codes.
    MfaRecoveryCodesRenew,
    /// A record's shards were rebuilt or moved and its manifest replaced (payload: the old
    /// and the new manifest root, the shards rebuilt and moved, why).
    RecordRepair,
    /// An operator drained a bucket or provider (payload: the buckets, records and shards
    /// moved).
    StorageDrain,
    /// Wrapped keys were re-wrapped under the current master key (payload: counts and key
    /// ids, never key material).
    KeysRotate,
    /// A master key was retired from the ring (payload: its id).
    KeysRetire,
}

impl Action {
    /// Every action.
    pub const ALL: [Self; 51] = [
        Self::AuthLogin,
        Self::UserCreate,
        Self::UserUpdate,
        Self::UserDeactivate,
        Self::UserReactivate,
        Self::UserResetPassword,
        Self::UserPasswordChange,
        Self::CareAssign,
        Self::CareUnassign,
        Self::RecordUpload,
        Self::RecordDownload,
        Self::RecordDownloadDenied,
        Self::RecordDelete,
        Self::ConsentRequest,
        Self::ConsentGrant,
        Self::ConsentDeny,
        Self::ConsentRevoke,
        Self::ConsentCodeFailed,
        Self::ConsentLocked,
        Self::NoteAdd,
        Self::TotpEnrol,
        Self::TotpConfirm,
        Self::TotpRemove,
        Self::PatientRead,
        Self::RecordList,
        Self::RecordRead,
        Self::NotesRead,
        Self::HistoryRead,
        Self::RecordDownloadFailed,
        Self::AuthLoginFailed,
        Self::AuthLogout,
        Self::UserActivate,
        Self::ConsentTotpLocked,
        Self::ConsentTotpUnlocked,
        Self::UserEmailChange,
        Self::UserEmailConfirm,
        Self::LedgerFormat,
        Self::AuthReauthenticate,
        Self::EmergencyStart,
        Self::EmergencyEnd,
        Self::EmergencyReview,
        Self::UserUnlock,
        Self::MfaEnable,
        Self::MfaDisable,
        Self::MfaReset,
        Self::MfaRecoveryCodeUsed,
        Self::MfaRecoveryCodesRenew,
        Self::RecordRepair,
        Self::StorageDrain,
        Self::KeysRotate,
        Self::KeysRetire,
    ];

    /// The stored name (part of the entry hash, so it never changes for an action).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthLogin => "auth.login",
            Self::UserCreate => "user.create",
            Self::UserUpdate => "user.update",
            Self::UserDeactivate => "user.deactivate",
            Self::UserReactivate => "user.reactivate",
            Self::UserResetPassword => "user.reset_password",
            Self::UserPasswordChange => "user.password_change",
            Self::CareAssign => "care.assign",
            Self::CareUnassign => "care.unassign",
            Self::RecordUpload => "record.upload",
            Self::RecordDownload => "record.download",
            Self::RecordDownloadDenied => "record.download_denied",
            Self::RecordDelete => "record.delete",
            Self::ConsentRequest => "consent.request",
            Self::ConsentGrant => "consent.grant",
            Self::ConsentDeny => "consent.deny",
            Self::ConsentRevoke => "consent.revoke",
            Self::ConsentCodeFailed => "consent.code_failed",
            Self::ConsentLocked => "consent.locked",
            Self::NoteAdd => "note.add",
            Self::TotpEnrol => "totp.enrol",
            Self::TotpConfirm => "totp.confirm",
            Self::TotpRemove => "totp.remove",
            Self::PatientRead => "patient.read",
            Self::RecordList => "record.list",
            Self::RecordRead => "record.read",
            Self::NotesRead => "note.read",
            Self::HistoryRead => "history.read",
            Self::RecordDownloadFailed => "record.download_failed",
            Self::AuthLoginFailed => "auth.login_failed",
            Self::AuthLogout => "auth.logout",
            Self::UserActivate => "user.activate",
            Self::ConsentTotpLocked => "consent.totp_locked",
            Self::ConsentTotpUnlocked => "consent.totp_unlocked",
            Self::UserEmailChange => "user.email_change",
            Self::UserEmailConfirm => "user.email_confirm",
            Self::LedgerFormat => super::chain::SWITCH_ACTION,
            Self::AuthReauthenticate => "auth.reauthenticate",
            Self::EmergencyStart => "emergency.start",
            Self::EmergencyEnd => "emergency.end",
            Self::EmergencyReview => "emergency.review",
            Self::UserUnlock => "user.unlock",
            Self::MfaEnable => "mfa.enable",
            Self::MfaDisable => "mfa.disable",
            Self::MfaReset => "mfa.reset",
            Self::MfaRecoveryCodeUsed => "mfa.recovery_code_used",
            Self::MfaRecoveryCodesRenew => "mfa.recovery_codes_renew",
            Self::RecordRepair => "record.repair",
            Self::StorageDrain => "storage.drain",
            Self::KeysRotate => "keys.rotate",
            Self::KeysRetire => "keys.retire",
        }
    }

    /// The action with this stored name, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// Shown in the patient's "who saw or asked for my records" log.
    pub const fn in_access_log(self) -> bool {
        matches!(
            self,
            Self::RecordDownload
                | Self::RecordDownloadDenied
                | Self::RecordDownloadFailed
                | Self::PatientRead
                | Self::RecordList
                | Self::RecordRead
                | Self::NotesRead
                | Self::HistoryRead
                | Self::CareAssign
                | Self::CareUnassign
                | Self::ConsentRequest
                | Self::ConsentGrant
                | Self::ConsentDeny
                | Self::ConsentRevoke
                | Self::ConsentCodeFailed
                | Self::ConsentLocked
                | Self::ConsentTotpLocked
                | Self::ConsentTotpUnlocked
                | Self::UserEmailChange
                | Self::UserEmailConfirm
                | Self::NoteAdd
                | Self::EmergencyStart
                | Self::EmergencyEnd
                | Self::EmergencyReview
        )
    }

    /// A read of health data: the patient's own reads of this kind stay out of their access
    /// log (it shows what others did), but they are on the ledger like every read.
    pub const fn is_read(self) -> bool {
        matches!(
            self,
            Self::RecordDownload
                | Self::PatientRead
                | Self::RecordList
                | Self::RecordRead
                | Self::NotesRead
                | Self::HistoryRead
        )
    }

    /// A refusal (shown as "not allowed" in the access log).
    pub const fn is_refusal(self) -> bool {
        matches!(
            self,
            Self::RecordDownloadDenied
                | Self::ConsentCodeFailed
                | Self::ConsentLocked
                | Self::ConsentTotpLocked
        )
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for a in Action::ALL {
            assert!(seen.insert(a.as_str()), "duplicate {a}");
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("record.steal"), None);
    }
}
