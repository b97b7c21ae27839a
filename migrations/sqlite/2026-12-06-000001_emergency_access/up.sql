-- Emergency access (break-glass, issue 11 part 5) and the one "recently authenticated" rule
-- it needs (auth/recent.rs): a session remembers when its password was last confirmed.
ALTER TABLE sessions ADD COLUMN authenticated_at TIMESTAMP;

-- A doctor's time-limited read access to a patient who cannot consent. The justification is
-- sealed with the patient's key (patient_key.rs), like consent codes and record notes.
CREATE TABLE emergency_accesses (
    id                TEXT PRIMARY KEY,
    doctor_id         TEXT NOT NULL REFERENCES users(id),
    patient_id        TEXT NOT NULL REFERENCES users(id),
    reason            TEXT NOT NULL,
    justification_enc BLOB NOT NULL,
    started_at        TIMESTAMP NOT NULL,
    expires_at        TIMESTAMP NOT NULL,
    ended_at          TIMESTAMP,
    ended_by          TEXT,
    reviewed_by       TEXT REFERENCES users(id),
    reviewed_at       TIMESTAMP,
    review_outcome    TEXT,
    review_comment    TEXT
);
CREATE INDEX emergency_accesses_doctor ON emergency_accesses (doctor_id, started_at);
CREATE INDEX emergency_accesses_patient ON emergency_accesses (patient_id, started_at);
CREATE INDEX emergency_accesses_unreviewed ON emergency_accesses (reviewed_at, started_at);
