-- Consent that keeps its promise (issue 11): care says how it began, requests and grants say
-- whether they cover visit notes and why they were asked for, and one-time start-up tasks
-- written in Rust record that they ran.

-- How a doctor came into a patient's care: 'admin' (assigned), 'creator' (the doctor created
-- the patient's account) or 'patient' (the patient added them). Consent never creates care.
ALTER TABLE care ADD COLUMN origin TEXT NOT NULL DEFAULT 'admin';

-- What an access request asks for besides records: the patient's visit notes; and its purpose.
ALTER TABLE access_requests ADD COLUMN include_notes BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE access_requests ADD COLUMN purpose TEXT NOT NULL DEFAULT 'treatment';
ALTER TABLE grants ADD COLUMN include_notes BOOLEAN NOT NULL DEFAULT FALSE;

-- Start-up tasks (data migrations in Rust) that must run once.
CREATE TABLE startup_tasks (
    name    TEXT PRIMARY KEY,
    done_at TIMESTAMP NOT NULL
);
