-- Accounts: users, role profiles, care relations, refresh sessions, login throttling.
-- Conventions shared with SQLite: ids TEXT (UUID), timestamps TIMESTAMP (UTC), BOOLEAN,
-- BIGINT counters, binary as BLOB/BLOB.

CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    email                TEXT NOT NULL UNIQUE,
    role                 TEXT NOT NULL CHECK (role IN ('admin', 'doctor', 'patient')),
    password_hash        TEXT NOT NULL,
    active               BOOLEAN NOT NULL,
    must_change_password BOOLEAN NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE INDEX users_role ON users (role, created_at);

CREATE TABLE doctor_profiles (
    user_id        TEXT PRIMARY KEY REFERENCES users(id),
    full_name      TEXT NOT NULL,
    specialty      TEXT NOT NULL,
    licence_number TEXT NOT NULL,
    phone          TEXT
);

CREATE TABLE patient_profiles (
    user_id           TEXT PRIMARY KEY REFERENCES users(id),
    mrn               TEXT NOT NULL UNIQUE,
    first_name        TEXT NOT NULL,
    last_name         TEXT NOT NULL,
    date_of_birth     DATE NOT NULL,
    sex               TEXT NOT NULL,
    phone             TEXT,
    address           TEXT,
    city              TEXT,
    state             TEXT,
    postal_code       TEXT,
    blood_group       TEXT,
    height_cm         DOUBLE,
    weight_kg         DOUBLE,
    allergies         TEXT,
    emergency_contact TEXT
);

CREATE TABLE care (
    patient_id TEXT NOT NULL REFERENCES users(id),
    doctor_id  TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (patient_id, doctor_id)
);
CREATE INDEX care_doctor ON care (doctor_id);

-- One row per sign-in; refresh tokens rotate within it. Revoking it ends every token of it.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Refresh tokens, by SHA-256 (hex) of the token. `used_at` set = spent.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    created_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Failed sign-ins per email (SHA-256 hex of the normalised address), known or not, so a
-- lock looks the same for existing and unknown accounts.
CREATE TABLE login_attempts (
    email_hash   TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL,
    last_failure TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);
