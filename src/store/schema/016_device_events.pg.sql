-- 016_device_events, PostgreSQL part (runs after 016_device_events.sql):
-- the row number the database assigns, as for audit_events (001_init).
ALTER TABLE device_events
	ALTER COLUMN seq TYPE BIGINT,
	ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY;
