ALTER TABLE users DROP COLUMN email_changed_by_staff_at;
