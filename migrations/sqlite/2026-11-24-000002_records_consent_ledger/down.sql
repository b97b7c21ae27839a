DROP TABLE ledger;
DROP TABLE visit_notes;
DROP TABLE rate_events;
DROP TABLE totp_secrets;
DROP TABLE grants;
DROP TABLE access_requests;
DROP TABLE records;
DROP TABLE patient_keys;
