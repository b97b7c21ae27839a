ALTER TABLE users DROP COLUMN activated_at;
ALTER TABLE users DROP COLUMN temporary_used;
ALTER TABLE users DROP COLUMN temporary_expires_at;
