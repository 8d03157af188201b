-- 001_init, PostgreSQL part (runs after 001_init.sql).
--
-- The one thing the dialects cannot say alike: a row number the database
-- assigns.  SQLite does it for `seq INTEGER PRIMARY KEY` (the rowid);
-- PostgreSQL needs an identity column, which SQLite cannot parse.
ALTER TABLE audit_events
	ALTER COLUMN seq TYPE BIGINT,
	ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY;
