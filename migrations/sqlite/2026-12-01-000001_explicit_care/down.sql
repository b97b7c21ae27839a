DROP TABLE startup_tasks;
ALTER TABLE grants DROP COLUMN include_notes;
ALTER TABLE access_requests DROP COLUMN purpose;
ALTER TABLE access_requests DROP COLUMN include_notes;
ALTER TABLE care DROP COLUMN origin;
