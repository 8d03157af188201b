-- 003_import_keys: smaller registry indexes, so that a large import
-- touches fewer index pages per row.
--
-- EK digests are random: every insert into an index on them lands on a
-- random page.  ek_key keeps the digest's first 32 bits as a signed
-- integer: its index is a fraction of one on the 64-digit text, so it
-- stays in a bulk writer's cache, and a lookup by ek_key compares the
-- whole digest after (two devices may share a key).  Directory objects
-- are listed per tenant in id order (ids are time-ordered UUIDv7, so that
-- index grows at its end); nothing finds them by ZTDID, which
-- device_identities carries.

ALTER TABLE device_identities ADD COLUMN ek_key INTEGER;
CREATE INDEX device_identities_ek_key ON device_identities (ek_key);
DROP INDEX directory_devices_ztd;
DROP INDEX directory_devices_tenant;
CREATE INDEX directory_devices_tenant ON directory_devices (tenant_id, id);
