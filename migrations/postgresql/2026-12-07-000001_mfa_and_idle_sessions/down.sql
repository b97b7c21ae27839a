DROP TABLE mfa_challenges;
DROP TABLE mfa_recovery_codes;
DROP TABLE mfa_factors;
ALTER TABLE sessions DROP COLUMN last_activity_at;
