-- On SQLite a write transaction holds the database's one write lock
-- (BEGIN IMMEDIATE) from an import batch's lookup to its inserts, so the
-- lookup alone keeps an EK to one device; the full-digest unique index
-- is not needed.  PostgreSQL keeps it: its writers run concurrently.
DROP INDEX device_identities_ek;
