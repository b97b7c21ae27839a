DROP TABLE record_storage;
