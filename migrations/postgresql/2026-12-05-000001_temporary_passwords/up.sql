-- Staff cannot quietly become the patient (issue 11 part 6): a temporary password issued by
-- staff expires (NULL: never, for the bootstrap admin's) and works for one sign-in; the
-- account's activation (its first own password) is recorded and shown to its owner.
ALTER TABLE users ADD COLUMN temporary_expires_at TIMESTAMP;
ALTER TABLE users ADD COLUMN temporary_used BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN activated_at TIMESTAMP;
