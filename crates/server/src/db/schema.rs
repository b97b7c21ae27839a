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

diesel::joinable!(doctor_profiles -> users (user_id));
diesel::joinable!(patient_profiles -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    doctor_profiles,
    patient_profiles,
    care,
    sessions,
    refresh_tokens,
    login_attempts,
);
