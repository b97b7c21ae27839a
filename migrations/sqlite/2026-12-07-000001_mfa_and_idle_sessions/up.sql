-- Sessions that end (issue 12 part 2): the last request seen in a session, written at most
-- about once a minute, for the idle timeout. NULL means no request since sign-in.
ALTER TABLE sessions ADD COLUMN last_activity_at TIMESTAMP;

-- Sign-in second factor (issue 12 part 1): one authenticator app (TOTP) per account, its
-- secret sealed with the account's data key (patient_key.rs), separate from a patient's
-- consent authenticator (totp_secrets).
CREATE TABLE mfa_factors (
    user_id       TEXT PRIMARY KEY REFERENCES users(id),
    secret_enc    BLOB NOT NULL,
    confirmed_at  TIMESTAMP,
    last_step     BIGINT,
    created_at    TIMESTAMP NOT NULL
);

-- Single-use recovery codes, stored only as SHA-256 (80 random bits each).
CREATE TABLE mfa_recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users(id),
    code_hash  TEXT NOT NULL,
    used_at    TIMESTAMP,
    PRIMARY KEY (user_id, code_hash)
);

-- The pending second step of a sign-in whose password was right, stored only as SHA-256.
CREATE TABLE mfa_challenges (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id);
