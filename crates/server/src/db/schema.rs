//! The one diesel schema for both backends (see the migrations for the column conventions).

diesel::table! {
    /// Sign-in identities.
    users (id) {
        /// UUID.
        id -> Text,
        /// Lower-case, unique.
        email -> Text,
        /// `admin`, `doctor` or `patient`.
        role -> Text,
        /// Argon2id PHC string.
        password_hash -> Text,
        /// Deactivated users are refused.
        active -> Bool,
        /// Temporary password in use.
        must_change_password -> Bool,
        /// UTC.
        created_at -> Timestamp,
        /// UTC.
        updated_at -> Timestamp,
        /// When a staff-issued temporary password stops working (UTC); `NULL`: no expiry.
        temporary_expires_at -> Nullable<Timestamp>,
        /// The temporary password was used to sign in once (it works once).
        temporary_used -> Bool,
        /// When the owner first set their own password (UTC).
        activated_at -> Nullable<Timestamp>,
        /// When staff last changed the e-mail, until the owner confirms it (UTC).
        email_changed_by_staff_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// A doctor's professional profile.
    doctor_profiles (user_id) {
        /// The doctor's user id.
        user_id -> Text,
        /// Full name.
        full_name -> Text,
        /// Specialty.
        specialty -> Text,
        /// Licence number.
        licence_number -> Text,
        /// Phone.
        phone -> Nullable<Text>,
    }
}

diesel::table! {
    /// A patient's demographic and contact profile.
    patient_profiles (user_id) {
        /// The patient's user id.
        user_id -> Text,
        /// Medical record number.
        mrn -> Text,
        /// Given name.
        first_name -> Text,
        /// Family name.
        last_name -> Text,
        /// Date of birth.
        date_of_birth -> Date,
        /// `female`, `male`, `other`, `unknown`.
        sex -> Text,
        /// Phone.
        phone -> Nullable<Text>,
        /// Street address.
        address -> Nullable<Text>,
        /// City.
        city -> Nullable<Text>,
        /// State or region.
        state -> Nullable<Text>,
        /// Postal code.
        postal_code -> Nullable<Text>,
        /// `A+` ... `O-`.
        blood_group -> Nullable<Text>,
        /// Centimetres.
        height_cm -> Nullable<Double>,
        /// Kilograms.
        weight_kg -> Nullable<Double>,
        /// Free text.
        allergies -> Nullable<Text>,
        /// Free text.
        emergency_contact -> Nullable<Text>,
    }
}

diesel::table! {
    /// Which doctor has which patient in their care.
    care (patient_id, doctor_id) {
        /// Patient user id.
        patient_id -> Text,
        /// Doctor user id.
        doctor_id -> Text,
        /// UTC.
        created_at -> Timestamp,
        /// How the care began: `admin`, `creator` or `patient`.
        origin -> Text,
    }
}

diesel::table! {
    /// One per sign-in; refresh tokens rotate within it.
    sessions (id) {
        /// UUID, also the `sid` claim of access tokens.
        id -> Text,
        /// Owner.
        user_id -> Text,
        /// UTC.
        created_at -> Timestamp,
        /// Absolute end of the session (UTC).
        expires_at -> Timestamp,
        /// Set when revoked (logout, reuse, password change, deactivation).
        revoked_at -> Nullable<Timestamp>,
        /// When the password was last confirmed in this session (sign-in or
        /// re-authentication), for the "recently authenticated" rule (UTC).
        authenticated_at -> Nullable<Timestamp>,
        /// The last request seen in this session (written at most about once a minute), for
        /// the idle timeout; `None` until the first request after sign-in (UTC).
        last_activity_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Refresh tokens by SHA-256.
    refresh_tokens (token_hash) {
        /// Hex SHA-256 of the opaque token.
        token_hash -> Text,
        /// Session it belongs to.
        session_id -> Text,
        /// UTC.
        created_at -> Timestamp,
        /// Set when spent.
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Failed sign-ins per email hash.
    login_attempts (email_hash) {
        /// Hex SHA-256 of the normalised email.
        email_hash -> Text,
        /// Consecutive failures.
        failures -> BigInt,
        /// UTC.
        last_failure -> Timestamp,
        /// No sign-in before this time (UTC).
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Per-patient data key (wrapped by the key ring) for small encrypted fields.
    patient_keys (patient_id) {
        /// The patient's user id.
        patient_id -> Text,
        /// KEK that wrapped it.
        kek_id -> Text,
        /// Wrapped DEK.
        wrapped_dek -> Binary,
        /// UTC.
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Uploaded records: metadata, engine manifest, wrapped data key.
    records (id) {
        /// UUID.
        id -> Text,
        /// Owner.
        patient_id -> Text,
        /// Who uploaded it.
        uploaded_by -> Text,
        /// Title.
        title -> Text,
        /// Category wire name.
        category -> Text,
        /// Date of the report.
        report_date -> Date,
        /// Notes sealed with the patient key.
        notes_enc -> Nullable<Binary>,
        /// Sanitised file name.
        file_name -> Text,
        /// Detected content type.
        content_type -> Text,
        /// Plaintext bytes.
        size_bytes -> BigInt,
        /// SHA-256 of the plaintext (hex).
        sha256 -> Text,
        /// Manifest root hash (hex).
        root_hash -> Text,
        /// Engine manifest JSON, until the shards are purged.
        manifest -> Nullable<Text>,
        /// KEK id of the wrapped DEK (NULL once shredded).
        kek_id -> Nullable<Text>,
        /// Wrapped DEK (NULL once shredded).
        wrapped_dek -> Nullable<Binary>,
        /// UTC.
        created_at -> Timestamp,
        /// Crypto-shredded at.
        deleted_at -> Nullable<Timestamp>,
        /// Shards removed at.
        purged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Doctors' requests for access to a patient's records.
    access_requests (id) {
        /// UUID.
        id -> Text,
        /// Requesting doctor.
        doctor_id -> Text,
        /// Patient asked.
        patient_id -> Text,
        /// One record or NULL for all.
        record_id -> Nullable<Text>,
        /// Reason.
        reason -> Text,
        /// Grant duration asked for.
        duration_hours -> Integer,
        /// Status wire name.
        status -> Text,
        /// Wrong codes so far.
        failed_attempts -> Integer,
        /// Per-request code sealed with the patient key.
        code_enc -> Binary,
        /// Code expiry (UTC).
        code_expires_at -> Timestamp,
        /// Resulting grant.
        grant_id -> Nullable<Text>,
        /// UTC.
        created_at -> Timestamp,
        /// UTC.
        decided_at -> Nullable<Timestamp>,
        /// Whether the patient's visit notes are asked for too.
        include_notes -> Bool,
        /// Purpose wire name.
        purpose -> Text,
    }
}

diesel::table! {
    /// Live or past permissions to download.
    grants (id) {
        /// UUID.
        id -> Text,
        /// Originating request.
        request_id -> Text,
        /// Doctor allowed.
        doctor_id -> Text,
        /// Patient concerned.
        patient_id -> Text,
        /// One record or NULL for all.
        record_id -> Nullable<Text>,
        /// UTC.
        created_at -> Timestamp,
        /// UTC.
        expires_at -> Timestamp,
        /// Download limit.
        max_downloads -> Integer,
        /// Downloads used.
        downloads_used -> Integer,
        /// UTC.
        revoked_at -> Nullable<Timestamp>,
        /// Who revoked.
        revoked_by -> Nullable<Text>,
        /// Whether the patient's visit notes are covered too.
        include_notes -> Bool,
    }
}

diesel::table! {
    /// Patients' authenticator secrets, sealed with the patient key.
    totp_secrets (patient_id) {
        /// Patient.
        patient_id -> Text,
        /// Sealed secret.
        secret_enc -> Binary,
        /// Enrolment confirmed with a valid code.
        confirmed -> Bool,
        /// Last accepted time step (replay protection).
        last_step -> Nullable<BigInt>,
        /// UTC.
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Timestamped events counted for rate limits.
    rate_events (id) {
        /// Row id.
        id -> BigInt,
        /// What is limited, e.g. `redeem:<doctor id>`.
        key -> Text,
        /// UTC.
        at -> Timestamp,
    }
}

diesel::table! {
    /// Doctors' visit notes; the body is sealed with the patient key.
    visit_notes (id) {
        /// UUID.
        id -> Text,
        /// Patient.
        patient_id -> Text,
        /// Author.
        doctor_id -> Text,
        /// Date of the visit.
        visit_date -> Date,
        /// Sealed JSON body.
        body_enc -> Binary,
        /// UTC.
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// The tamper-evident hash chain.
    ledger (seq) {
        /// Position, from 1.
        seq -> BigInt,
        /// UTC, microseconds.
        at -> Timestamp,
        /// Acting user id.
        actor -> Nullable<Text>,
        /// Action name.
        action -> Text,
        /// Subject reference.
        subject -> Text,
        /// Payload JSON text (ids and hashes only).
        payload -> Text,
        /// Previous hash (hex).
        prev_hash -> Text,
        /// This hash (hex).
        hash -> Text,
        /// Patient concerned (index for the access log; not hashed).
        patient_id -> Nullable<Text>,
    }
}

diesel::joinable!(doctor_profiles -> users (user_id));
diesel::joinable!(patient_profiles -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::table! {
    /// Wrong authenticator codes given for a patient's consent, per (patient, doctor).
    consent_totp_failures (patient_id, doctor_id) {
        /// The patient whose codes were tried.
        patient_id -> Text,
        /// The doctor who tried them.
        doctor_id -> Text,
        /// Wrong codes so far.
        failures -> Integer,
        /// The last wrong code (UTC).
        last_at -> Timestamp,
        /// When the doctor was locked out of the patient's codes (UTC).
        locked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Emergency (break-glass) accesses: a doctor's time-limited read access to a patient who
    /// cannot consent, each reviewed by an administrator.
    emergency_accesses (id) {
        /// UUID.
        id -> Text,
        /// The doctor who opened it.
        doctor_id -> Text,
        /// The patient.
        patient_id -> Text,
        /// Reason code (`EmergencyReason` wire name).
        reason -> Text,
        /// The doctor's justification, sealed with the patient key.
        justification_enc -> Binary,
        /// Opened (UTC).
        started_at -> Timestamp,
        /// Ends by itself at (UTC).
        expires_at -> Timestamp,
        /// Ended early or closed at expiry (UTC).
        ended_at -> Nullable<Timestamp>,
        /// `doctor` or `expiry`.
        ended_by -> Nullable<Text>,
        /// The reviewing administrator.
        reviewed_by -> Nullable<Text>,
        /// Reviewed (UTC).
        reviewed_at -> Nullable<Timestamp>,
        /// `justified` or `not_justified`.
        review_outcome -> Nullable<Text>,
        /// The reviewer's comment.
        review_comment -> Nullable<Text>,
    }
}

diesel::table! {
    /// A user's sign-in second factor: an authenticator app (TOTP).
    mfa_factors (user_id) {
        /// The account.
        user_id -> Text,
        /// Secret sealed with the account's data key.
        secret_enc -> Binary,
        /// Set when enrolment was confirmed with a first code (UTC).
        confirmed_at -> Nullable<Timestamp>,
        /// Last accepted time step (replay protection).
        last_step -> Nullable<BigInt>,
        /// UTC.
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Single-use recovery codes of a sign-in second factor, as SHA-256.
    mfa_recovery_codes (user_id, code_hash) {
        /// The account.
        user_id -> Text,
        /// SHA-256 hex of the normalised code.
        code_hash -> Text,
        /// Set when the code was spent (UTC).
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// One-time sign-in tokens: the pending second step of a sign-in whose password was right,
    /// and the e-mailed code that lifts a locked account.
    sign_in_tokens (token_hash) {
        /// SHA-256 hex of the token.
        token_hash -> Text,
        /// The account.
        user_id -> Text,
        /// UTC.
        expires_at -> Timestamp,
        /// Set when the token was spent (UTC).
        used_at -> Nullable<Timestamp>,
        /// `second_factor` or `unlock`.
        purpose -> Text,
    }
}

diesel::table! {
    /// Storage health of a record: its last scrub and any pending repair.
    record_storage (record_id) {
        /// The record.
        record_id -> Text,
        /// `healthy`, `misplaced`, `degraded`, `at_risk` or `lost`, as the last scrub left it.
        class -> Nullable<Text>,
        /// When the last scrub of the record ended (UTC).
        checked_at -> Nullable<Timestamp>,
        /// Set while a repair is queued: higher goes first (at risk before degraded).
        repair_priority -> Nullable<Integer>,
        /// When the pending repair was queued (UTC).
        repair_queued_at -> Nullable<Timestamp>,
        /// Why it was queued (`download`, `scrub`).
        repair_reason -> Nullable<Text>,
    }
}

diesel::joinable!(record_storage -> records (record_id));

diesel::allow_tables_to_appear_in_same_query!(
    record_storage,
    mfa_factors,
    mfa_recovery_codes,
    sign_in_tokens,
    emergency_accesses,
    consent_totp_failures,
    users,
    doctor_profiles,
    patient_profiles,
    care,
    sessions,
    refresh_tokens,
    login_attempts,
    patient_keys,
    records,
    access_requests,
    grants,
    totp_secrets,
    rate_events,
    visit_notes,
    ledger,
);

diesel::table! {
    /// Start-up tasks (data migrations in Rust) that have run.
    startup_tasks (name) {
        /// Task name.
        name -> Text,
        /// UTC.
        done_at -> Timestamp,
    }
}
