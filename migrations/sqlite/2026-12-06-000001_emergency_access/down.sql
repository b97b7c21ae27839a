DROP TABLE emergency_accesses;
ALTER TABLE sessions DROP COLUMN authenticated_at;
