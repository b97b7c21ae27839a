-- Records, consent, clinical history and the ledger.

-- Per-patient data key (wrapped by the key ring) for small encrypted fields:
-- visit notes, record notes, TOTP secret, per-request codes.
CREATE TABLE patient_keys (
    patient_id  TEXT PRIMARY KEY REFERENCES users(id),
    kek_id      TEXT NOT NULL,
    wrapped_dek BLOB NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE records (
    id          TEXT PRIMARY KEY,
    patient_id  TEXT NOT NULL REFERENCES users(id),
    uploaded_by TEXT NOT NULL REFERENCES users(id),
    title       TEXT NOT NULL,
    category    TEXT NOT NULL,
    report_date DATE NOT NULL,
    notes_enc   BLOB,
    file_name   TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes  BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    root_hash   TEXT NOT NULL,
    -- Engine manifest (JSON). Kept after deletion until the collector removed the shards.
    manifest    TEXT,
    -- NULL once the record is deleted: crypto-shredding.
    kek_id      TEXT,
    wrapped_dek BLOB,
    created_at  TIMESTAMP NOT NULL,
    deleted_at  TIMESTAMP,
    purged_at   TIMESTAMP
);
CREATE INDEX records_patient ON records (patient_id, deleted_at);

CREATE TABLE access_requests (
    id              TEXT PRIMARY KEY,
    doctor_id       TEXT NOT NULL REFERENCES users(id),
    patient_id      TEXT NOT NULL REFERENCES users(id),
    record_id       TEXT REFERENCES records(id),
    reason          TEXT NOT NULL,
    duration_hours  INTEGER NOT NULL,
    status          TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    code_enc        BLOB NOT NULL,
    code_expires_at TIMESTAMP NOT NULL,
    grant_id        TEXT,
    created_at      TIMESTAMP NOT NULL,
    decided_at      TIMESTAMP
);
CREATE INDEX access_requests_doctor ON access_requests (doctor_id, created_at);
CREATE INDEX access_requests_patient ON access_requests (patient_id, created_at);

CREATE TABLE grants (
    id             TEXT PRIMARY KEY,
    request_id     TEXT NOT NULL REFERENCES access_requests(id),
    doctor_id      TEXT NOT NULL REFERENCES users(id),
    patient_id     TEXT NOT NULL REFERENCES users(id),
    record_id      TEXT REFERENCES records(id),
    created_at     TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP NOT NULL,
    max_downloads  INTEGER NOT NULL,
    downloads_used INTEGER NOT NULL DEFAULT 0,
    revoked_at     TIMESTAMP,
    revoked_by     TEXT
);
CREATE INDEX grants_doctor_patient ON grants (doctor_id, patient_id);
CREATE INDEX grants_patient ON grants (patient_id);

CREATE TABLE totp_secrets (
    patient_id  TEXT PRIMARY KEY REFERENCES users(id),
    secret_enc  BLOB NOT NULL,
    confirmed   BOOLEAN NOT NULL DEFAULT 0,
    last_step   BIGINT,
    created_at  TIMESTAMP NOT NULL
);

-- Events counted for rate limits (e.g. a doctor's failed code redemptions), by key and time.
CREATE TABLE rate_events (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    key  TEXT NOT NULL,
    at   TIMESTAMP NOT NULL
);
CREATE INDEX rate_events_key_at ON rate_events (key, at);

CREATE TABLE visit_notes (
    id          TEXT PRIMARY KEY,
    patient_id  TEXT NOT NULL REFERENCES users(id),
    doctor_id   TEXT NOT NULL REFERENCES users(id),
    visit_date  DATE NOT NULL,
    body_enc    BLOB NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX visit_notes_patient ON visit_notes (patient_id, visit_date);

-- The tamper-evident ledger. `patient_id` is an index for the patient's access log only;
-- the hashed content is (seq, at, actor, action, subject, payload).
CREATE TABLE ledger (
    seq        BIGINT PRIMARY KEY,
    at         TIMESTAMP NOT NULL,
    actor      TEXT,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    payload    TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    patient_id TEXT
);
CREATE INDEX ledger_patient ON ledger (patient_id, seq);
CREATE INDEX ledger_action ON ledger (action, seq);
CREATE INDEX ledger_subject ON ledger (subject, seq);
