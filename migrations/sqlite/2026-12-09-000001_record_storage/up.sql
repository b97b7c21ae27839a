-- Storage health of each record (issue 13): the class its last scrub found, when, and a
-- pending repair (queued by a download that met erasures, or by a scrub). A record without a
-- row has never been scrubbed.
CREATE TABLE record_storage (
    record_id       TEXT PRIMARY KEY REFERENCES records(id),
    class           TEXT,
    checked_at      TIMESTAMP,
    repair_priority INTEGER,
    repair_queued_at TIMESTAMP,
    repair_reason   TEXT
);
CREATE INDEX record_storage_queue ON record_storage (repair_priority, repair_queued_at);
CREATE INDEX record_storage_checked ON record_storage (checked_at);
