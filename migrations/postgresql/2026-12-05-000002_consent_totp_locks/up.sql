-- Wrong authenticator (TOTP) codes given for a patient's consent, per (patient, doctor):
-- they lock that doctor out of the patient's codes, and across doctors they add a growing
-- per-patient delay (consent/totp_lock.rs). The patient can lift both.
CREATE TABLE consent_totp_failures (
    patient_id TEXT NOT NULL REFERENCES users(id),
    doctor_id  TEXT NOT NULL REFERENCES users(id),
    failures   INTEGER NOT NULL,
    last_at    TIMESTAMP NOT NULL,
    locked_at  TIMESTAMP,
    PRIMARY KEY (patient_id, doctor_id)
);
CREATE INDEX consent_totp_failures_patient ON consent_totp_failures (patient_id, last_at);
